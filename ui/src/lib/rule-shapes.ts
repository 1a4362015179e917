import type { EventFilters } from "../../../worker/domain/event-filters";
import type { Recurrence, Silence, SilenceState, Weekday } from "../../../worker/domain/silences";
import type { GroupByField, Trigger, TriggerCondition } from "../../../worker/domain/triggers";

/**
 * The triggers and silences API's shapes as the Worker's zod schemas infer them, and the options
 * the forms offer in the order they show them. Type imports only: nothing of worker/ reaches the
 * bundle, and the words of rule-text.ts stay testable on their own. The records the API answers
 * are the routes' own types (triggers-api.ts checks them against these).
 */
export type { EventFilters, Recurrence, Silence, SilenceState, Trigger, TriggerCondition, Weekday };

export type EventType = NonNullable<EventFilters["event_types"]>[number];
export type Risk = NonNullable<EventFilters["min_risk"]>;
export type BlockStatus = NonNullable<EventFilters["block_statuses"]>[number];
export type GroupBy = GroupByField;
export type ConditionKind = TriggerCondition["kind"];

/** What the forms send: the record without what the server sets. */
export type TriggerInput = Omit<Trigger, "id" | "created_at" | "updated_at" | "created_by">;
export type SilenceInput = Omit<
  Silence,
  "id" | "state" | "silenced_count" | "created_at" | "updated_at" | "created_by"
>;

export const EVENT_TYPES = [
  "security_issue",
  "hit",
  "incident",
  "scope_change",
] as const satisfies readonly EventType[];
export const RISKS = ["info", "low", "medium", "high", "critical"] as const satisfies readonly Risk[];
export const BLOCK_STATUSES = ["blocked", "monitored"] as const satisfies readonly BlockStatus[];
export const GROUP_BY = ["host", "attack_type", "source_ip", "node"] as const satisfies readonly GroupBy[];
export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const satisfies readonly Weekday[];

/** Compiles only when the list names every value the Worker accepts (a new one must be offered). */
type NamesAll<Union, List extends readonly Union[]> = [Exclude<Union, List[number]>] extends [never] ? true : false;
type Holds<T extends true> = T;
export type _OptionListsComplete = [
  Holds<NamesAll<EventType, typeof EVENT_TYPES>>,
  Holds<NamesAll<Risk, typeof RISKS>>,
  Holds<NamesAll<BlockStatus, typeof BLOCK_STATUSES>>,
  Holds<NamesAll<GroupBy, typeof GROUP_BY>>,
  Holds<NamesAll<Weekday, typeof WEEKDAYS>>,
];
