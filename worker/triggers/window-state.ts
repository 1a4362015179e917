import {
  appendToJournal,
  type BucketRow,
  clearJournal,
  JOURNAL_SCHEMA,
  replayJournal,
  upsertBuckets,
} from "./bucket-journal";
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
  /** Changed since its last write, to the journal or the table. */
  dirty: boolean;
  /** Its row in `trigger_buckets` is older than its state (only the journal holds it). */
  unsettled: boolean;
}

interface GroupState extends GroupWindow {
  /** In `dirtyGroups`: changed since the last flush. */
  dirty: boolean;
  /** In `unsettledGroups`: a bucket of it is in the journal only. */
  unsettled: boolean;
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
  /** Groups with buckets written to the journal only: `flush` writes them to the table. */
  private readonly unsettledGroups = new Set<GroupState>();

  constructor(private readonly sql: SqlStorage | null) {
    if (!sql) return;
    for (const statement of [...WINDOW_STATE_SCHEMA, JOURNAL_SCHEMA]) sql.exec(statement);
    // What the journal holds is newer than the table: in before any group is read.
    replayJournal(sql);
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
      unsettled: false,
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
          unsettled: false,
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
      bucket = { count: 0, tops: emptyTops(), pending: new Map(), dirty: true, unsettled: false };
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

  /**
   * Writes the buckets changed since the last write as journal rows (the 1 s write under load:
   * one row instead of one upsert per bucket); `flush` when a group restarted or a throttle mark
   * changed (a notice: those go to their tables at once), or when the cache is past its bound
   * (only `flush` drops groups, once they are in the table).
   */
  journal() {
    const sql = this.sql;
    if (!sql || this.dirtyGroups.size === 0) return;
    if (
      this.dirtyFired.size > 0 ||
      this.cachedGroups > MAX_CACHED_GROUPS ||
      [...this.dirtyGroups].some((state) => state.cleared)
    ) {
      this.flush();
      return;
    }
    const rows: BucketRow[] = [];
    for (const state of this.dirtyGroups) {
      state.dirty = false;
      for (const [minute, bucket] of state.buckets) {
        if (!bucket.dirty) continue;
        rows.push(this.rowOf(state, minute, bucket));
        bucket.unsettled = true;
      }
      if (!state.unsettled) {
        state.unsettled = true;
        this.unsettledGroups.add(state);
      }
    }
    this.dirtyGroups.clear();
    appendToJournal(sql, rows);
  }

  private rowOf(state: GroupState, minute: number, bucket: Bucket): BucketRow {
    fold(bucket.tops, bucket.pending);
    bucket.dirty = false;
    return [state.triggerId, state.group, minute, bucket.count, topsToJson(bucket.tops)];
  }

  /**
   * Writes every bucket not yet in the table (changed, or in the journal only) and empties the
   * journal, then the throttle marks, then keeps the cache bounded (only written groups are dropped).
   */
  flush() {
    const sql = this.sql;
    if (!sql) return;
    const rows: BucketRow[] = [];
    for (const state of new Set([...this.unsettledGroups, ...this.dirtyGroups])) {
      const { triggerId, group } = state;
      state.dirty = false;
      state.unsettled = false;
      if (state.cleared) {
        sql.exec("DELETE FROM trigger_buckets WHERE trigger_id = ? AND group_key = ?", triggerId, group);
        state.cleared = false;
      }
      for (const [minute, bucket] of state.buckets) {
        if (!bucket.dirty && !bucket.unsettled) continue;
        rows.push(this.rowOf(state, minute, bucket));
        bucket.unsettled = false;
      }
    }
    this.dirtyGroups.clear();
    this.unsettledGroups.clear();
    // Many rows per statement: a flush writes hundreds under load (after any restart's DELETE above).
    upsertBuckets(sql, rows);
    clearJournal(sql);
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
    // The journal must not bring them back after a restart: it is written out first.
    this.flush();
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
