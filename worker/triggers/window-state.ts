import type { TopEntry, WindowTops } from "./notices";

/**
 * The counting state of triggers: per-minute buckets per (trigger, group) with small tallies of
 * the window's tops, and when each (trigger, group) last notified. Two stores behind one
 * interface, so the live evaluator (SQLite of the per-account object) and the preview (memory,
 * no side effects) run the same rules (worker/triggers/rules.ts).
 */

export const TOP_DIMENSIONS = ["hosts", "attackTypes", "sourceIps", "countries"] as const;
export type TopDimension = (typeof TOP_DIMENSIONS)[number];
/** The values of one event for each dimension (absent when the event has none). */
export type Tally = Partial<Record<TopDimension, string>>;
type BucketTops = Partial<Record<TopDimension, Record<string, number>>>;

/**
 * Distinct values kept per dimension and minute: a minute of a spray from 10 000 addresses keeps
 * the first 20 seen (and their counts), so a bucket stays a few hundred bytes.
 */
export const MAX_TALLY_KEYS = 20;
export const TOP_SIZE = 5;

export interface WindowState {
  /** Counts one event in its minute. */
  add(triggerId: string, group: string, minute: number, tally: Tally): void;
  /** Events counted in minutes [fromMinute, toMinute]. */
  count(triggerId: string, group: string, fromMinute: number, toMinute: number): number;
  tops(triggerId: string, group: string, fromMinute: number, toMinute: number): WindowTops;
  /** Forgets the group's counts: events that made one notice never count towards the next. */
  clear(triggerId: string, group: string): void;
  lastFired(triggerId: string, group: string): number | null;
  setFired(triggerId: string, group: string, at: number): void;
}

function addToTops(tops: BucketTops, tally: Tally) {
  for (const dimension of TOP_DIMENSIONS) {
    const value = tally[dimension];
    if (value === undefined) continue;
    tops[dimension] ??= {};
    const counts = tops[dimension];
    if (value in counts) counts[value] = (counts[value] ?? 0) + 1;
    else if (Object.keys(counts).length < MAX_TALLY_KEYS) counts[value] = 1;
  }
}

function mergeTops(buckets: Iterable<BucketTops>): WindowTops {
  const sums = Object.fromEntries(TOP_DIMENSIONS.map((d) => [d, new Map<string, number>()])) as Record<
    TopDimension,
    Map<string, number>
  >;
  for (const bucket of buckets) {
    for (const dimension of TOP_DIMENSIONS) {
      for (const [value, count] of Object.entries(bucket[dimension] ?? {})) {
        sums[dimension].set(value, (sums[dimension].get(value) ?? 0) + count);
      }
    }
  }
  const top = (map: Map<string, number>): TopEntry[] =>
    [...map]
      .map(([value, count]) => ({ value, count }))
      .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))
      .slice(0, TOP_SIZE);
  return {
    hosts: top(sums.hosts),
    attackTypes: top(sums.attackTypes),
    sourceIps: top(sums.sourceIps),
    countries: top(sums.countries),
  };
}

/** For the preview: everything in maps, gone with the request. */
export class MemoryWindowState implements WindowState {
  private readonly buckets = new Map<string, Map<number, { count: number; tops: BucketTops }>>();
  private readonly fired = new Map<string, number>();

  private groupBuckets(triggerId: string, group: string) {
    const key = `${triggerId}\n${group}`;
    let buckets = this.buckets.get(key);
    if (!buckets) {
      buckets = new Map();
      this.buckets.set(key, buckets);
    }
    return buckets;
  }

  add(triggerId: string, group: string, minute: number, tally: Tally) {
    const buckets = this.groupBuckets(triggerId, group);
    let bucket = buckets.get(minute);
    if (!bucket) {
      bucket = { count: 0, tops: {} };
      buckets.set(minute, bucket);
    }
    bucket.count++;
    addToTops(bucket.tops, tally);
  }

  private inWindow(triggerId: string, group: string, fromMinute: number, toMinute: number) {
    return [...this.groupBuckets(triggerId, group)].filter(([m]) => m >= fromMinute && m <= toMinute).map(([, b]) => b);
  }

  count(triggerId: string, group: string, fromMinute: number, toMinute: number) {
    return this.inWindow(triggerId, group, fromMinute, toMinute).reduce((sum, b) => sum + b.count, 0);
  }

  tops(triggerId: string, group: string, fromMinute: number, toMinute: number) {
    return mergeTops(this.inWindow(triggerId, group, fromMinute, toMinute).map((b) => b.tops));
  }

  clear(triggerId: string, group: string) {
    this.buckets.delete(`${triggerId}\n${group}`);
  }

  lastFired(triggerId: string, group: string) {
    return this.fired.get(`${triggerId}\n${group}`) ?? null;
  }

  setFired(triggerId: string, group: string, at: number) {
    this.fired.set(`${triggerId}\n${group}`, at);
  }
}

export const WINDOW_STATE_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS trigger_buckets (
    trigger_id TEXT NOT NULL, group_key TEXT NOT NULL, minute INTEGER NOT NULL,
    count INTEGER NOT NULL, tops TEXT NOT NULL,
    PRIMARY KEY (trigger_id, group_key, minute)
  ) WITHOUT ROWID`,
  `CREATE INDEX IF NOT EXISTS trigger_buckets_minute_idx ON trigger_buckets (minute)`,
  `CREATE TABLE IF NOT EXISTS trigger_fired (
    trigger_id TEXT NOT NULL, group_key TEXT NOT NULL, fired_at INTEGER NOT NULL,
    PRIMARY KEY (trigger_id, group_key)
  ) WITHOUT ROWID`,
];

/** The live store, in the SQLite of the per-account object. */
export class SqlWindowState implements WindowState {
  constructor(private readonly sql: SqlStorage) {
    for (const statement of WINDOW_STATE_SCHEMA) sql.exec(statement);
  }

  add(triggerId: string, group: string, minute: number, tally: Tally) {
    const row = this.sql
      .exec<{ tops: string }>(
        "SELECT tops FROM trigger_buckets WHERE trigger_id = ? AND group_key = ? AND minute = ?",
        triggerId,
        group,
        minute,
      )
      .toArray()[0];
    const tops: BucketTops = row ? JSON.parse(row.tops) : {};
    addToTops(tops, tally);
    this.sql.exec(
      `INSERT INTO trigger_buckets (trigger_id, group_key, minute, count, tops) VALUES (?, ?, ?, 1, ?)
       ON CONFLICT (trigger_id, group_key, minute) DO UPDATE SET count = count + 1, tops = excluded.tops`,
      triggerId,
      group,
      minute,
      JSON.stringify(tops),
    );
  }

  count(triggerId: string, group: string, fromMinute: number, toMinute: number) {
    const row = this.sql
      .exec<{ total: number | null }>(
        `SELECT SUM(count) AS total FROM trigger_buckets
         WHERE trigger_id = ? AND group_key = ? AND minute BETWEEN ? AND ?`,
        triggerId,
        group,
        fromMinute,
        toMinute,
      )
      .one();
    return row.total ?? 0;
  }

  tops(triggerId: string, group: string, fromMinute: number, toMinute: number) {
    const rows = this.sql
      .exec<{ tops: string }>(
        "SELECT tops FROM trigger_buckets WHERE trigger_id = ? AND group_key = ? AND minute BETWEEN ? AND ?",
        triggerId,
        group,
        fromMinute,
        toMinute,
      )
      .toArray();
    return mergeTops(rows.map((row) => JSON.parse(row.tops) as BucketTops));
  }

  clear(triggerId: string, group: string) {
    this.sql.exec("DELETE FROM trigger_buckets WHERE trigger_id = ? AND group_key = ?", triggerId, group);
  }

  lastFired(triggerId: string, group: string) {
    const row = this.sql
      .exec<{ fired_at: number }>(
        "SELECT fired_at FROM trigger_fired WHERE trigger_id = ? AND group_key = ?",
        triggerId,
        group,
      )
      .toArray()[0];
    return row?.fired_at ?? null;
  }

  setFired(triggerId: string, group: string, at: number) {
    this.sql.exec(
      `INSERT INTO trigger_fired (trigger_id, group_key, fired_at) VALUES (?, ?, ?)
       ON CONFLICT (trigger_id, group_key) DO UPDATE SET fired_at = excluded.fired_at`,
      triggerId,
      group,
      at,
    );
  }

  /** Drops buckets before `beforeMinute` and throttle marks older than `beforeMs`. */
  prune(beforeMinute: number, beforeMs: number) {
    this.sql.exec("DELETE FROM trigger_buckets WHERE minute < ?", beforeMinute);
    this.sql.exec("DELETE FROM trigger_fired WHERE fired_at < ?", beforeMs);
  }

  /** Forgets every count and throttle mark of a trigger (deleted, or its condition changed). */
  forget(triggerId: string) {
    this.sql.exec("DELETE FROM trigger_buckets WHERE trigger_id = ?", triggerId);
    this.sql.exec("DELETE FROM trigger_fired WHERE trigger_id = ?", triggerId);
  }
}
