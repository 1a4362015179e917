/**
 * Events too old to notify (NOTIFY_MAX_AGE, worker/domain/notify-age.ts) are stored and counted but
 * not notified. What was held back is summed per node in `held_back_notices` and announced as one
 * `notifications_held_back` system event: the first a little after the first late event (so a
 * backlog posted in many requests is summed up), then at most one per node per spacing. The
 * minute cron (worker/delivery/sweep.ts) announces what no request did.
 */

import { buildSystemEvent } from "../domain/system-events";
import type { Env } from "../env";
import { utcMinute } from "../lib/time";
import { publishSystemEvents } from "./publish-system-events";

/** A node's notice waits this long after the first event it counts (within waitUntil's 30 s). */
export const HELD_BACK_COLLECT_MS = 20_000;
/** At most one notice per node this often. */
export const HELD_BACK_SPACING_MS = 10 * 60_000;
/** Notices per sweep run. */
const ANNOUNCE_BATCH = 50;

export interface HeldBack {
  count: number;
  oldestAt: number;
  newestAt: number;
}

/** The summary of these late events' times, or null when there are none. */
export function summarizeHeldBack(occurredAts: readonly number[]): HeldBack | null {
  if (occurredAts.length === 0) return null;
  let oldestAt = Number.POSITIVE_INFINITY;
  let newestAt = Number.NEGATIVE_INFINITY;
  for (const at of occurredAts) {
    oldestAt = Math.min(oldestAt, at);
    newestAt = Math.max(newestAt, at);
  }
  return { count: occurredAts.length, oldestAt, newestAt };
}

const ADD_HELD_BACK = `INSERT INTO held_back_notices (node_id, account_id, pending, oldest_at, newest_at, since)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (node_id) DO UPDATE SET pending = pending + excluded.pending,
  oldest_at = min(coalesce(oldest_at, excluded.oldest_at), excluded.oldest_at),
  newest_at = max(coalesce(newest_at, excluded.newest_at), excluded.newest_at),
  since = coalesce(since, excluded.since)`;

/** Adds late events to the node's next notice. */
function addHeldBack(d1: D1Database, accountId: string, nodeId: string, heldBack: HeldBack, now: number) {
  return d1.prepare(ADD_HELD_BACK).bind(nodeId, accountId, heldBack.count, heldBack.oldestAt, heldBack.newestAt, now);
}

/** Counts late events (their `occurred_at`s, by node) towards their nodes' notices: one D1 batch. */
export async function countHeldBack(
  d1: D1Database,
  accountId: string,
  lateByNode: ReadonlyMap<string, readonly number[]>,
  now: number,
): Promise<void> {
  const statements: D1PreparedStatement[] = [];
  for (const [nodeId, times] of lateByNode) {
    const summary = summarizeHeldBack(times);
    if (summary) statements.push(addHeldBack(d1, accountId, nodeId, summary, now));
  }
  if (statements.length > 0) await d1.batch(statements);
}

interface DueRow {
  node_id: string;
  account_id: string;
  node_name: string;
  pending: number;
  oldest_at: number;
  newest_at: number;
  since: number;
}

const DUE = `SELECT h.node_id, h.account_id, n.name AS node_name, h.pending, h.oldest_at, h.newest_at, h.since
FROM held_back_notices AS h JOIN nodes AS n ON n.id = h.node_id
WHERE h.pending > 0 AND h.since <= ?1 - ${HELD_BACK_COLLECT_MS}
  AND (h.last_notice_at IS NULL OR h.last_notice_at <= ?1 - ${HELD_BACK_SPACING_MS})`;

/** Takes the node's count, only if nothing changed since it was read (another announcer, a new late event). */
const CLAIM = `UPDATE held_back_notices SET pending = 0, oldest_at = NULL, newest_at = NULL, since = NULL,
  last_notice_at = ?4 WHERE node_id = ?1 AND pending = ?2 AND since = ?3`;

/** The notice into the system event outbox, in the claim's transaction and only if the claim took the count. */
const INSERT_NOTICE = `INSERT INTO system_event_outbox (account_id, id, occurred_at, system_type, data, created_at)
SELECT ?2, ?3, ?4, 'notifications_held_back', ?5, ?4
WHERE EXISTS (SELECT 1 FROM held_back_notices WHERE node_id = ?1 AND last_notice_at = ?4 AND pending = 0)`;

/**
 * Announces the held-back counts that are due (of one node, or of all): one system event per node,
 * written atomically with taking its count, then published (an unpublished one is re-published by
 * the sweep). Returns how many notices went out.
 */
export async function announceHeldBack(
  env: Env,
  maxAgeMs: number | null,
  now = Date.now(),
  nodeId?: string,
): Promise<number> {
  const due = await env.DB.prepare(nodeId ? `${DUE} AND h.node_id = ?2` : `${DUE} LIMIT ${ANNOUNCE_BATCH}`)
    .bind(...(nodeId ? [now, nodeId] : [now]))
    .all<DueRow>();
  let announced = 0;
  for (const row of due.results) {
    const event = buildSystemEvent(
      row.account_id,
      "notifications_held_back",
      "Herald",
      noticeMessage(row, maxAgeMs),
      {
        node_id: row.node_id,
        node_name: row.node_name,
        held_back: row.pending,
        oldest_occurred_at: new Date(row.oldest_at).toISOString(),
        newest_occurred_at: new Date(row.newest_at).toISOString(),
        notify_max_age_seconds: maxAgeMs === null ? null : maxAgeMs / 1000,
      },
      now,
    );
    const [claimed] = await env.DB.batch([
      env.DB.prepare(CLAIM).bind(row.node_id, row.pending, row.since, now),
      env.DB.prepare(INSERT_NOTICE).bind(row.node_id, row.account_id, event.id, now, JSON.stringify(event.data)),
    ]);
    if (!claimed?.meta.changes) continue;
    announced++;
    await publishSystemEvents(env, row.account_id, [event]);
  }
  return announced;
}

function noticeMessage(row: DueRow, maxAgeMs: number | null): string {
  const count = row.pending.toLocaleString("en-US");
  const noun = row.pending === 1 ? "event" : "events";
  const range =
    row.oldest_at === row.newest_at
      ? `occurred ${utcMinute(row.oldest_at)} UTC`
      : `${utcMinute(row.oldest_at)} to ${utcMinute(row.newest_at)} UTC`;
  const limit = maxAgeMs === null ? "too late" : `more than ${durationText(maxAgeMs)} after they occurred`;
  return `${count} ${noun} from node "${row.node_name}" arrived ${limit} (${range}): stored and counted in reports, not notified.`;
}

function durationText(ms: number): string {
  const seconds = ms / 1000;
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
