import type { SystemEventType } from "../../../worker/domain/system-events";

/**
 * The inputs of the triggers and silences API and the options the forms offer; the records the
 * API answers are the routes' own types (triggers-api.ts checks these against them). Type imports
 * only, so the words of rule-text.ts are testable on their own.
 */
export const EVENT_TYPES = ["security_issue", "hit", "incident", "scope_change"] as const;
export const RISKS = ["info", "low", "medium", "high", "critical"] as const;
export const BLOCK_STATUSES = ["blocked", "monitored"] as const;
export const GROUP_BY = ["host", "attack_type", "source_ip", "node"] as const;
export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export const CONDITION_KINDS = ["each_event", "threshold", "node_silence", "system_event"] as const;

export type EventType = (typeof EVENT_TYPES)[number];
export type Risk = (typeof RISKS)[number];
export type BlockStatus = (typeof BLOCK_STATUSES)[number];
export type GroupBy = (typeof GROUP_BY)[number];
export type Weekday = (typeof WEEKDAYS)[number];
export type ConditionKind = (typeof CONDITION_KINDS)[number];

/** Which events a trigger or silence applies to; an absent or empty list means "any". */
export interface EventFilters {
  event_types?: EventType[];
  min_risk?: Risk;
  attack_types?: string[];
  vuln_types?: string[];
  hosts?: string[];
  path_prefixes?: string[];
  applications?: string[];
  node_ids?: string[];
  source_ips?: string[];
  countries?: string[];
  block_statuses?: BlockStatus[];
  response_statuses?: number[];
}

export type TriggerCondition =
  | { kind: "each_event" }
  | { kind: "threshold"; count: number; window_minutes: number }
  | { kind: "node_silence"; node_id: string | null; silence_minutes: number }
  | { kind: "system_event"; system_types: SystemEventType[] };

export interface TriggerInput {
  name: string;
  enabled: boolean;
  condition: TriggerCondition;
  filters: EventFilters;
  group_by: GroupBy[];
  throttle_minutes: number;
  integration_ids: string[];
}

export interface Trigger extends TriggerInput {
  id: string;
  created_at: string;
  updated_at: string;
  created_by: string;
}

export interface TriggerPreview {
  window_hours: number;
  events_scanned: number;
  would_fire: number;
  groups: { key: string; fired: number }[];
}

/** Weekly, in the account's time zone; `to` at or before `from` crosses midnight. */
export interface Recurrence {
  days: Weekday[];
  from: string;
  to: string;
}

export interface SilenceInput {
  name: string;
  comment?: string;
  filters: EventFilters;
  starts_at: string;
  ends_at: string;
  recurrence: Recurrence | null;
}

export type SilenceState = "scheduled" | "active" | "expired";

export interface Silence extends SilenceInput {
  id: string;
  state: SilenceState;
  silenced_count: number;
  created_at: string;
  updated_at: string;
  created_by: string;
}

export interface SilencePreview {
  window_hours: number;
  events_scanned: number;
  would_mute: number;
}
