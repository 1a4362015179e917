import type { StoredEvent } from "../domain/event-filters";
import type { GroupByField } from "../domain/triggers";

/**
 * What the evaluator hands on: plain typed inputs of the notification kinds trigger_event,
 * trigger_threshold, node_silent and node_recovered (docs/triggers.md#notices). The channels
 * render them; nothing here is formatted for people.
 */

interface NoticeBase {
  triggerId: string;
  triggerName: string;
  integrationIds: string[];
  /** "host=shop.example.com, attack_type=sqli"; "" for a trigger without group-by. */
  groupKey: string;
  group: Partial<Record<GroupByField, string>>;
  /** When the evaluator decided to notify (epoch ms). */
  firedAt: number;
}

export interface TopEntry {
  value: string;
  count: number;
}

export interface WindowTops {
  hosts: TopEntry[];
  attackTypes: TopEntry[];
  sourceIps: TopEntry[];
  countries: TopEntry[];
}

export type TriggerNotice =
  | (NoticeBase & { kind: "trigger_event"; event: StoredEvent })
  | (NoticeBase & {
      kind: "trigger_threshold";
      count: number;
      threshold: number;
      windowMinutes: number;
      /** The window that reached the threshold: [windowStart, windowEnd), whole minutes of occurred_at. */
      windowStart: number;
      windowEnd: number;
      /** The top 5 of each, over the window's events (docs/triggers.md#threshold). */
      top: WindowTops;
      /** Query parameters of GET /api/events (and the events page) showing the window's events. */
      eventsQuery: Record<string, string>;
    })
  | (NoticeBase & {
      kind: "node_silent";
      nodeId: string;
      nodeName: string;
      /** null when the node never posted. */
      lastSeenAt: number | null;
      silenceMinutes: number;
    })
  | (NoticeBase & {
      kind: "node_recovered";
      nodeId: string;
      nodeName: string;
      /** The last post before the silence (or the node's creation). */
      silentSince: number;
      recoveredAt: number;
    });

/** FNV-1a, 64 bits, hex: a short stable digest of a group key for ids (not a security hash). */
function digest(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, "0");
}

/**
 * The notification id of a notice, stable for the same trigger, group and window (or episode),
 * so a re-evaluation never sends twice and incident systems get one incident per window. A
 * trigger_event notice takes the event's id: the outbox, which de-duplicates by notification id,
 * then keeps one notification when a subscription sends the same event (docs/triggers.md).
 */
export function noticeId(notice: TriggerNotice): string {
  switch (notice.kind) {
    case "trigger_event":
      return notice.event.id;
    case "trigger_threshold":
      return `trigger-${notice.triggerId}-${digest(notice.groupKey)}-${notice.windowStart}`;
    case "node_silent":
      return `node-silent-${notice.triggerId}-${notice.nodeId}-${notice.lastSeenAt ?? "never"}`;
    case "node_recovered":
      return `node-recovered-${notice.triggerId}-${notice.nodeId}-${notice.silentSince}`;
  }
}
