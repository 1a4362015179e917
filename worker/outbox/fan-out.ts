import { and, eq, inArray, isNotNull, or } from "drizzle-orm";
import { createDb } from "../db/client";
import { accounts, events, findableById, integrations } from "../db/schema";
import type { OutboxItem } from "../domain/notification";
import { buildNotification, type NotifiableEvent } from "../domain/notify-build";
import { type EventSubscriptions, type MatchableEvent, subscribesTo } from "../domain/subscriptions";
import { integrationNotToNotify } from "../domain/system-events";
import type { Env } from "../env";
import { enqueuePlan } from "./enqueue";

/**
 * An integration of the account and what it subscribes to: an enabled one, or a disabled one
 * with `untilSeq`, its disable marker (integrations.disabled_after_seq), which still gets the
 * events committed before its disable whose fan-out comes late (a node's re-send after a 503, a
 * system event published after the commit): such an event is queued, paused, in its outbox
 * rather than lost, since a replay on enable covers only the events after the marker.
 */
export interface FanOutTarget {
  id: string;
  events: EventSubscriptions;
  untilSeq?: number | null;
}

const isEnabled = (target: FanOutTarget) => target.untilSeq === undefined || target.untilSeq === null;

/** Does the target take this row? A disabled one only up to its marker (a row without seq is new). */
function takes(target: FanOutTarget, row: NotifiableEvent): boolean {
  if (!subscribesTo(target.events, { type: row.type, risk: row.risk })) return false;
  if (row.type === "system" && integrationNotToNotify(row) === target.id) return false;
  return isEnabled(target) || (row.seq !== undefined && row.seq <= (target.untilSeq as number));
}

/**
 * Does an enabled target want this event about to be written? (Then it waits for fan-out.) A
 * disabled target never takes an event written now: the write commits only at the targets'
 * version (WRITE_ALLOWED in store.ts), i.e. after every disable they list, past every marker.
 */
export function anyEnabledTargetWants(targets: FanOutTarget[], event: MatchableEvent): boolean {
  return targets.some((target) => isEnabled(target) && subscribesTo(target.events, event));
}

/**
 * May any target want this event, a disabled one included? A disabled one takes it when it is a
 * re-send, stored before the disable and never queued: the write reads such rows back.
 */
export function anyTargetMayWant(targets: FanOutTarget[], event: MatchableEvent): boolean {
  return targets.some((target) => subscribesTo(target.events, event));
}

/** The SQL condition of the targets: enabled, or disabled with a marker. */
export const fanOutTargetRows = or(eq(integrations.status, "enabled"), isNotNull(integrations.disabledAfterSeq));

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

/**
 * Queues notifications for stored events in every integration of the account that takes them
 * (system events and the sweep's; node events go through ingest (worker/ingest/accept-events.ts),
 * which has already loaded the targets).
 */
export async function fanOutEvents(env: Env, accountId: string, rows: NotifiableEvent[]): Promise<void> {
  if (rows.length === 0) return;
  const db = createDb(env.DB);
  const [account, stored] = await Promise.all([
    db.query.accounts.findFirst({ columns: { name: true }, where: eq(accounts.id, accountId) }),
    db
      .select({ id: integrations.id, events: integrations.events, untilSeq: integrations.disabledAfterSeq })
      .from(integrations)
      .where(and(eq(integrations.accountId, accountId), fanOutTargetRows)),
  ]);
  if (!account || stored.length === 0) return;
  const targets = stored.map((t) => ({ id: t.id, events: t.events as EventSubscriptions, untilSeq: t.untilSeq }));
  const plan = planFanOut(targets, await withSeq(env, accountId, rows, targets), account.name, env.PUBLIC_URL);
  await enqueuePlan(env, plan);
}

/**
 * The rows with their events.seq, read only when a disabled target needs it (callers pass system
 * events, always findable by id, a handful at a time).
 */
async function withSeq(
  env: Env,
  accountId: string,
  rows: NotifiableEvent[],
  targets: FanOutTarget[],
): Promise<NotifiableEvent[]> {
  const missing = rows.filter((row) => row.seq === undefined).map((row) => row.id);
  if (missing.length === 0 || targets.every(isEnabled)) return rows;
  const found = await createDb(env.DB)
    .select({ id: events.id, seq: events.seq })
    .from(events)
    .where(and(eq(events.accountId, accountId), findableById, inArray(events.id, missing)));
  const seqs = new Map(found.map((row) => [row.id, row.seq]));
  return rows.map((row) => (row.seq === undefined && seqs.has(row.id) ? { ...row, seq: seqs.get(row.id) } : row));
}
