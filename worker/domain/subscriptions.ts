import { and, eq, inArray, isNull, or, type SQL } from "drizzle-orm";
import { z } from "zod";
import {
  EVENT_TYPES,
  type StoredEventType as EventType,
  events,
  REPORT_FREQUENCIES,
  type ReportFrequency,
} from "../db/schema";

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
export interface MatchableReport {
  type: "report";
  frequency: ReportFrequency;
}

/**
 * Does an integration with these subscriptions get a notification for this event or report? The
 * one matcher of every producer (docs/delivery.md#who-gets-what): fan-out, reports, and, through
 * `subscribedEventsCondition` below, the replay of missed events.
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

/**
 * `subscribesTo` as a SQL condition on the events table, generated from it: every event type is
 * tried with every risk (and none), so the two cannot disagree (test/worker/subscriptions.test.ts
 * checks every combination against SQLite). Null when no event is subscribed at all.
 */
export function subscribedEventsCondition(subscriptions: EventSubscriptions): SQL | null {
  const parts: SQL[] = [];
  const anyRisk: EventType[] = [];
  for (const type of EVENT_TYPES) {
    const risks = RISKS.filter((risk) => subscribesTo(subscriptions, { type, risk }));
    const unrated = subscribesTo(subscriptions, { type, risk: null });
    if (unrated && risks.length === RISKS.length) anyRisk.push(type);
    else if (risks.length > 0 || unrated) {
      const byRisk = [
        ...(risks.length > 0 ? [inArray(events.risk, risks)] : []),
        ...(unrated ? [isNull(events.risk)] : []),
      ];
      parts.push(and(eq(events.type, type), or(...byRisk)) as SQL);
    }
  }
  if (anyRisk.length > 0) parts.unshift(inArray(events.type, anyRisk));
  if (parts.length === 0) return null;
  return parts.length === 1 ? (parts[0] as SQL) : (or(...parts) as SQL);
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
