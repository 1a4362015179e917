import type { Env } from "./env";
import { DAY_MS } from "./lib/time";

/** Rows per DELETE: small enough that one statement never holds D1's write lock for long. */
const CHUNK_ROWS = 1000;
/** A cron run stops after this long; whatever is left goes at the next hour. */
const TIME_BUDGET_MS = 20_000;

const DELETE_CHUNK = `DELETE FROM events WHERE rowid IN (
  SELECT rowid FROM events WHERE account_id = ?1 AND occurred_at < ?2 LIMIT ?3
)`;

export interface RetentionResult {
  deleted: number;
  /** False when the time budget ran out before everything old was gone. */
  complete: boolean;
}

/**
 * Deletes events whose occurred_at is older than EVENT_RETENTION_DAYS (default 90), account by
 * account (the (account_id, occurred_at) index finds them), in bounded chunks. Rollups and
 * security issues stay: reports over older periods keep working.
 */
export async function purgeExpiredEvents(env: Env, now = Date.now()): Promise<RetentionResult> {
  const days = Number(env.EVENT_RETENTION_DAYS);
  const cutoff = now - (Number.isFinite(days) && days > 0 ? days : 90) * DAY_MS;
  const started = Date.now();
  const accounts = await env.DB.prepare("SELECT id FROM accounts").all<{ id: string }>();
  let deleted = 0;
  for (const { id } of accounts.results) {
    for (;;) {
      if (Date.now() - started > TIME_BUDGET_MS) return { deleted, complete: false };
      const result = await env.DB.prepare(DELETE_CHUNK).bind(id, cutoff, CHUNK_ROWS).run();
      deleted += result.meta.changes;
      if (result.meta.changes < CHUNK_ROWS) break;
    }
  }
  return { deleted, complete: true };
}

/** The hourly cron step (worker/scheduled.ts). */
export async function retentionStep(_controller: ScheduledController, env: Env): Promise<void> {
  const result = await purgeExpiredEvents(env);
  if (result.deleted > 0 || !result.complete) console.log("event retention", result);
}
