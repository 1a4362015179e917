import { z } from "zod";

export const RISKS = ["critical", "high", "medium", "low", "info"] as const;
export type Risk = (typeof RISKS)[number];

/** Categories an integration can subscribe to (docs/api.md#integrations). Reports are listed by frequency. */
export const CATEGORIES = ["system", "security_issue", "scope_change", "incident", "hit", "reports"] as const;
export type Category = (typeof CATEGORIES)[number];

/** An integration's `events` object. Absent keys mean "not subscribed". */
export const EventSubscriptionsSchema = z
  .object({
    system: z.boolean().optional(),
    security_issue: z.array(z.enum(RISKS)).max(5).optional(),
    scope_change: z.boolean().optional(),
    incident: z.boolean().optional(),
    hit: z.boolean().optional(),
    reports: z
      .array(z.enum(["daily", "weekly", "monthly"]))
      .max(3)
      .optional(),
  })
  .strict();
export type EventSubscriptions = z.infer<typeof EventSubscriptionsSchema>;

/** The minimum an event needs for matching. */
export interface MatchableEvent {
  type: "security_issue" | "hit" | "incident" | "scope_change" | "system";
  risk?: string | null;
}

/** Does an integration with these subscriptions get a notification for this event? */
export function subscribesTo(subscriptions: EventSubscriptions, event: MatchableEvent): boolean {
  switch (event.type) {
    case "security_issue":
      return !!event.risk && (subscriptions.security_issue ?? []).includes(event.risk as Risk);
    case "hit":
      return subscriptions.hit === true;
    case "incident":
      return subscriptions.incident === true;
    case "scope_change":
      return subscriptions.scope_change === true;
    case "system":
      return subscriptions.system === true;
  }
}

/** The categories a subscription object actually turns on (for validation against a channel). */
export function subscribedCategories(subscriptions: EventSubscriptions): Category[] {
  const on: Category[] = [];
  if (subscriptions.system) on.push("system");
  if (subscriptions.security_issue?.length) on.push("security_issue");
  if (subscriptions.scope_change) on.push("scope_change");
  if (subscriptions.incident) on.push("incident");
  if (subscriptions.hit) on.push("hit");
  if (subscriptions.reports?.length) on.push("reports");
  return on;
}
