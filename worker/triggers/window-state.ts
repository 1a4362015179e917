import type { WindowTops } from "./notices";
import {
  type BucketTops,
  emptyTops,
  fold,
  mergeTops,
  type PendingTallies,
  type Tally,
  topsFromJson,
  topsToJson,
} from "./tallies";

/**
 * The counting state of triggers: per-minute buckets per (trigger, group) with small tallies of
 * the window's tops, and when each (trigger, group) last notified. One implementation for the
 * live evaluator (kept in the SQLite of the per-account object) and the preview (memory only, no
 * side effects), so both run the same rules (worker/triggers/rules.ts).
 */

/** The counts of one (trigger, group): looked up once per event, then counted through. */
export interface GroupWindow {
  readonly triggerId: string;
  readonly group: string;
}

export interface WindowState {
  /** The counts of a (trigger, group), valid until the batch ends. */
  window(triggerId: string, group: string): GroupWindow;
  /** Counts one event in its minute. */
  add(window: GroupWindow, minute: number, tally: Tally): void;
  /** The group's latest minute with a count (null when it has none). */
  newestMinute(window: GroupWindow): number | null;
  /** Events counted in minutes [fromMinute, toMinute]. */
  count(window: GroupWindow, fromMinute: number, toMinute: number): number;
  tops(window: GroupWindow, fromMinute: number, toMinute: number): WindowTops;
  /** Forgets the group's counts: events that made one notice never count towards the next. */
  clear(window: GroupWindow): void;
  lastFired(triggerId: string, group: string): number | null;
  setFired(triggerId: string, group: string, at: number): void;
}

/** Tallies waiting in `Bucket.pending` before they are folded into its tops (bounds a spray's memory). */
const MAX_PENDING_TALLIES = 128;

interface Bucket {
  count: number;
  tops: BucketTops;
  /**
   * Events counted since the last fold, per distinct tally in the order first seen: one Map
   * lookup per event instead of one per dimension. Folded before the tops are read or stored.
   */
  pending: PendingTallies;
  dirty: boolean;
}

interface GroupState extends GroupWindow {
  /** In `dirtyGroups`: changed since the last flush. */
  dirty: boolean;
  buckets: Map<number, Bucket>;
  /** Its rows must be deleted before the dirty buckets are written (a notice restarted it). */
  cleared: boolean;
  /** Its latest minute with a count. */
  newest: number | null;
  /** The last window summed, kept up to date by `add`: most events of a batch share a window. */
  lastWindow: { from: number; to: number; sum: number } | null;
  /** The bucket `add` counted in last, and its minute: most events of a batch share a minute. */
  lastBucket: Bucket | null;
  lastMinute: number;
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

/** Bucket rows per upsert statement: 5 bound values each, within SQLite's 100 per statement. */
const ROWS_PER_UPSERT = 20;

/** Groups kept in memory between batches; past it the first loaded are dropped (re-read when needed). */
export const MAX_CACHED_GROUPS = 10_000;

/**
 * Buckets and throttle marks in memory, read from SQLite the first time a group is touched and
 * written back by `flush()` (one row per changed minute, not per event; the evaluator calls it at
 * most once a second, and when a batch fires). In a
 * Durable Object the batch's writes and the flush run in one synchronous stretch, which the
 * runtime commits at once. Without `sql` (the preview) it never touches storage.
 */
export class WindowStore implements WindowState {
  /** trigger id → group key → state: no key string built per lookup on the ingest path. */
  private readonly groups = new Map<string, Map<string, GroupState>>();
  private cachedGroups = 0;
  private readonly fired = new Map<string, { at: number | null; dirty: boolean }>();
  /** What `flush` has to write: the groups and throttle marks changed since it last ran. */
  private readonly dirtyGroups = new Set<GroupState>();
  /** The group of the last call: `add` and `count` of one event ask for the same one in a row. */
  private last: GroupState | null = null;
  private readonly dirtyFired = new Set<string>();

  constructor(private readonly sql: SqlStorage | null) {
    if (sql) for (const statement of WINDOW_STATE_SCHEMA) sql.exec(statement);
  }

  window(triggerId: string, group: string): GroupWindow {
    return this.group(triggerId, group);
  }

  private group(triggerId: string, group: string): GroupState {
    const last = this.last;
    if (last && last.triggerId === triggerId && last.group === group) return last;
    let ofTrigger = this.groups.get(triggerId);
    if (!ofTrigger) {
      ofTrigger = new Map();
      this.groups.set(triggerId, ofTrigger);
    }
    let state = ofTrigger.get(group);
    if (state) {
      this.last = state;
      return state;
    }
    state = {
      triggerId,
      group,
      dirty: false,
      buckets: new Map(),
      cleared: false,
      newest: null,
      lastWindow: null,
      lastBucket: null,
      lastMinute: Number.NaN,
    };
    if (this.sql) {
      const rows = this.sql.exec<{ minute: number; count: number; tops: string }>(
        "SELECT minute, count, tops FROM trigger_buckets WHERE trigger_id = ? AND group_key = ?",
        triggerId,
        group,
      );
      for (const row of rows) {
        state.buckets.set(row.minute, {
          count: row.count,
          tops: topsFromJson(row.tops),
          pending: new Map(),
          dirty: false,
        });
        if (state.newest === null || row.minute > state.newest) state.newest = row.minute;
      }
    }
    ofTrigger.set(group, state);
    this.cachedGroups++;
    this.last = state;
    return state;
  }

  private touched(state: GroupState) {
    if (state.dirty) return;
    state.dirty = true;
    this.dirtyGroups.add(state);
  }

  add(window: GroupWindow, minute: number, tally: Tally) {
    const state = window as GroupState;
    this.touched(state);
    let bucket = state.lastMinute === minute ? state.lastBucket : state.buckets.get(minute);
    if (!bucket) {
      bucket = { count: 0, tops: emptyTops(), pending: new Map(), dirty: true };
      state.buckets.set(minute, bucket);
    }
    state.lastBucket = bucket;
    state.lastMinute = minute;
    bucket.count++;
    bucket.dirty = true;
    if (state.newest === null || minute > state.newest) state.newest = minute;
    const pending = bucket.pending.get(tally.id);
    if (pending !== undefined) pending.n++;
    else {
      bucket.pending.set(tally.id, { tally, n: 1 });
      if (bucket.pending.size >= MAX_PENDING_TALLIES) fold(bucket.tops, bucket.pending);
    }
    const last = state.lastWindow;
    if (last && minute >= last.from && minute <= last.to) last.sum++;
  }

  newestMinute(window: GroupWindow) {
    return (window as GroupState).newest;
  }

  count(window: GroupWindow, fromMinute: number, toMinute: number) {
    const state = window as GroupState;
    const last = state.lastWindow;
    if (last && last.from === fromMinute && last.to === toMinute) return last.sum;
    let sum = 0;
    for (const [minute, bucket] of state.buckets) if (minute >= fromMinute && minute <= toMinute) sum += bucket.count;
    state.lastWindow = { from: fromMinute, to: toMinute, sum };
    return sum;
  }

  tops(window: GroupWindow, fromMinute: number, toMinute: number) {
    const buckets = [...(window as GroupState).buckets]
      .filter(([minute]) => minute >= fromMinute && minute <= toMinute)
      .map(([, bucket]) => {
        fold(bucket.tops, bucket.pending);
        return bucket.tops;
      });
    return mergeTops(buckets);
  }

  clear(window: GroupWindow) {
    const state = window as GroupState;
    state.buckets.clear();
    state.newest = null;
    state.cleared = true;
    this.touched(state);
    state.lastWindow = null;
    state.lastBucket = null;
    state.lastMinute = Number.NaN;
  }

  lastFired(triggerId: string, group: string) {
    const key = `${triggerId}\n${group}`;
    let mark = this.fired.get(key);
    if (!mark) {
      const row = this.sql
        ?.exec<{ fired_at: number }>(
          "SELECT fired_at FROM trigger_fired WHERE trigger_id = ? AND group_key = ?",
          triggerId,
          group,
        )
        .toArray()[0];
      mark = { at: row?.fired_at ?? null, dirty: false };
      this.fired.set(key, mark);
    }
    return mark.at;
  }

  setFired(triggerId: string, group: string, at: number) {
    const key = `${triggerId}\n${group}`;
    this.fired.set(key, { at, dirty: true });
    this.dirtyFired.add(key);
  }

  /** Writes what changed since the last flush to SQLite (only that), then keeps the cache bounded. */
  flush() {
    const sql = this.sql;
    if (!sql) return;
    const rows: (string | number)[] = [];
    for (const state of this.dirtyGroups) {
      const { triggerId, group } = state;
      state.dirty = false;
      if (state.cleared) {
        sql.exec("DELETE FROM trigger_buckets WHERE trigger_id = ? AND group_key = ?", triggerId, group);
        state.cleared = false;
      }
      for (const [minute, bucket] of state.buckets) {
        if (!bucket.dirty) continue;
        fold(bucket.tops, bucket.pending);
        rows.push(triggerId, group, minute, bucket.count, topsToJson(bucket.tops));
        bucket.dirty = false;
      }
    }
    this.dirtyGroups.clear();
    // Many rows per statement: a flush writes hundreds under load (after any restart's DELETE above).
    for (let at = 0; at < rows.length; at += ROWS_PER_UPSERT * 5) {
      const values = rows.slice(at, at + ROWS_PER_UPSERT * 5);
      sql.exec(
        `INSERT INTO trigger_buckets (trigger_id, group_key, minute, count, tops) VALUES ${Array.from(
          { length: values.length / 5 },
          () => "(?, ?, ?, ?, ?)",
        ).join(", ")}
         ON CONFLICT (trigger_id, group_key, minute) DO UPDATE SET count = excluded.count, tops = excluded.tops`,
        ...values,
      );
    }
    for (const key of this.dirtyFired) {
      const mark = this.fired.get(key);
      if (!mark?.dirty || mark.at === null) continue;
      const [triggerId, group] = key.split("\n") as [string, string];
      sql.exec(
        `INSERT INTO trigger_fired (trigger_id, group_key, fired_at) VALUES (?, ?, ?)
         ON CONFLICT (trigger_id, group_key) DO UPDATE SET fired_at = excluded.fired_at`,
        triggerId,
        group,
        mark.at,
      );
      mark.dirty = false;
    }
    this.dirtyFired.clear();
    // Past the bound, whole triggers' caches go, oldest first (re-read when touched again).
    for (const [triggerId, ofTrigger] of this.groups) {
      if (this.cachedGroups <= MAX_CACHED_GROUPS) break;
      this.groups.delete(triggerId);
      this.cachedGroups -= ofTrigger.size;
      this.last = null;
    }
    if (this.fired.size > MAX_CACHED_GROUPS) this.fired.clear();
  }

  /** Drops buckets before `beforeMinute` and throttle marks older than `beforeMs` (after a flush). */
  prune(beforeMinute: number, beforeMs: number) {
    this.sql?.exec("DELETE FROM trigger_buckets WHERE minute < ?", beforeMinute);
    this.sql?.exec("DELETE FROM trigger_fired WHERE fired_at < ?", beforeMs);
    for (const state of [...this.groups.values()].flatMap((ofTrigger) => [...ofTrigger.values()])) {
      for (const minute of state.buckets.keys()) if (minute < beforeMinute) state.buckets.delete(minute);
      state.lastWindow = null;
      state.lastBucket = null;
      state.lastMinute = Number.NaN;
    }
    for (const [key, mark] of this.fired) if (mark.at !== null && mark.at < beforeMs) this.fired.delete(key);
  }

  /** Forgets every count and throttle mark of a trigger (deleted, or its definition changed). */
  forget(triggerId: string) {
    this.sql?.exec("DELETE FROM trigger_buckets WHERE trigger_id = ?", triggerId);
    this.sql?.exec("DELETE FROM trigger_fired WHERE trigger_id = ?", triggerId);
    const prefix = `${triggerId}\n`;
    this.cachedGroups -= this.groups.get(triggerId)?.size ?? 0;
    this.groups.delete(triggerId);
    // Not written back after their rows were deleted.
    for (const state of this.dirtyGroups) if (state.triggerId === triggerId) this.dirtyGroups.delete(state);
    this.last = null;
    for (const key of this.fired.keys()) if (key.startsWith(prefix)) this.fired.delete(key);
  }
}
