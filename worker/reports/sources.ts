/**
 * What a report reads, and from where (docs/reports.md, docs/data-plane.md "Reading events"): the
 * hourly counters and scope changes of the account's event shards that overlap the period (listed
 * in the D1 directory), the counters the account object archived for shards retention dropped, and
 * the account object's security issues. Shards are asked in parallel; nothing scans raw events
 * except the bounded list of scope changes.
 */
import type { StoredEventType } from "../db/schema";
import type { Env } from "../env";
import { type ShardEntry, shardsOverlapping } from "../events/directory";
import { eventShardObject } from "../events/objects";
import type { RollupDimension, RollupRow, RollupTopRow, ScopeChangeRow } from "../events/shard-types";
import { accountIngestObject } from "../ingest/account-object";

export type { ShardEntry };

/** The account's shards holding any instant of [from, to). */
export function reportShards(env: Env, accountId: string, from: number, to: number): Promise<ShardEntry[]> {
  return shardsOverlapping(env.DB, accountId, from, to);
}

const overlaps = (shard: ShardEntry, from: number, to: number) => shard.periodStart < to && shard.periodEnd > from;

/**
 * The archive's rows for hours no listed shard holds: a shard being dropped is archived before it
 * leaves the directory, and while it is listed its own counters are the ones read.
 */
function archivedOnly(rows: RollupRow[], shards: ShardEntry[]): RollupRow[] {
  return rows.filter((row) => !shards.some((shard) => shard.periodStart <= row.hour && row.hour < shard.periodEnd));
}

export interface CounterQuery {
  fromHour: number;
  toHour: number;
  /** The (event type, dimension) pairs wanted. */
  pairs: [StoredEventType, RollupDimension][];
}

/**
 * The hourly counters of `pairs` over [fromHour, toHour): each overlapping shard's rollups, and the
 * archive of dropped shards for the hours no shard holds (so nothing is counted twice).
 */
export async function accountCounters(
  env: Env,
  accountId: string,
  shards: ShardEntry[],
  query: CounterQuery,
): Promise<RollupRow[]> {
  const wanted = new Set(query.pairs.map(([type, dimension]) => `${type}/${dimension}`));
  const eventTypes = [...new Set(query.pairs.map(([type]) => type))];
  const dimensions = [...new Set(query.pairs.map(([, dimension]) => dimension))];
  const [live, archived] = await Promise.all([
    Promise.all(
      shards
        .filter((shard) => overlaps(shard, query.fromHour, query.toHour))
        .map((shard) =>
          eventShardObject(env, shard.name).rollups({
            fromHour: query.fromHour,
            toHour: query.toHour,
            eventTypes,
            dimensions,
          }),
        ),
    ),
    accountIngestObject(env, accountId).archivedRollups(query.fromHour, query.toHour),
  ]);
  return [...live.flat(), ...archivedOnly(archived as RollupRow[], shards)].filter((row) =>
    wanted.has(`${row.eventType}/${row.dimension}`),
  );
}

/**
 * The top `limit` keys of each dimension over [fromHour, toHour) for hits and incidents from each
 * shard holding those hours and from the archive, summed per key. `keys` of a merged row is the
 * largest key count of one source, so `keys > limit` still says a list was cut.
 */
export async function accountTopRows(
  env: Env,
  accountId: string,
  shards: ShardEntry[],
  query: { fromHour: number; toHour: number; dimensions: RollupDimension[]; limit: number },
): Promise<RollupTopRow[]> {
  const eventTypes: StoredEventType[] = ["hit", "incident"];
  const [live, archived] = await Promise.all([
    Promise.all(
      shards
        .filter((shard) => overlaps(shard, query.fromHour, query.toHour))
        .map((shard) => eventShardObject(env, shard.name).rollupTops({ ...query, eventTypes })),
    ),
    accountIngestObject(env, accountId).archivedRollups(query.fromHour, query.toHour),
  ]);
  const merged = new Map<string, RollupTopRow>();
  for (const list of [
    ...live,
    topsOf(archivedOnly(archived as RollupRow[], shards), eventTypes, query.dimensions, query.limit),
  ]) {
    for (const row of list) {
      const name = `${row.dimension}\u0000${row.key}`;
      const seen = merged.get(name);
      merged.set(
        name,
        seen ? { ...seen, total: seen.total + row.total, keys: Math.max(seen.keys, row.keys) } : { ...row },
      );
    }
  }
  return [...merged.values()];
}

/** `rollupTops` over plain counter rows (the archive). */
function topsOf(
  rows: RollupRow[],
  eventTypes: StoredEventType[],
  dimensions: RollupDimension[],
  limit: number,
): RollupTopRow[] {
  const sums = new Map<RollupDimension, Map<string, number>>();
  for (const row of rows) {
    if (!eventTypes.includes(row.eventType) || !dimensions.includes(row.dimension)) continue;
    const keys = sums.get(row.dimension) ?? new Map<string, number>();
    keys.set(row.key, (keys.get(row.key) ?? 0) + row.count);
    sums.set(row.dimension, keys);
  }
  return [...sums].flatMap(([dimension, keys]) =>
    [...keys]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, limit)
      .map(([key, total]) => ({ dimension, key, total, keys: keys.size })),
  );
}

/** The newest `limit` scope changes in [from, to) of the shards holding those instants. */
export async function accountScopeChanges(
  env: Env,
  shards: ShardEntry[],
  from: number,
  to: number,
  limit: number,
): Promise<ScopeChangeRow[]> {
  const lists = await Promise.all(
    shards
      .filter((shard) => overlaps(shard, from, to))
      .map((shard) => eventShardObject(env, shard.name).scopeChanges({ from, to, limit })),
  );
  return lists
    .flat()
    .sort((a, b) => b.occurredAt - a.occurredAt || (a.id < b.id ? 1 : -1))
    .slice(0, limit);
}

/** The account object's figures on security issues for a report. */
export function reportIssues(
  env: Env,
  accountId: string,
  query: { previousFrom: number; currentFrom: number; currentTo: number; listLimit: number },
) {
  return accountIngestObject(env, accountId).issuesForReport(query);
}
