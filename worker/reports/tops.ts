import { addDays, bucketIndex, localDayStartMs, type ReportPeriod, toRollupHour } from "../domain/report-periods";
import type { Env } from "../env";
import type { RollupTopRow } from "../events/shard-types";
import { accountIngestObject } from "../ingest/account-object";
import type { DayTopsRow } from "../ingest/account-reports";
import type { RankedRow } from "./schema";
import { accountTopRows, type ShardEntry } from "./sources";

/**
 * The report's top tables (attack types, hosts, paths, source IPs, countries of hits and
 * incidents). Summing every hourly rollup row of a month is too slow for high-cardinality
 * dimensions (a million events make about a million source-IP rows), so each local day keeps a
 * digest of its top DIGEST_SIZE keys per dimension (table report_day_tops in the account's
 * AccountIngestDO, worker/ingest/account-reports.ts) and a period merges its
 * days' digests. A digest is recomputed when its day's attack total no longer matches (events that
 * arrived late). A day with more keys than the digest keeps makes a multi-day top list
 * approximate: keys below a day's cut are not summed (the report says so). A day's digest is the
 * merge of the top lists of the shards holding its hours (worker/reports/sources.ts): a single day
 * held by one shard is exact; one spread over several shards is approximate where a list was cut.
 */

export const TOP_DIMENSIONS = ["attack_type", "host", "path", "remote_addr", "country"] as const;
export type TopDimension = (typeof TOP_DIMENSIONS)[number];
const DIGEST_SIZE = 100;

type DayTops = Record<TopDimension, [string, number][]>;

interface DayRange {
  day: string;
  fromHour: number;
  toHour: number;
}

/** The local days of a period with their rollup-hour ranges. */
export function dayRanges(period: ReportPeriod): DayRange[] {
  const days: DayRange[] = [];
  for (let day = period.start; day <= period.end; day = addDays(day, 1)) {
    days.push({
      day,
      fromHour: toRollupHour(localDayStartMs(day, period.timeZone)),
      toHour: toRollupHour(localDayStartMs(addDays(day, 1), period.timeZone)),
    });
  }
  return days;
}

/** Which day of `ranges` holds a rollup hour (-1 outside). */
export function dayIndex(ranges: DayRange[], hour: number): number {
  const index = bucketIndex(
    ranges.map((r) => ({ startMs: r.fromHour, label: r.day })),
    hour,
  );
  const range = ranges[index];
  return range && hour < range.toHour ? index : -1;
}

function emptyTops(): DayTops {
  return { attack_type: [], host: [], path: [], remote_addr: [], country: [] };
}

interface Digest {
  attacks: number;
  tops: DayTops;
  truncated: TopDimension[];
}

function digestFrom(rows: RollupTopRow[], attacks: number): Digest {
  const tops = emptyTops();
  const truncated = new Set<TopDimension>();
  for (const dimension of TOP_DIMENSIONS) {
    const ranked = rows
      .filter((row) => row.dimension === dimension)
      .sort((a, b) => b.total - a.total || (a.key < b.key ? -1 : 1));
    tops[dimension] = ranked.slice(0, DIGEST_SIZE).map((row) => [row.key, row.total]);
    if (ranked.length > DIGEST_SIZE || ranked.some((row) => row.keys > DIGEST_SIZE)) truncated.add(dimension);
  }
  return { attacks, tops, truncated: [...truncated] };
}

/**
 * The period's top `limit` keys per dimension, as shares of `attacks` (all hits and incidents of
 * the period), and the dimensions whose counts may be low (see above). `dayAttacks` is each day's
 * hit + incident total from the rollups' total rows, read by the caller anyway; `shards` are the
 * account's shards overlapping the period.
 */
export async function periodTops(
  env: Env,
  accountId: string,
  period: ReportPeriod,
  dayAttacks: Map<string, number>,
  shards: ShardEntry[],
  limit: number,
  now = Date.now(),
): Promise<{ tops: Record<TopDimension, RankedRow[]>; approximate: TopDimension[] }> {
  const days = dayRanges(period);
  const account = accountIngestObject(env, accountId);
  const stored = await account.dayTops(period.timeZone, period.start, period.end);
  const digests = new Map<string, Digest>();
  for (const row of stored) {
    digests.set(row.day, { attacks: row.attacks, tops: JSON.parse(row.tops), truncated: JSON.parse(row.truncated) });
  }

  // Days without a digest, or whose totals moved since it was made, are computed now.
  const stale = days.filter((d) => {
    const attacks = dayAttacks.get(d.day) ?? 0;
    return attacks > 0 && digests.get(d.day)?.attacks !== attacks;
  });
  if (stale.length > 0) {
    const answers = await Promise.all(
      stale.map((d) =>
        accountTopRows(env, accountId, shards, {
          fromHour: d.fromHour,
          toHour: d.toHour,
          dimensions: [...TOP_DIMENSIONS],
          limit: DIGEST_SIZE,
        }),
      ),
    );
    const finished: DayTopsRow[] = [];
    stale.forEach((d, i) => {
      const digest = digestFrom(answers[i] ?? [], dayAttacks.get(d.day) ?? 0);
      digests.set(d.day, digest);
      // Only a finished day is kept: today's totals are still moving.
      if (d.toHour <= now) {
        finished.push({
          timeZone: period.timeZone,
          day: d.day,
          attacks: digest.attacks,
          tops: JSON.stringify(digest.tops),
          truncated: JSON.stringify(digest.truncated),
          computedAt: now,
        });
      }
    });
    if (finished.length > 0) await account.saveDayTops(finished);
  }

  // Merge the days that had attacks.
  const sums = Object.fromEntries(TOP_DIMENSIONS.map((d) => [d, new Map<string, number>()])) as Record<
    TopDimension,
    Map<string, number>
  >;
  const approximate = new Set<TopDimension>();
  let total = 0;
  for (const d of days) {
    const attacks = dayAttacks.get(d.day) ?? 0;
    const digest = digests.get(d.day);
    if (attacks === 0 || !digest) continue;
    total += attacks;
    for (const dimension of TOP_DIMENSIONS) {
      for (const [key, count] of digest.tops[dimension] ?? [])
        sums[dimension].set(key, (sums[dimension].get(key) ?? 0) + count);
    }
    // One shard's cut list is exact for its own day; sums of cut lists may miss counts.
    const merged = shards.filter((s) => s.periodStart < d.toHour && s.periodEnd > d.fromHour).length > 1;
    if (days.length > 1 || merged) for (const dimension of digest.truncated) approximate.add(dimension);
  }
  const tops = Object.fromEntries(
    TOP_DIMENSIONS.map((dimension) => [
      dimension,
      [...sums[dimension]]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, limit)
        .map(([key, count]) => ({ key, count, share: total > 0 ? count / total : 0 })),
    ]),
  ) as Record<TopDimension, RankedRow[]>;
  return { tops, approximate: TOP_DIMENSIONS.filter((d) => approximate.has(d)) };
}
