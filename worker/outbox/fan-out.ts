import type { OutboxItem } from "../domain/notification";
import { buildNotification, type NotifiableEvent } from "../domain/notify-build";
import { type EventSubscriptions, type MatchableEvent, subscribesTo } from "../domain/subscriptions";

/**
 * An integration of the account and what it subscribes to: an enabled one, or a disabled one
 * with `untilSeq`, its disable marker (integrations.disabled_after_seq, the account seq), which still gets the
 * events committed before its disable whose fan-out comes late (a node's re-send after a 503, a
 * system event published after the commit): such an event is queued, paused, in its outbox
 * rather than lost, since a replay on enable covers only the events after the marker.
 */
export interface FanOutTarget {
  id: string;
  events: EventSubscriptions;
  untilSeq?: number | null;
  /**
   * When a disabled one was disabled: a system event raised before that (its seq comes when it is
   * published, which may be after the disable) still belongs to before the disable.
   */
  disabledAt?: number | null;
}

const isEnabled = (target: FanOutTarget) => target.untilSeq === undefined || target.untilSeq === null;

/**
 * Does the target take this row? A disabled one only up to its marker (a row without seq is new),
 * or a system event raised before its disable.
 */
function takes(target: FanOutTarget, row: NotifiableEvent): boolean {
  if (!subscribesTo(target.events, { type: row.type, risk: row.risk })) return false;
  if (isEnabled(target)) return true;
  if (row.seq !== undefined && row.seq <= (target.untilSeq as number)) return true;
  return row.type === "system" && target.disabledAt != null && row.occurredAt < target.disabledAt;
}

/**
 * Does an enabled target want this event? (A late one is then counted as held back.) A disabled
 * target never takes an event written now: its seq is past every marker of the account object's
 * current snapshot (AccountIngestDO.controlChanged).
 */
export function anyEnabledTargetWants(targets: FanOutTarget[], event: MatchableEvent): boolean {
  return targets.some((target) => isEnabled(target) && subscribesTo(target.events, event));
}

/**
 * May any target want this event, a disabled one included? A disabled one takes it when it is a
 * re-send, stored before the disable and never queued: it is left unprocessed for fan-out.
 */
export function anyTargetMayWant(targets: FanOutTarget[], event: MatchableEvent): boolean {
  return targets.some((target) => subscribesTo(target.events, event));
}

/**
 * An event's outbox item, the same for every producer (fan-out, the sweep, a replay on enable):
 * its notification id is the event id, so an outbox that already holds it drops the copy.
 */
export function eventOutboxItem(row: NotifiableEvent, accountName: string, publicUrl: string): OutboxItem {
  return { notification: buildNotification(row, accountName, publicUrl), eventId: row.id };
}

/**
 * Which notifications go to which integration. Pure: one notification object per event, shared
 * by every integration that receives it (its id is the event id, so outboxes dedupe re-sends).
 */
export function planFanOut(
  targets: FanOutTarget[],
  rows: NotifiableEvent[],
  accountName: string,
  publicUrl: string,
): Map<string, OutboxItem[]> {
  const items = new Map<string, OutboxItem>();
  const itemFor = (row: NotifiableEvent) => {
    let item = items.get(row.id);
    if (!item) {
      item = eventOutboxItem(row, accountName, publicUrl);
      items.set(row.id, item);
    }
    return item;
  };
  const plan = new Map<string, OutboxItem[]>();
  for (const target of targets) {
    const matching = rows.filter((row) => takes(target, row));
    if (matching.length > 0) plan.set(target.id, matching.map(itemFor));
  }
  return plan;
}
