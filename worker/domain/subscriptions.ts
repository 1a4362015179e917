import { z } from "zod";
import { type StoredEventType as EventType, REPORT_FREQUENCIES, type ReportFrequency } from "../db/schema";

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
    reports: z.array(z.enum(REPORT_FREQUENCIES)).max(3).optional(),
  })
  .strict();
export type EventSubscriptions = z.infer<typeof EventSubscriptionsSchema>;

/** The minimum an event needs for matching. */
export interface MatchableEvent {
  type: EventType;
  risk?: string | null;
}

/** A stored report, matched by its frequency. */
interface MatchableReport {
  type: "report";
  frequency: ReportFrequency;
}

/**
 * Does an integration with these subscriptions get a notification for this event or report? The
 * one matcher of every producer (docs/delivery.md#who-gets-what): fan-out, reports and the replay
 * of missed events (the account object filters the shards' rows with it).
 */
export function subscribesTo(subscriptions: EventSubscriptions, subject: MatchableEvent | MatchableReport): boolean {
  switch (subject.type) {
    case "security_issue":
      return !!subject.risk && (subscriptions.security_issue ?? []).includes(subject.risk as Risk);
    case "hit":
      return subscriptions.hit === true;
    case "incident":
      return subscriptions.incident === true;
    case "scope_change":
      return subscriptions.scope_change === true;
    case "system":
      return subscriptions.system === true;
    case "report":
      return (subscriptions.reports ?? []).includes(subject.frequency);
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
