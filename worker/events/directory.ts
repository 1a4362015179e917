/**
 * The D1 directory of event shards (`event_shards`, docs/data-plane.md#directory-d1): which shards
 * an account has, for which period, with what fanout, and roughly how large they are.
 */
import { and, asc, desc, eq, gt, inArray, lt, lte, max, sum } from "drizzle-orm";
import { createDb } from "../db/client";
import { eventShards } from "../db/schema";
import { DAY_MS, MINUTE_MS } from "../lib/time";
import { fanoutFor, MAX_FANOUT, type Period, shardName, subShardOf } from "./shard-names";

/** D1 binds at most 100 parameters per statement. */
const ROWS_PER_INSERT = 10;
const NAMES_PER_DELETE = 90;

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export type ShardEntry = typeof eventShards.$inferSelect;

export interface NewShard {
  accountId: string;
  period: Period;
  sub: number;
  fanout: number;
}

/**
 * Records shards before their first write (a shard already listed is left as it is). Returns their
 * names, in order.
 */
export async function registerShards(d1: D1Database, shards: NewShard[], now: number): Promise<string[]> {
  const rows = shards.map((s) => ({
    name: shardName(s.accountId, s.period.start, s.sub),
    accountId: s.accountId,
    periodStart: s.period.start,
    periodEnd: s.period.end,
    sub: s.sub,
    fanout: s.fanout,
    createdAt: now,
    updatedAt: now,
  }));
  const db = createDb(d1);
  const [first, ...rest] = chunks(rows, ROWS_PER_INSERT).map((part) =>
    db.insert(eventShards).values(part).onConflictDoNothing(),
  );
  if (first) await db.batch([first, ...rest]);
  return rows.map((r) => r.name);
}

/**
 * The fanout of an account's period: the one recorded when its first shard was registered, or for
 * a new period one that keeps each sub-shard under `targetBytes` if the period takes in as much per
 * hour as the account's latest earlier period did.
 */
export async function periodFanout(
  d1: D1Database,
  accountId: string,
  period: Period,
  targetBytes: number,
): Promise<number> {
  const db = createDb(d1);
  const [existing] = await db
    .select({ fanout: eventShards.fanout })
    .from(eventShards)
    .where(and(eq(eventShards.accountId, accountId), eq(eventShards.periodStart, period.start)))
    .limit(1);
  if (existing) return existing.fanout;
  const [previous] = await db
    .select({ periodStart: max(eventShards.periodStart) })
    .from(eventShards)
    .where(and(eq(eventShards.accountId, accountId), lt(eventShards.periodStart, period.start)));
  if (previous?.periodStart == null) return 1;
  const [earlier] = await db
    .select({ bytes: sum(eventShards.bytes).mapWith(Number), periodEnd: max(eventShards.periodEnd) })
    .from(eventShards)
    .where(and(eq(eventShards.accountId, accountId), eq(eventShards.periodStart, previous.periodStart)));
  // Scaled to this period's length: the earlier one may be shorter (the rest of a split period).
  const earlierLength = (earlier?.periodEnd ?? 0) - previous.periodStart;
  const scale = earlierLength > 0 ? (period.end - period.start) / earlierLength : 1;
  return fanoutFor((earlier?.bytes ?? 0) * scale, targetBytes);
}

export interface ShardCounters {
  events: number;
  bytes: number;
  maxSeq: number | null;
}

/** Stores a shard's latest counters (its `stats()`). */
export async function refreshShardCounters(
  d1: D1Database,
  name: string,
  counters: ShardCounters,
  now: number,
): Promise<void> {
  await createDb(d1)
    .update(eventShards)
    .set({ events: counters.events, bytes: counters.bytes, maxSeq: counters.maxSeq, updatedAt: now })
    .where(eq(eventShards.name, name));
}

/**
 * An account's shards whose period overlaps [from, to), newest period first (sub-shards of a period
 * by `sub`). A period is at most a day long, so the index range starts a day before `from`.
 */
export async function shardsOverlapping(
  d1: D1Database,
  accountId: string,
  from: number,
  to: number,
): Promise<ShardEntry[]> {
  return createDb(d1)
    .select()
    .from(eventShards)
    .where(
      and(
        eq(eventShards.accountId, accountId),
        gt(eventShards.periodStart, from - DAY_MS),
        lt(eventShards.periodStart, to),
        gt(eventShards.periodEnd, from),
      ),
    )
    .orderBy(desc(eventShards.periodStart), asc(eventShards.sub));
}

/**
 * Ends an account's period at `cutover` and opens the rest of it, [cutover, old end), as a period of
 * its own with `fanout` sub-shards, all registered now. For an account whose traffic outgrew the
 * fanout of its current period (docs/data-plane.md#growth-within-a-period). Routing stays
 * deterministic for every event already stored as long as `cutover` is later than every stored
 * `occurred_at` of the period, which the caller (the period's only writer) guarantees. Returns the
 * new shards' names, or [] when the period has no shard or already ends at or before `cutover`.
 */
export async function splitPeriod(
  d1: D1Database,
  accountId: string,
  periodStart: number,
  cutover: number,
  fanout: number,
  now: number,
): Promise<string[]> {
  if (cutover % MINUTE_MS !== 0 || cutover <= periodStart) {
    throw new Error("splitPeriod: the cut-over must be a whole minute after the period start");
  }
  if (!Number.isInteger(Math.log2(fanout)) || fanout > MAX_FANOUT) {
    throw new Error(`splitPeriod: fanout must be a power of two up to ${MAX_FANOUT}`);
  }
  const db = createDb(d1);
  const [current] = await db
    .select({ periodEnd: eventShards.periodEnd })
    .from(eventShards)
    .where(and(eq(eventShards.accountId, accountId), eq(eventShards.periodStart, periodStart)))
    .limit(1);
  if (!current || current.periodEnd <= cutover) return [];
  const rest: Period = { start: cutover, end: current.periodEnd };
  const rows = Array.from({ length: fanout }, (_, sub) => ({
    name: shardName(accountId, rest.start, sub),
    accountId,
    periodStart: rest.start,
    periodEnd: rest.end,
    sub,
    fanout,
    createdAt: now,
    updatedAt: now,
  }));
  // One transaction: readers and routing never see the period both ended and not yet continued.
  await db.batch([
    db
      .update(eventShards)
      .set({ periodEnd: cutover, updatedAt: now })
      .where(and(eq(eventShards.accountId, accountId), eq(eventShards.periodStart, periodStart))),
    ...chunks(rows, ROWS_PER_INSERT).map((part) => db.insert(eventShards).values(part).onConflictDoNothing()),
  ]);
  return rows.map((r) => r.name);
}

/**
 * Of an account's registered shards (e.g. `shardsOverlapping` over a batch's time span), the one
 * that holds the event with this key: its period's shard whose `sub` is the id's sub-shard under the
 * period's fanout (worker/events/shard-names.ts). Null when the event's period has no such shard.
 */
export function shardOfEvent(shards: ShardEntry[], key: { id: string; occurredAt: number }): ShardEntry | null {
  const period = shards.find((s) => s.periodStart <= key.occurredAt && key.occurredAt < s.periodEnd);
  if (!period) return null;
  const sub = subShardOf(key.id, period.fanout);
  return (
    shards.find((s) => s.periodStart === period.periodStart && s.periodEnd === period.periodEnd && s.sub === sub) ??
    null
  );
}

/** The shard that can hold the event with this key (shardOfEvent over its period's shards). */
export async function locateEvent(
  d1: D1Database,
  accountId: string,
  key: { id: string; occurredAt: number },
): Promise<ShardEntry | null> {
  return shardOfEvent(await shardsOverlapping(d1, accountId, key.occurredAt, key.occurredAt + 1), key);
}

/** Shards of every account whose period ended at or before `endedBy`, oldest first. */
export async function expiredShards(d1: D1Database, endedBy: number, limit: number): Promise<ShardEntry[]> {
  return createDb(d1)
    .select()
    .from(eventShards)
    .where(lte(eventShards.periodEnd, endedBy))
    .orderBy(asc(eventShards.periodEnd), asc(eventShards.name))
    .limit(limit);
}

/** Removes shards from the directory (after their objects were destroyed). */
export async function forgetShards(d1: D1Database, names: string[]): Promise<void> {
  const db = createDb(d1);
  const [first, ...rest] = chunks(names, NAMES_PER_DELETE).map((part) =>
    db.delete(eventShards).where(inArray(eventShards.name, part)),
  );
  if (first) await db.batch([first, ...rest]);
}
