/**
 * The SQL of one event shard (worker/events/shard-do.ts): its own SQLite (ctx.storage.sql), every
 * method synchronous. Schema and why each index exists: docs/data-plane.md#eventsharddo.
 */
import { PendingRollups } from "./shard-rollups";
import type {
  AfterSeqQuery,
  RollupQuery,
  RollupRow,
  RollupTopRow,
  RollupTopsQuery,
  ScopeChangeQuery,
  ScopeChangeRow,
  ShardEventKey,
  ShardGetQuery,
  ShardInsertedRow,
  ShardInsertRow,
  ShardListQuery,
  StoredShardEvent,
  UnprocessedQuery,
} from "./shard-types";

/** Node event types: what rollups count and list by default (system events are not rolled up). */
const NODE_EVENT_TYPES = ["security_issue", "hit", "incident", "scope_change"];

export const SHARD_SCHEMA = [
  // seq is the rowid: the account seq is unique within a shard and grows with each write, so rows
  // are appended, replay (afterSeq) is a rowid range and no index on seq is needed.
  `CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    node_id TEXT,
    type TEXT NOT NULL,
    system_type TEXT,
    risk TEXT,
    attack_type TEXT,
    host TEXT,
    path TEXT,
    remote_addr TEXT,
    remote_country TEXT,
    block_status TEXT,
    data TEXT NOT NULL,
    processed INTEGER NOT NULL
  )`,
  // A re-sent event has the same instant and id: stored once.
  `CREATE UNIQUE INDEX IF NOT EXISTS events_key ON events (occurred_at, id)`,
  // One per list filter, each ending in (occurred_at, id): a filtered, cursor-paged list is one
  // index range in list order. Partial where the column is often NULL (risk: security issues only).
  `CREATE INDEX IF NOT EXISTS events_type ON events (type, occurred_at, id)`,
  `CREATE INDEX IF NOT EXISTS events_host ON events (host, occurred_at, id) WHERE host IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS events_attack_type ON events (attack_type, occurred_at, id) WHERE attack_type IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS events_risk ON events (risk, occurred_at, id) WHERE risk IS NOT NULL`,
  `CREATE INDEX IF NOT EXISTS events_node ON events (node_id, occurred_at, id) WHERE node_id IS NOT NULL`,
  // Only rows waiting for the account object (a few, briefly): what its alarm looks for.
  `CREATE INDEX IF NOT EXISTS events_unprocessed ON events (received_at) WHERE processed = 0`,
  // (event_type, dimension) lead: a report reads few dimensions over an hour range, never the many
  // source-IP or path keys of the same hours.
  `CREATE TABLE IF NOT EXISTS rollups (
    event_type TEXT NOT NULL,
    dimension TEXT NOT NULL,
    hour INTEGER NOT NULL,
    key TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (event_type, dimension, hour, key)
  ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID`,
];

const INSERT_EVENT = `INSERT OR IGNORE INTO events (seq, id, occurred_at, received_at, node_id, type, system_type, risk,
  attack_type, host, path, remote_addr, remote_country, block_status, data, processed)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

const BY_KEY = `SELECT seq, processed, data FROM events WHERE occurred_at = ? AND id = ?`;

const COLUMNS = `seq, id, occurred_at, received_at, node_id, type, system_type, risk, attack_type, host, path,
  remote_addr, remote_country, block_status, data, processed`;

/** The reads other than the list, by name (exported for EXPLAIN QUERY PLAN in tests). */
export const SHARD_READS = {
  byKey: `SELECT ${COLUMNS} FROM events WHERE occurred_at = ? AND id = ?`,
  /** No index on the id alone (a random key, docs/data-plane.md#what-each-index-costs): a walk of this shard's key index. */
  latestById: `SELECT ${COLUMNS} FROM events WHERE id = ? ORDER BY occurred_at DESC LIMIT 1`,
  scopeChanges: `SELECT id, occurred_at, data->>'change' AS change, data->>'object_type' AS object_type,
    data->>'value' AS value
    FROM events WHERE type = 'scope_change' AND occurred_at >= ? AND occurred_at < ?
    ORDER BY occurred_at DESC, id DESC LIMIT ?`,
  unprocessed: `SELECT ${COLUMNS} FROM events WHERE processed = 0 AND received_at < ? ORDER BY received_at LIMIT ?`,
  afterSeq: `SELECT ${COLUMNS} FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`,
};

/**
 * Rollup reads: ?1 event types, ?2 dimensions (JSON arrays), ?3–?4 the hour range. The type and
 * dimension lists lead the join (CROSS JOIN keeps that order), so each pair is one primary-key range.
 */
export const ROLLUP_READS = {
  rows: `SELECT r.hour, r.event_type, r.dimension, r.key, r.count
    FROM json_each(?1) AS t CROSS JOIN json_each(?2) AS d CROSS JOIN rollups AS r
    WHERE r.event_type = t.value AND r.dimension = d.value AND r.hour >= ?3 AND r.hour < ?4
    ORDER BY r.hour, r.event_type, r.dimension, r.key`,
  /** ?5: the top this many keys per dimension, and how many keys each has. */
  tops: `SELECT dimension, key, total, keys FROM (
    SELECT dimension, key, total,
      row_number() OVER (PARTITION BY dimension ORDER BY total DESC, key) AS rank,
      count(*) OVER (PARTITION BY dimension) AS keys
    FROM (
      SELECT d.value AS dimension, r.key AS key, sum(r.count) AS total
      FROM json_each(?1) AS t CROSS JOIN json_each(?2) AS d CROSS JOIN rollups AS r
      WHERE r.event_type = t.value AND r.dimension = d.value AND r.hour >= ?3 AND r.hour < ?4
      GROUP BY d.value, r.key
    )
  ) WHERE rank <= ?5 ORDER BY dimension, rank`,
};

interface EventRow extends Record<string, SqlStorageValue> {
  seq: number;
  id: string;
  occurred_at: number;
  received_at: number;
  node_id: string | null;
  type: string;
  system_type: string | null;
  risk: string | null;
  attack_type: string | null;
  host: string | null;
  path: string | null;
  remote_addr: string | null;
  remote_country: string | null;
  block_status: string | null;
  data: string;
  processed: number;
}

function toStored(row: EventRow): StoredShardEvent {
  return {
    seq: row.seq,
    id: row.id,
    occurredAt: row.occurred_at,
    receivedAt: row.received_at,
    nodeId: row.node_id,
    type: row.type as StoredShardEvent["type"],
    systemType: row.system_type,
    risk: row.risk,
    attackType: row.attack_type,
    host: row.host,
    path: row.path,
    remoteAddr: row.remote_addr,
    remoteCountry: row.remote_country,
    blockStatus: row.block_status,
    data: row.data,
    processed: row.processed === 1,
  };
}

const MAX_LIST_LIMIT = 1000;

/** The list filters: column and the index that serves an equality on it. */
const FILTER_COLUMNS = {
  type: "type",
  host: "host",
  attackType: "attack_type",
  risk: "risk",
  nodeId: "node_id",
} as const;

/** The statement of `list` (exported for EXPLAIN QUERY PLAN in tests). */
export function listStatement(query: ShardListQuery): { sql: string; params: SqlStorageValue[] } {
  const where: string[] = [];
  const params: SqlStorageValue[] = [];
  const filters = query.filters ?? {};
  for (const [name, column] of Object.entries(FILTER_COLUMNS) as [keyof typeof FILTER_COLUMNS, string][]) {
    const value = filters[name];
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    params.push(value);
  }
  if (filters.from !== undefined) {
    where.push("occurred_at >= ?");
    params.push(filters.from);
  }
  // Of `to` and the cursor, only the tighter bound is written (it implies the other): SQLite bounds
  // an index range by one of them, and with the looser one a deep page would step over every row
  // between the two.
  const { before } = query;
  if (filters.to !== undefined && !(before && before.occurredAt < filters.to)) {
    where.push("occurred_at < ?");
    params.push(filters.to);
  } else if (before) {
    where.push("(occurred_at, id) < (?, ?)");
    params.push(before.occurredAt, before.id);
  }
  params.push(Math.max(1, Math.min(MAX_LIST_LIMIT, Math.trunc(query.limit))));
  const sql = `SELECT ${COLUMNS} FROM events${where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""}
    ORDER BY occurred_at DESC, id DESC LIMIT ?`;
  return { sql, params };
}

const keyString = (id: string, occurredAt: number) => `${occurredAt}:${id}`;

export class ShardStore {
  private readonly pendingRollups: PendingRollups;

  constructor(private readonly sql: SqlStorage) {
    this.pendingRollups = new PendingRollups(sql);
  }

  migrate(): void {
    for (const statement of SHARD_SCHEMA) this.sql.exec(statement);
    this.pendingRollups.reload();
  }

  /** Writes the rollup counts still pending (before any rollup read; in a transaction). */
  flushRollups(): void {
    this.pendingRollups.flush();
  }

  /** Counts the pending rollups again from the stored rows (after a write was rolled back). */
  reloadRollups(): void {
    this.pendingRollups.reload();
  }

  /**
   * Inserts the rows (a stored key is ignored) and counts exactly the inserted ones in the rollups
   * (batched: shard-rollups.ts) and the event counter. The caller wraps it in a transaction. Throws when a fresh row's seq is
   * already used by another event (the caller's seq counter went wrong: nothing must be lost silently).
   */
  insert(rows: ShardInsertRow[], markProcessed: boolean): ShardInsertedRow[] {
    const insertedNow = new Set<string>();
    const fresh: ShardInsertRow[] = [];
    const results: ShardInsertedRow[] = [];
    for (const row of rows) {
      const processed = (row.processed ?? markProcessed) ? 1 : 0;
      const cursor = this.sql.exec(
        INSERT_EVENT,
        row.seq,
        row.id,
        row.occurredAt,
        row.receivedAt,
        row.nodeId,
        row.type,
        row.systemType ?? null,
        row.risk ?? null,
        row.attackType ?? null,
        row.host ?? null,
        row.path ?? null,
        row.remoteAddr ?? null,
        row.remoteCountry ?? null,
        row.blockStatus ?? null,
        row.data,
        processed,
      );
      const key = keyString(row.id, row.occurredAt);
      if (cursor.rowsWritten > 0) {
        insertedNow.add(key);
        fresh.push(row);
        results.push({ id: row.id, occurredAt: row.occurredAt, seq: row.seq, fresh: true, processed: processed === 1 });
        continue;
      }
      const stored = this.sql
        .exec<{ seq: number; processed: number; data: string }>(BY_KEY, row.occurredAt, row.id)
        .toArray()[0];
      if (!stored) throw new Error(`event shard: seq ${row.seq} is already used by another event`);
      const result: ShardInsertedRow = {
        id: row.id,
        occurredAt: row.occurredAt,
        seq: stored.seq,
        fresh: false,
        processed: stored.processed === 1,
      };
      if (stored.processed === 0 && !insertedNow.has(key)) result.data = stored.data;
      results.push(result);
    }
    if (fresh.length > 0) {
      this.pendingRollups.add(fresh);
      this.sql.exec(
        `INSERT INTO meta (key, value) VALUES ('events', ?) ON CONFLICT (key) DO UPDATE SET value = value + excluded.value`,
        fresh.length,
      );
    }
    return results;
  }

  /** Whether every row's key is stored already (a full shard still answers a pure re-send). */
  allStored(rows: ShardEventKey[]): boolean {
    return rows.every((row) => this.sql.exec(BY_KEY, row.occurredAt, row.id).toArray().length > 0);
  }

  /** Marks events processed; returns how many changed. */
  markProcessed(keys: ShardEventKey[]): number {
    let marked = 0;
    for (const key of keys) {
      marked += this.sql.exec(
        `UPDATE events SET processed = 1 WHERE occurred_at = ? AND id = ? AND processed = 0`,
        key.occurredAt,
        key.id,
      ).rowsWritten;
    }
    return marked;
  }

  /** Newest first; an equality filter and the cursor make one index range (see SHARD_SCHEMA). */
  list(query: ShardListQuery): StoredShardEvent[] {
    const { sql, params } = listStatement(query);
    return this.sql
      .exec<EventRow>(sql, ...params)
      .toArray()
      .map(toStored);
  }

  get(query: ShardGetQuery): StoredShardEvent | null {
    const row =
      query.occurredAt === undefined
        ? this.sql.exec<EventRow>(SHARD_READS.latestById, query.id).toArray()[0]
        : this.sql.exec<EventRow>(SHARD_READS.byKey, query.occurredAt, query.id).toArray()[0];
    return row ? toStored(row) : null;
  }

  rollups(query: RollupQuery): RollupRow[] {
    return this.sql
      .exec<{ hour: number; event_type: string; dimension: string; key: string; count: number }>(
        ROLLUP_READS.rows,
        JSON.stringify(query.eventTypes ?? NODE_EVENT_TYPES),
        JSON.stringify(query.dimensions),
        query.fromHour,
        query.toHour,
      )
      .toArray()
      .map((row) => ({
        hour: row.hour,
        eventType: row.event_type as RollupRow["eventType"],
        dimension: row.dimension as RollupRow["dimension"],
        key: row.key,
        count: row.count,
      }));
  }

  rollupTops(query: RollupTopsQuery): RollupTopRow[] {
    return this.sql
      .exec<{ dimension: string; key: string; total: number; keys: number }>(
        ROLLUP_READS.tops,
        JSON.stringify(query.eventTypes),
        JSON.stringify(query.dimensions),
        query.fromHour,
        query.toHour,
        query.limit,
      )
      .toArray()
      .map((row) => ({ ...row, dimension: row.dimension as RollupTopRow["dimension"] }));
  }

  /** Every rollup row of these dimensions, all hours (the archive of a shard about to be dropped). */
  counters(dimensions: RollupQuery["dimensions"]): RollupRow[] {
    return this.rollups({ fromHour: Number.MIN_SAFE_INTEGER, toHour: Number.MAX_SAFE_INTEGER, dimensions });
  }

  scopeChanges(query: ScopeChangeQuery): ScopeChangeRow[] {
    return this.sql
      .exec<{
        id: string;
        occurred_at: number;
        change: string | null;
        object_type: string | null;
        value: string | null;
      }>(SHARD_READS.scopeChanges, query.from, query.to, query.limit)
      .toArray()
      .map((row) => ({
        id: row.id,
        occurredAt: row.occurred_at,
        change: row.change,
        objectType: row.object_type,
        value: row.value,
      }));
  }

  /** Oldest received first. */
  unprocessed(query: UnprocessedQuery): StoredShardEvent[] {
    return this.sql.exec<EventRow>(SHARD_READS.unprocessed, query.receivedBefore, query.limit).toArray().map(toStored);
  }

  /** In seq order. */
  afterSeq(query: AfterSeqQuery): StoredShardEvent[] {
    return this.sql
      .exec<EventRow>(SHARD_READS.afterSeq, query.afterSeq, query.untilSeq, query.limit)
      .toArray()
      .map(toStored);
  }

  eventCount(): number {
    return this.sql.exec<{ value: number }>(`SELECT value FROM meta WHERE key = 'events'`).toArray()[0]?.value ?? 0;
  }

  seqRange(): { minSeq: number | null; maxSeq: number | null } {
    const row = this.sql
      .exec<{ min: number | null; max: number | null }>(`SELECT min(seq) AS min, max(seq) AS max FROM events`)
      .one();
    return { minSeq: row.min, maxSeq: row.max };
  }

  unprocessedCount(): number {
    return this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM events WHERE processed = 0`).one().n;
  }
}
