/**
 * The shard sizes an AccountIngestDO has not pushed to the D1 directory yet (docs/data-plane.md,
 * AccountIngestDO's alarm), kept in the object's SQLite (`shard_sizes`, created by AccountStore)
 * rather than in memory: an object is evicted when idle and restarted by a deploy, and its alarm a
 * minute later runs in a new instance, which must still push the last writes' sizes.
 */

export interface PendingShardSize {
  events: number;
  bytes: number;
  maxSeq: number;
  periodStart: number;
}

type SizeRow = {
  shard: string;
  period_start: number;
  events: number;
  bytes: number;
  max_seq: number;
};

const fromRow = (row: SizeRow): PendingShardSize => ({
  events: row.events,
  bytes: row.bytes,
  maxSeq: row.max_seq,
  periodStart: row.period_start,
});

export class PendingShardSizes {
  constructor(private readonly sql: SqlStorage) {}

  get(shard: string): PendingShardSize | undefined {
    const [row] = this.sql.exec<SizeRow>(`SELECT * FROM shard_sizes WHERE shard = ?1`, shard).toArray();
    return row ? fromRow(row) : undefined;
  }

  /** The shard's latest size (replaces the one not pushed yet). */
  set(shard: string, size: PendingShardSize): void {
    this.sql.exec(
      `INSERT OR REPLACE INTO shard_sizes (shard, period_start, events, bytes, max_seq) VALUES (?1, ?2, ?3, ?4, ?5)`,
      shard,
      size.periodStart,
      size.events,
      size.bytes,
      size.maxSeq,
    );
  }

  delete(shard: string): void {
    this.sql.exec(`DELETE FROM shard_sizes WHERE shard = ?1`, shard);
  }

  /** Every size not pushed yet. */
  all(): [string, PendingShardSize][] {
    return this.sql
      .exec<SizeRow>(`SELECT * FROM shard_sizes`)
      .toArray()
      .map((row) => [row.shard, fromRow(row)]);
  }

  any(): boolean {
    return this.sql.exec(`SELECT 1 FROM shard_sizes LIMIT 1`).toArray().length > 0;
  }

  /** `size` reached the directory: forgotten, unless a later write replaced it meanwhile. */
  pushed(shard: string, size: PendingShardSize): void {
    this.sql.exec(
      `DELETE FROM shard_sizes WHERE shard = ?1 AND events = ?2 AND bytes = ?3 AND max_seq = ?4`,
      shard,
      size.events,
      size.bytes,
      size.maxSeq,
    );
  }
}
