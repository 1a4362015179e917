import type { SystemEventType } from "../../../worker/domain/system-events";
import { formatNumber } from "./format";
import type { EventFilters, EventType, GroupBy, Recurrence, Trigger, Weekday } from "./rule-shapes";

/** Triggers and silences in words, for lists and detail pages: "≥ 100 hits in 5 min per host". */

const EVENT_NOUNS: Record<EventType, [one: string, many: string]> = {
  security_issue: ["security issue", "security issues"],
  hit: ["hit", "hits"],
  incident: ["incident", "incidents"],
  scope_change: ["scope change", "scope changes"],
};

export const EVENT_TYPE_LABELS: Record<EventType, string> = {
  security_issue: "Security issues",
  hit: "Hits (attacks)",
  incident: "Incidents",
  scope_change: "Scope changes",
};

export const GROUP_BY_LABELS: Record<GroupBy, string> = {
  host: "host",
  attack_type: "attack type",
  source_ip: "source IP",
  node: "node",
};

export const WEEKDAY_LABELS: Record<Weekday, string> = {
  mon: "Mon",
  tue: "Tue",
  wed: "Wed",
  thu: "Thu",
  fri: "Fri",
  sat: "Sat",
  sun: "Sun",
};

/** Keyed by the Worker's system event types, so a new type fails the UI's type check until it is named. */
export const SYSTEM_TYPE_LABELS: Record<SystemEventType, string> = {
  user_created: "User added",
  user_deleted: "User removed",
  user_role_changed: "User's role changed",
  integration_created: "Integration added",
  integration_disabled: "Integration disabled",
  integration_enabled: "Integration enabled",
  integration_auto_disabled: "Integration disabled automatically",
  integration_deleted: "Integration deleted",
  node_created: "Node added",
  node_revoked: "Node token revoked",
  scheduled_report_failed: "Scheduled report failed",
  notifications_held_back: "Notifications held back",
  delivery_dead: "A delivery died after its last retry",
};

const systemTypeLabel = (type: string) => SYSTEM_TYPE_LABELS[type as SystemEventType] ?? type.replace(/_/g, " ");

/** Names of ids the viewer may resolve (admins); otherwise ids stay ids. */
export type NameOf = (id: string) => string | undefined;

/** "5 min", "1 h", "90 min", "7 d". */
export function durationText(minutes: number): string {
  if (minutes < 60 || minutes % 60 !== 0) return `${formatNumber(minutes)} min`;
  const hours = minutes / 60;
  return hours > 24 && hours % 24 === 0 ? `${hours / 24} d` : `${hours} h`;
}

/** What the filters count, by the one event type they name, else "events". */
function eventNoun(filters: EventFilters, count: number): string {
  const types = filters.event_types ?? [];
  const [one, many] = types.length === 1 ? EVENT_NOUNS[types[0]!] : ["event", "events"];
  return count === 1 ? one : many;
}

function groupText(groupBy: readonly GroupBy[]): string {
  return groupBy.length ? ` per ${groupBy.map((g) => GROUP_BY_LABELS[g]).join(" and ")}` : "";
}

export function conditionText(trigger: Pick<Trigger, "condition" | "filters" | "group_by">, nodeName: NameOf): string {
  const { condition, filters, group_by } = trigger;
  switch (condition.kind) {
    case "each_event":
      return `Each ${eventNoun(filters, 1)}${groupText(group_by)}`;
    case "threshold":
      return `≥ ${formatNumber(condition.count)} ${eventNoun(filters, condition.count)} in ${durationText(condition.window_minutes)}${groupText(group_by)}`;
    case "node_silence": {
      const who = condition.node_id === null ? "Any node" : `Node ${nodeName(condition.node_id) ?? condition.node_id}`;
      return `${who} silent for ${durationText(condition.silence_minutes)}`;
    }
    case "system_event":
      return condition.system_types.length
        ? `System events: ${condition.system_types.map(systemTypeLabel).join(", ")}`
        : "Any system event";
  }
}

export function throttleText(trigger: Pick<Trigger, "throttle_minutes" | "group_by">): string {
  if (trigger.throttle_minutes === 0) return "No throttle";
  return `At most once per ${durationText(trigger.throttle_minutes)}${trigger.group_by.length ? " per group" : ""}`;
}

/** One phrase per filter that is set; empty when the filters match every event. */
export function filterPhrases(filters: EventFilters, nodeName: NameOf): string[] {
  const list = (label: string, values: readonly (string | number)[] | undefined) =>
    values?.length ? `${label} ${values.join(", ")}` : null;
  return [
    filters.event_types?.length ? filters.event_types.map((t) => EVENT_NOUNS[t][1]).join(", ") : null,
    filters.min_risk ? `risk ≥ ${filters.min_risk}` : null,
    list("attack types", filters.attack_types),
    list("vulnerability types", filters.vuln_types),
    list("hosts", filters.hosts),
    list("paths", filters.path_prefixes),
    list("applications", filters.applications),
    list(
      "nodes",
      filters.node_ids?.map((id) => nodeName(id) ?? id),
    ),
    list("from", filters.source_ips),
    list("countries", filters.countries),
    filters.block_statuses?.length ? filters.block_statuses.join(" or ") : null,
    list("response", filters.response_statuses),
  ].filter((phrase): phrase is string => phrase !== null);
}

export function filtersText(filters: EventFilters, nodeName: NameOf): string {
  return filterPhrases(filters, nodeName).join(" · ") || "Every event";
}

/** "Every Mon, Fri 18:00–22:00", with a note when the window runs past midnight. */
export function recurrenceText(recurrence: Recurrence): string {
  const days = Object.entries(WEEKDAY_LABELS)
    .filter(([day]) => recurrence.days.includes(day as Weekday))
    .map(([, label]) => label);
  const overnight = recurrence.to <= recurrence.from ? " (into the next day)" : "";
  return `Every ${days.join(", ")} ${recurrence.from}–${recurrence.to}${overnight}`;
}
