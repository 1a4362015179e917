/**
 * The events list across shards without reading more than a page: periods are disjoint in time,
 * so walking them newest first and merging only the sub-shards of one period at a time gives the
 * global order (occurred_at DESC, id DESC). Several periods are asked in parallel, a window of 1,
 * then 4, then 16 periods while the page stays short, so a filter matching much costs one period
 * and one matching nothing a few rounds of index probes (docs/data-plane.md, "Reading events").
 */

export interface EventKey {
  occurredAt: number;
  id: string;
}

/** Order of the list: newest first, then the larger id (SQLite's BINARY collation on ASCII ids). */
export function newestFirst(a: EventKey, b: EventKey): number {
  return b.occurredAt - a.occurredAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** The largest number of periods asked at once. */
export const MAX_PARALLEL_PERIODS = 16;
/** How much the window grows after a round that left the page short. */
const WINDOW_GROWTH = 4;

/**
 * The first `limit + 1` rows, in list order, of `periods` (each a list of shard names, newest period
 * first) — `readShard(name, want)` answers a shard's first `want` rows in list order. `more` tells
 * whether rows were left after the page.
 */
export async function pageAcrossPeriods<Row extends EventKey>(
  periods: string[][],
  limit: number,
  readShard: (name: string, want: number) => Promise<Row[]>,
): Promise<{ rows: Row[]; more: boolean }> {
  const rows: Row[] = [];
  let next = 0;
  let window = 1;
  while (next < periods.length && rows.length <= limit) {
    const want = limit + 1 - rows.length;
    const batch = periods.slice(next, next + window);
    next += batch.length;
    const answers = await Promise.all(batch.map((shards) => Promise.all(shards.map((name) => readShard(name, want)))));
    for (const perShard of answers) {
      // Each sub-shard gave its first `want` rows: the period's first `want` are among them.
      const merged = perShard.flat().sort(newestFirst);
      rows.push(...merged.slice(0, limit + 1 - rows.length));
      if (rows.length > limit) break;
    }
    window = Math.min(window * WINDOW_GROWTH, MAX_PARALLEL_PERIODS);
  }
  return { rows: rows.slice(0, limit), more: rows.length > limit };
}
