import type { StoredEventType } from "../db/schema";
import { uiLink } from "../lib/links";
import { iso, utcMinute } from "../lib/time";
import {
  groupKeyOf,
  incidentOf,
  nodeSilenceIncidentKey,
  stableId,
  type TriggerGroup,
  thresholdIncidentKey,
  triggerEventIncidentKey,
} from "./incident-key";
import type { Notification } from "./notification";
import type { Risk } from "./subscriptions";

/**
 * The notifications triggers send (docs/channels.md#trigger-notifications): built once by the
 * evaluator and stored in each target's outbox, rendered by every channel like any other.
 * Pure: the same input gives the same notification (ids included), so a rebuilt notice is the same notice.
 */

export interface TriggerRef {
  id: string;
  name: string;
}

export interface TopEntry {
  key: string;
  count: number;
}

/** Where the notification goes: the account's name and the deployment's UI address. */
export interface NotificationContext {
  accountName: string;
  publicUrl: string;
}

export interface ThresholdInput extends NotificationContext {
  trigger: TriggerRef;
  /** The group that crossed ({} for a trigger without group-by). */
  group: TriggerGroup;
  count: number;
  threshold: number;
  /** The window the count belongs to (epoch ms); its start also keys the incident: one per window. */
  windowStart: number;
  windowEnd: number;
  /** When the count crossed the threshold (defaults to windowEnd). */
  firedAt?: number;
  /** The trigger's event-type filter (empty or absent: every type): names what was counted. */
  eventTypes?: readonly StoredEventType[];
  /** The trigger's filters the events list can apply too, so the link shows the same events. */
  filters?: { attackTypes?: readonly string[]; hosts?: readonly string[]; minRisk?: Risk };
  /** The window's busiest values with their counts, any length (the notice keeps the top 5). */
  top: { hosts: TopEntry[]; attackTypes: TopEntry[]; sourceIps: TopEntry[]; countries: TopEntry[] };
}

const TOP_LIMIT = 5;

const NOUNS: Record<StoredEventType, [one: string, many: string]> = {
  hit: ["hit", "hits"],
  incident: ["incident", "incidents"],
  security_issue: ["security issue", "security issues"],
  scope_change: ["scope change", "scope changes"],
  system: ["system event", "system events"],
};

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** "5 minutes", "1 hour", "90 minutes", "24 hours". */
export function windowWords(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes >= 60 && minutes % 60 === 0) return plural(minutes / 60, "hour", "hours");
  if (minutes >= 1) return plural(minutes, "minute", "minutes");
  return plural(Math.round(ms / 1000), "second", "seconds");
}

/** "47 min", "1 h 12 min", "2 d 3 h": how long a node was silent. */
export function durationWords(ms: number): string {
  const minutes = Math.floor(Math.max(0, ms) / 60_000);
  if (minutes < 1) return "less than a minute";
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return hours % 24 ? `${Math.floor(hours / 24)} d ${hours % 24} h` : `${Math.floor(hours / 24)} d`;
}

/** "host=pay.example.com, attack_type=sqli"; "none" for an ungrouped trigger. */
export function groupWords(group: TriggerGroup): string {
  return groupKeyOf(group).split(",").join(", ") || "none";
}

function topOf(entries: readonly TopEntry[]): TopEntry[] {
  return [...entries]
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .slice(0, TOP_LIMIT)
    .map(({ key, count }) => ({ key, count }));
}

const topWords = (entries: TopEntry[]) => entries.map((e) => `${e.key} ${e.count}`).join(", ");

/** The one value of a filter, when it has exactly one the events list can match exactly. */
function single(values: readonly string[] | undefined): string | undefined {
  return values?.length === 1 && !values[0]!.startsWith("*.") ? values[0] : undefined;
}

/**
 * The events list (ui/src/pages/events.tsx) filtered like the trigger, as far as the list can
 * filter: one type, an exact risk (only "critical" is a minimum the list can express), one attack
 * type, one exact host, and the window (`to` is exclusive there, like the window's end).
 */
export function thresholdEventsLink(input: ThresholdInput): string {
  const params = new URLSearchParams();
  const type = input.eventTypes?.length === 1 ? input.eventTypes[0] : undefined;
  if (type) params.set("type", type);
  if (input.filters?.minRisk === "critical") params.set("risk", "critical");
  const attackType = input.group.attack_type ?? single(input.filters?.attackTypes);
  if (attackType) params.set("attack_type", attackType);
  const host = input.group.host ?? single(input.filters?.hosts);
  if (host) params.set("host", host);
  params.set("from", iso(input.windowStart));
  params.set("to", iso(input.windowEnd));
  return uiLink(input.publicUrl, `/events?${params.toString()}`);
}

/** What crossed, in words: "142 hits in 5 minutes, threshold 100". */
export function crossedWords(
  input: Pick<ThresholdInput, "count" | "threshold" | "windowStart" | "windowEnd" | "eventTypes">,
): string {
  const [one, many] =
    input.eventTypes?.length === 1 ? NOUNS[input.eventTypes[0]!] : ["matching event", "matching events"];
  return `${plural(input.count, one, many)} in ${windowWords(input.windowEnd - input.windowStart)}, threshold ${input.threshold}`;
}

/** A threshold trigger fired for one group in one window. */
export function buildThresholdNotification(input: ThresholdInput): Notification {
  const link = thresholdEventsLink(input);
  const crossed = crossedWords(input);
  const top = {
    top_hosts: topOf(input.top.hosts),
    top_attack_types: topOf(input.top.attackTypes),
    top_source_ips: topOf(input.top.sourceIps),
    top_countries: topOf(input.top.countries),
  };
  const lines = [
    "Notification type: trigger_threshold",
    `Trigger: ${input.trigger.name}`,
    `Group: ${groupWords(input.group)}`,
    `What crossed: ${crossed}`,
    `Window: ${utcMinute(input.windowStart)} to ${utcMinute(input.windowEnd)} UTC`,
    ...(
      [
        ["Top hosts", top.top_hosts],
        ["Top attack types", top.top_attack_types],
        ["Top source IPs", top.top_source_ips],
        ["Top countries", top.top_countries],
      ] as const
    )
      .filter(([, entries]) => entries.length)
      .map(([label, entries]) => `${label}: ${topWords(entries)}`),
    `Link: ${link}`,
  ];
  return {
    id: stableId("trigger_threshold", input.trigger.id, groupKeyOf(input.group), input.windowStart),
    summary: `[Herald] Threshold crossed: ${input.trigger.name}`,
    description: lines.join("\n"),
    details: {
      client_name: input.accountName,
      notification_type: "trigger_threshold",
      occurred_at: iso(input.firedAt ?? input.windowEnd),
      link,
      incident_key: thresholdIncidentKey(input.trigger.id, input.group, input.windowStart),
      incident_action: "trigger",
      trigger: { id: input.trigger.id, name: input.trigger.name },
      threshold: {
        group: { ...input.group },
        group_key: groupKeyOf(input.group),
        crossed,
        count: input.count,
        threshold: input.threshold,
        window_seconds: Math.round((input.windowEnd - input.windowStart) / 1000),
        window_start: iso(input.windowStart),
        window_end: iso(input.windowEnd),
        ...top,
      },
    },
  };
}

/**
 * An "each matching event" trigger fired for one event: the event's own notification, named after
 * the trigger so the reader knows why it came. A security issue keeps the issue's incident (closing
 * the issue resolves it); any other event joins its trigger group's incident.
 */
export function buildTriggerEventNotification(
  eventNotification: Notification,
  trigger: TriggerRef,
  group: TriggerGroup = {},
): Notification {
  const eventType = eventNotification.details.notification_type;
  const [, ...eventLines] = eventNotification.description.split("\n");
  const title = eventNotification.summary.replace(/^\[Herald\]\s*/, "");
  const incidentKey =
    eventType === "security_issue"
      ? (incidentOf(eventNotification)?.incident_key ?? triggerEventIncidentKey(trigger.id, group))
      : triggerEventIncidentKey(trigger.id, group);
  return {
    id: eventNotification.id,
    summary: `[Herald] ${trigger.name}: ${title}`,
    description: [
      "Notification type: trigger_event",
      `Trigger: ${trigger.name}`,
      `Event type: ${eventType}`,
      ...eventLines,
    ].join("\n"),
    details: {
      ...eventNotification.details,
      notification_type: "trigger_event",
      event_notification_type: eventType,
      incident_key: incidentKey,
      incident_action: "trigger",
      trigger: { id: trigger.id, name: trigger.name, group: { ...group }, group_key: groupKeyOf(group) },
    },
  };
}

export interface NodeSilenceInput extends NotificationContext {
  /** "silent": the node passed its deadline; "recovered": it posted again. */
  state: "silent" | "recovered";
  trigger: TriggerRef;
  node: { id: string; name: string };
  /** The node's last event before the silence (epoch ms); null when it never posted. */
  lastEventAt: number | null;
  /** D: the trigger fires after this many minutes without events. */
  silenceMinutes: number;
  /** When the silence was noticed ("silent") or the node posted again ("recovered"). */
  at: number;
}

/** A node went silent, or posted again: one incident per trigger and node, resolved on recovery. */
export function buildNodeSilenceNotification(input: NodeSilenceInput): Notification {
  const { node, state } = input;
  const silentMs = input.lastEventAt === null ? null : input.at - input.lastEventAt;
  const threshold = `${input.silenceMinutes} min`;
  const message =
    state === "silent"
      ? silentMs === null
        ? `Node "${node.name}" has not sent any event yet (threshold ${threshold}).`
        : `Node "${node.name}" has sent nothing for ${durationWords(silentMs)} (threshold ${threshold}).`
      : silentMs === null
        ? `Node "${node.name}" is sending events.`
        : `Node "${node.name}" is sending events again after ${durationWords(silentMs)} of silence.`;
  const link = uiLink(input.publicUrl, "/nodes");
  const lines = [
    `Notification type: node_${state}`,
    `What happened: ${message}`,
    `Trigger: ${input.trigger.name}`,
    `Node: ${node.name} (${node.id})`,
    `Last event: ${input.lastEventAt === null ? "never" : `${utcMinute(input.lastEventAt)} UTC`}`,
    ...(silentMs === null ? [] : [`Silent for: ${durationWords(silentMs)}`]),
    `Threshold: ${threshold}`,
    `Link: ${link}`,
  ];
  return {
    id: stableId(`node_${state}`, input.trigger.id, node.id, input.lastEventAt ?? "never"),
    summary: state === "silent" ? "[Herald] Node silent" : "[Herald] Node recovered",
    description: lines.join("\n"),
    details: {
      client_name: input.accountName,
      notification_type: state === "silent" ? "node_silent" : "node_recovered",
      occurred_at: iso(input.at),
      link,
      incident_key: nodeSilenceIncidentKey(input.trigger.id, { node: node.id }),
      incident_action: state === "silent" ? "trigger" : "resolve",
      trigger: { id: input.trigger.id, name: input.trigger.name },
      node: {
        id: node.id,
        name: node.name,
        message,
        last_event_at: input.lastEventAt === null ? null : iso(input.lastEventAt),
        silent_for_seconds: silentMs === null ? null : Math.floor(silentMs / 1000),
        silence_threshold_minutes: input.silenceMinutes,
        ...(state === "recovered" ? { recovered_at: iso(input.at) } : {}),
      },
    },
  };
}
