/**
 * A shard's rollups (worker/events/shard-store.ts, docs/data-plane.md#eventsharddo), counted in
 * JavaScript from the rows in hand and written in batches: the rows past `meta.rolled_up_seq` are
 * the ones not in the rollups yet. Their counts wait here until ROLLUP_FLUSH_ROWS of them are
 * pending or a rollup read comes (which writes them first: reads stay exact); a restart counts
 * them again from the stored rows. Most hits share their hour's keys (hosts, countries, nodes,
 * repeating addresses), so one upsert per key per batch replaces one per key per insert.
 */
import { HOUR_MS } from "../lib/time";
import type { RollupDimension, ShardInsertRow } from "./shard-types";

/** Rows whose counts may wait before they are written. */
export const ROLLUP_FLUSH_ROWS = 5_000;

/**
 * Adds ?1, a JSON array of [event_type, dimension, hour, key, count] (one per distinct key), to
 * the rollups. It reads nothing back from `events` and has no GROUP BY to sort.
 */
export const ROLL_UP = `INSERT INTO rollups (event_type, dimension, hour, key, count)
SELECT value->>0, value->>1, value->>2, value->>3, value->>4 FROM json_each(?1) WHERE true
ON CONFLICT (event_type, dimension, hour, key) DO UPDATE SET count = count + excluded.count`;

/** The stored rows not rolled up yet (after a restart), with what their keys need. */
const PAST_WATERMARK = `SELECT seq, occurred_at, node_id, type, risk, attack_type, host, path, remote_addr,
  remote_country, block_status, CASE WHEN type = 'scope_change' THEN data END AS data
  FROM events WHERE seq > ? AND type <> 'system'`;

type RollupCount = [eventType: string, dimension: RollupDimension, hour: number, key: string, count: number];
type RollupSource = Pick<
  ShardInsertRow,
  | "seq"
  | "occurredAt"
  | "nodeId"
  | "type"
  | "risk"
  | "attackType"
  | "host"
  | "path"
  | "remoteAddr"
  | "remoteCountry"
  | "blockStatus"
  | "data"
>;

/**
 * A row's key in each rollup dimension (none where the dimension does not apply). Dimensions as
 * in worker/db/schema.ts (event_rollups), plus `node`.
 */
function rollupKeys(row: RollupSource): [RollupDimension, string | null | undefined][] {
  const hitLike = row.type === "hit" || row.type === "incident";
  return [
    ["total", ""],
    ["attack_type", row.attackType],
    ["block_status", row.blockStatus],
    ["host", row.host],
    ["path", hitLike ? row.path : null],
    ["remote_addr", row.remoteAddr],
    ["country", row.remoteCountry],
    ["risk", row.risk],
    ["scope_change", row.type === "scope_change" ? scopeKey(row.data) : null],
    ["node", row.nodeId],
  ];
}

/** `change:object_type` of a scope change; none when either is missing. */
function scopeKey(data: string): string | null {
  const event = JSON.parse(data) as { change?: unknown; object_type?: unknown };
  if (event.change == null || event.object_type == null) return null;
  return `${event.change}:${event.object_type}`;
}

function count(counts: Map<string, RollupCount>, row: RollupSource): void {
  const hour = row.occurredAt - (row.occurredAt % HOUR_MS);
  for (const [dimension, key] of rollupKeys(row)) {
    if (key === null || key === undefined) continue;
    const id = `${row.type}\u0000${dimension}\u0000${hour}\u0000${key}`;
    const counted = counts.get(id);
    if (counted) counted[4]++;
    else counts.set(id, [row.type, dimension, hour, key, 1]);
  }
}

/** The rollup counts that wait for their write. Every method runs inside the caller's transaction. */
export class PendingRollups {
  private readonly counts = new Map<string, RollupCount>();
  private rows = 0;
  private maxSeq = 0;
  /** meta.rolled_up_seq: every stored row up to this seq is in the rollups table. */
  private rolledUpTo = 0;

  constructor(private readonly sql: SqlStorage) {}

  /** Reads the watermark and counts the stored rows past it again (start, or a rolled-back write). */
  reload(): void {
    // A shard stored before batching rolled every row up at once: its watermark is its last seq.
    this.sql.exec(
      `INSERT OR IGNORE INTO meta (key, value) VALUES ('rolled_up_seq', (SELECT coalesce(max(seq), 0) FROM events))`,
    );
    this.rolledUpTo = this.sql
      .exec<{ value: number }>(`SELECT value FROM meta WHERE key = 'rolled_up_seq'`)
      .one().value;
    this.counts.clear();
    this.rows = 0;
    this.maxSeq = this.rolledUpTo;
    for (const row of this.sql.exec<Record<string, SqlStorageValue>>(PAST_WATERMARK, this.rolledUpTo)) {
      this.take({
        seq: row.seq as number,
        occurredAt: row.occurred_at as number,
        nodeId: row.node_id as string | null,
        type: row.type as ShardInsertRow["type"],
        risk: row.risk as string | null,
        attackType: row.attack_type as string | null,
        host: row.host as string | null,
        path: row.path as string | null,
        remoteAddr: row.remote_addr as string | null,
        remoteCountry: row.remote_country as string | null,
        blockStatus: row.block_status as string | null,
        data: (row.data as string | null) ?? "{}",
      });
    }
  }

  /**
   * Takes in rows just stored (system events are not rolled up). A row at or below the watermark
   * (a seq that arrived late) is rolled up at once, so "past the watermark" stays exactly "pending".
   */
  add(rows: ShardInsertRow[]): void {
    const late = new Map<string, RollupCount>();
    for (const row of rows) {
      if (row.type === "system") continue;
      if (row.seq <= this.rolledUpTo) count(late, row);
      else this.take(row);
    }
    if (late.size > 0) this.sql.exec(ROLL_UP, JSON.stringify([...late.values()]));
    if (this.rows >= ROLLUP_FLUSH_ROWS) this.flush();
  }

  /** Writes the pending counts and moves the watermark past them. */
  flush(): void {
    if (this.rows === 0) return;
    this.sql.exec(ROLL_UP, JSON.stringify([...this.counts.values()]));
    this.sql.exec(`UPDATE meta SET value = ? WHERE key = 'rolled_up_seq'`, this.maxSeq);
    this.rolledUpTo = this.maxSeq;
    this.counts.clear();
    this.rows = 0;
  }

  private take(row: RollupSource): void {
    count(this.counts, row);
    this.rows++;
    if (row.seq > this.maxSeq) this.maxSeq = row.seq;
  }
}
