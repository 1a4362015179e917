import type { TopEntry, WindowTops } from "./notices";

/**
 * The tallies behind a threshold notice's tops (worker/triggers/window-state.ts keeps one per
 * bucket): per dimension, the first values seen and their counts.
 */

export const TOP_DIMENSIONS = ["hosts", "attackTypes", "sourceIps", "countries"] as const;
export type TopDimension = (typeof TOP_DIMENSIONS)[number];
/** The values of one event per dimension, in `TOP_DIMENSIONS` order (undefined when it has none). */
export interface Tally {
  /** Unique per interned tally: buckets count by it (a number keys a Map faster than an object). */
  readonly id: number;
  readonly values: readonly [string | undefined, string | undefined, string | undefined, string | undefined];
  /** Group keys of these values by group-by number (worker/triggers/rules.ts), built on first use. */
  readonly groupKeys: (string | undefined)[];
}
/** Per dimension (`TOP_DIMENSIONS` order), value → count (Maps: counting is on the ingest path; JSON only when stored). */
export type BucketTops = [Map<string, number>, Map<string, number>, Map<string, number>, Map<string, number>];

/**
 * Distinct values kept per dimension and minute: a minute of a spray from 10 000 addresses keeps
 * the first 20 seen (and their counts), so a bucket stays a few hundred bytes.
 */
export const MAX_TALLY_KEYS = 20;
export const TOP_SIZE = 5;

/**
 * Interned tallies, by host, attack type, source IP and country (nested: no key string built per
 * event): the events of a batch repeat few combinations of values (`Bucket.pending`, window-state.ts).
 */
type Interned = Map<
  string | undefined,
  Map<string | undefined, Map<string | undefined, Map<string | undefined, Tally>>>
>;
let interned: Interned = new Map();
let internedCount = 0;
const MAX_INTERNED = 10_000;
let nextTallyId = 0;

/** The inner map under `key`, made when missing (no callback: this runs for every counted event). */
function child<K, V>(map: Map<K, Map<string | undefined, V>>, key: K): Map<string | undefined, V> {
  let value = map.get(key);
  if (value === undefined) {
    value = new Map();
    map.set(key, value);
  }
  return value;
}

/**
 * One tally object per combination of values, so a bucket can count events per combination with
 * one Map lookup instead of one per dimension.
 */
export function internTally(
  host: string | undefined,
  attackType: string | undefined,
  sourceIp: string | undefined,
  country: string | undefined,
): Tally {
  // A cleared table only costs compression: equal tallies then count under two ids.
  if (internedCount >= MAX_INTERNED) {
    interned = new Map();
    internedCount = 0;
  }
  const byCountry = child(child(child(interned, host), attackType), sourceIp);
  let tally = byCountry.get(country);
  if (!tally) {
    tally = { id: nextTallyId++, values: [host, attackType, sourceIp, country], groupKeys: [] };
    byCountry.set(country, tally);
    internedCount++;
  }
  return tally;
}

/** Events counted per distinct tally id, in the order first seen, not yet folded into the tops. */
export type PendingTallies = Map<number, { tally: Tally; n: number }>;

export const emptyTops = (): BucketTops => [new Map(), new Map(), new Map(), new Map()];

/** Adds `n` events with this tally's values: a value not yet among the first MAX_TALLY_KEYS is dropped. */
export function addToTops(tops: BucketTops, tally: Tally, n: number) {
  for (let d = 0; d < 4; d++) {
    const value = tally.values[d];
    if (value === undefined) continue;
    const counts = tops[d] as Map<string, number>;
    const current = counts.get(value);
    if (current !== undefined) counts.set(value, current + n);
    else if (counts.size < MAX_TALLY_KEYS) counts.set(value, n);
  }
}

/**
 * Moves the pending tallies into the bucket's tops. Applying each distinct tally once, in the
 * order first seen, keeps the same values and counts as applying every event in turn: a value's
 * first event is the first event of the first tally that holds it.
 */
export function fold(tops: BucketTops, pending: PendingTallies) {
  if (pending.size === 0) return;
  for (const { tally, n } of pending.values()) addToTops(tops, tally, n);
  pending.clear();
}

export function topsToJson(tops: BucketTops): string {
  const parts: string[] = [];
  tops.forEach((counts, d) => {
    if (counts.size > 0)
      parts.push(`${JSON.stringify(TOP_DIMENSIONS[d])}:${JSON.stringify(Object.fromEntries(counts))}`);
  });
  return `{${parts.join(",")}}`;
}

export function topsFromJson(text: string): BucketTops {
  const parsed = JSON.parse(text) as Partial<Record<TopDimension, Record<string, number>>>;
  return TOP_DIMENSIONS.map((d) => new Map(Object.entries(parsed[d] ?? {}))) as BucketTops;
}

export function mergeTops(buckets: Iterable<BucketTops>): WindowTops {
  const sums = emptyTops();
  for (const bucket of buckets) {
    for (let d = 0; d < 4; d++) {
      const sum = sums[d] as Map<string, number>;
      for (const [value, count] of bucket[d] as Map<string, number>) sum.set(value, (sum.get(value) ?? 0) + count);
    }
  }
  const top = (map: Map<string, number>): TopEntry[] =>
    [...map]
      .map(([value, count]) => ({ value, count }))
      .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))
      .slice(0, TOP_SIZE);
  const [hosts, attackTypes, sourceIps, countries] = sums;
  return { hosts: top(hosts), attackTypes: top(attackTypes), sourceIps: top(sourceIps), countries: top(countries) };
}
