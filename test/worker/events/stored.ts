/**
 * Events written into an account's shards as the account object writes them (the directory row
 * first, then the shard's `insert`), for the readers' tests (query, scan): three daily periods with
 * different fanouts, so lists cross periods and sub-shards.
 */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { registerShards } from "../../../worker/events/directory";
import { eventShardObject } from "../../../worker/events/objects";
import { periodOf, shardName, subShardOf } from "../../../worker/events/shard-names";
import type { ShardInsertRow } from "../../../worker/events/shard-types";
import { DAY_MS, HOUR_MS } from "../../../worker/lib/time";

/** 2026-10-01: the days are the 1st (fanout 1), the 2nd (fanout 4) and the 3rd (fanout 2). */
export const DAY1 = Date.UTC(2026, 9, 1);
export const FANOUT_OF_DAY = [1, 4, 2];
export const at = (day: number, hours: number, minutes = 0) => DAY1 + day * DAY_MS + hours * HOUR_MS + minutes * 60_000;

/** Stores rows in their account's shards: the period of occurred_at, the sub-shard of the id. */
export async function store(accountId: string, rows: ShardInsertRow[]) {
  const byShard = new Map<string, ShardInsertRow[]>();
  for (const row of rows) {
    const day = Math.floor((row.occurredAt - DAY1) / DAY_MS);
    const fanout = FANOUT_OF_DAY[day] ?? 1;
    const period = periodOf(row.occurredAt, 24);
    await registerShards(
      env.DB,
      Array.from({ length: fanout }, (_, sub) => ({ accountId, period, sub, fanout })),
      Date.now(),
    );
    const name = shardName(accountId, period.start, subShardOf(row.id, fanout));
    byShard.set(name, [...(byShard.get(name) ?? []), row]);
  }
  for (const [name, shardRows] of byShard) {
    const result = await eventShardObject(env, name).insert({ rows: shardRows, markProcessed: true });
    expect(result.full).toBe(false);
  }
}

/** List order: newest first, then the larger id. */
export const newestFirst = (rows: ShardInsertRow[]) =>
  [...rows].sort((a, b) => b.occurredAt - a.occurredAt || (a.id < b.id ? 1 : -1));
