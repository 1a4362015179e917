import type { Env } from "./env";
import { expiredShards } from "./events/directory";
import { accountIngestObject } from "./ingest/account-object";
import { DAY_MS } from "./lib/time";

/** Expired shards looked at per run (each account drops all of its own). */
const SHARDS_PER_RUN = 1000;
/** A cron run stops after this long; whatever is left goes at the next hour. */
const TIME_BUDGET_MS = 20_000;

interface RetentionResult {
  /** Shards dropped. */
  dropped: number;
  /** False when the time budget ran out before every account with expired shards was done. */
  complete: boolean;
}

/**
 * Drops whole event shards whose period ended more than EVENT_RETENTION_DAYS (default 90) ago:
 * the directory `event_shards` names the accounts that have some, and each account object drops
 * its own (archiving their low-cardinality counters, docs/data-plane.md). The cost grows with the
 * number of shards, not of events.
 */
export async function dropExpiredShards(env: Env, now = Date.now()): Promise<RetentionResult> {
  const days = Number(env.EVENT_RETENTION_DAYS);
  const cutoff = now - (Number.isFinite(days) && days > 0 ? days : 90) * DAY_MS;
  const started = Date.now();
  const expired = await expiredShards(env.DB, cutoff, SHARDS_PER_RUN);
  const accounts = new Set(expired.map((shard) => shard.accountId));
  let dropped = 0;
  for (const accountId of accounts) {
    if (Date.now() - started > TIME_BUDGET_MS) return { dropped, complete: false };
    try {
      dropped += (await accountIngestObject(env, accountId).dropExpiredShards(cutoff)).dropped;
    } catch (error) {
      console.error("dropping expired shards failed", { accountId, error: String(error) });
    }
  }
  return { dropped, complete: expired.length < SHARDS_PER_RUN };
}

/** The hourly cron step (worker/scheduled.ts). */
export async function retentionStep(_controller: ScheduledController, env: Env): Promise<void> {
  const result = await dropExpiredShards(env);
  if (result.dropped > 0 || !result.complete) console.log("event retention", result);
}
