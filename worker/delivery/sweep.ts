/**
 * The sweep (every minute, worker/scheduled.ts): stored events whose notifications were never
 * queued (`notified_at` NULL a minute after they arrived). A node event is left so when fan-out
 * failed and the node never re-sent its request (it got 503), or the isolate died before marking
 * it; a system event when its publish failed. Each is queued again through the same fan-out (an
 * IntegrationDO drops a notification id it already holds, so an event queued before but never
 * marked is not sent twice) and marked. Events too old by then are not notified: node events count
 * towards their node's held-back notice (NOTIFY_MAX_AGE), stale system notices are dropped.
 * events_unnotified_idx holds only unmarked events, so a sweep with nothing to do costs one lookup.
 */
import { notifyMaxAge, tooOldToNotify } from "../domain/notify-age";
import type { NotifiableEvent } from "../domain/notify-build";
import type { Env } from "../env";
import { addHeldBack, announceHeldBack, summarizeHeldBack } from "../ingest/held-back";
import { DAY_MS, MINUTE_MS } from "../lib/time";
import { fanOutEvents } from "../outbox/fan-out";

/** Younger events may still be on their way through the request that stored them. */
export const SWEEP_MIN_AGE_MS = MINUTE_MS;
/** Older system notices are stale: a day-old "integration disabled" helps nobody. */
const SYSTEM_MAX_AGE_MS = DAY_MS;
/** Events per query; a run goes on while there are more and time is left. */
const BATCH = 500;
/** A run stops after this long; the next minute's run continues. */
const TIME_BUDGET_MS = 20_000;

export interface SweepResult {
  /** Events queued (node events) or published (system events) and marked. */
  notified: number;
  /** Events whose fan-out failed again (left for the next run). */
  failed: number;
  /** Node events too old to notify: marked and counted in their node's held-back notice. */
  heldBack: number;
  /** System notices older than a day: marked, not sent. */
  stale: number;
}

interface UnnotifiedRow {
  seq: number;
  account_id: string;
  id: string;
  node_id: string | null;
  type: NotifiableEvent["type"];
  risk: string | null;
  occurred_at: number;
  received_at: number;
  system_type: string | null;
  data: string;
}

/** Unmarked events received before ?1, after the cursor (?2 received_at, ?3 seq), in that order. */
const UNNOTIFIED = `SELECT seq, account_id, id, node_id, type, risk, occurred_at, received_at, system_type, data
FROM events WHERE notified_at IS NULL AND received_at <= ?1 AND (received_at > ?2 OR (received_at = ?2 AND seq > ?3))
ORDER BY received_at, seq LIMIT ${BATCH}`;

const MARK = `UPDATE events SET notified_at = ?1 WHERE seq IN (SELECT value FROM json_each(?2)) AND notified_at IS NULL`;

export async function sweepUnnotifiedEvents(env: Env, now = Date.now()): Promise<SweepResult> {
  const maxAgeMs = notifyMaxAge(env);
  const started = Date.now();
  const result: SweepResult = { notified: 0, failed: 0, heldBack: 0, stale: 0 };
  let cursor = { receivedAt: Number.MIN_SAFE_INTEGER, seq: 0 };
  while (Date.now() - started < TIME_BUDGET_MS) {
    const { results: rows } = await env.DB.prepare(UNNOTIFIED)
      .bind(now - SWEEP_MIN_AGE_MS, cursor.receivedAt, cursor.seq)
      .all<UnnotifiedRow>();
    const last = rows[rows.length - 1];
    if (!last) break;
    cursor = { receivedAt: last.received_at, seq: last.seq };
    const byAccount = new Map<string, UnnotifiedRow[]>();
    for (const row of rows) appendTo(byAccount, row.account_id, row);
    for (const [accountId, accountRows] of byAccount) {
      await sweepAccount(env, accountId, accountRows, maxAgeMs, now, result);
    }
    if (rows.length < BATCH) break;
  }
  await announceHeldBack(env, maxAgeMs, now);
  return result;
}

async function sweepAccount(
  env: Env,
  accountId: string,
  rows: UnnotifiedRow[],
  maxAgeMs: number | null,
  now: number,
  result: SweepResult,
) {
  const system = rows.filter((row) => row.type === "system");
  const node = rows.filter((row) => row.type !== "system");
  const staleSystem = system.filter((row) => now - row.occurred_at > SYSTEM_MAX_AGE_MS);
  const freshSystem = system.filter((row) => now - row.occurred_at <= SYSTEM_MAX_AGE_MS);
  const late = node.filter((row) => tooOldToNotify(row.occurred_at, now, maxAgeMs));
  const fresh = node.filter((row) => !tooOldToNotify(row.occurred_at, now, maxAgeMs));

  // Late node events are marked and counted towards their node's notice in one transaction.
  const statements = [markStatement(env, [...staleSystem, ...late], now)];
  const lateByNode = new Map<string, number[]>();
  for (const row of late) {
    if (row.node_id) appendTo(lateByNode, row.node_id, row.occurred_at);
  }
  for (const [nodeId, times] of lateByNode) {
    const heldBack = summarizeHeldBack(times);
    if (heldBack) statements.push(addHeldBack(env.DB, accountId, nodeId, heldBack, now));
  }
  if (staleSystem.length + late.length > 0) {
    await env.DB.batch(statements);
    result.stale += staleSystem.length;
    result.heldBack += late.length;
  }

  // System and node events of the account in one fan-out: its targets are read once.
  const due = [...freshSystem, ...fresh];
  if (due.length > 0) {
    try {
      await fanOutEvents(env, accountId, due.map(notifiable));
    } catch (error) {
      console.error("sweep: fan-out failed again", { accountId, events: due.length, error: String(error) });
      result.failed += due.length;
      return;
    }
    await markStatement(env, due, now).run();
    result.notified += due.length;
  }
}

function markStatement(env: Env, rows: UnnotifiedRow[], now: number): D1PreparedStatement {
  return env.DB.prepare(MARK).bind(now, JSON.stringify(rows.map((row) => row.seq)));
}

function appendTo<T>(groups: Map<string, T[]>, key: string, item: T): void {
  const group = groups.get(key);
  if (group) group.push(item);
  else groups.set(key, [item]);
}

/** With its seq, so fan-out need not read it back to compare with a disabled integration's marker. */
function notifiable(row: UnnotifiedRow): NotifiableEvent {
  return {
    id: row.id,
    seq: row.seq,
    type: row.type,
    risk: row.risk,
    occurredAt: row.occurred_at,
    systemType: row.system_type,
    data: JSON.parse(row.data),
  };
}

/** The cron's step (worker/scheduled.ts). */
export async function sweepStep(controller: ScheduledController, env: Env, _ctx: ExecutionContext) {
  const result = await sweepUnnotifiedEvents(env, controller.scheduledTime);
  if (result.notified + result.failed + result.heldBack + result.stale > 0) console.log("sweep", result);
}
