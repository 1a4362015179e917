import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { DAY_MS } from "../lib/time";
import { parseShardName, readShardConfig } from "./shard-names";
import { ShardStore } from "./shard-store";
import {
  type AfterSeqQuery,
  LOW_CARDINALITY_DIMENSIONS,
  type RollupQuery,
  type RollupRow,
  type RollupTopRow,
  type RollupTopsQuery,
  type ScopeChangeQuery,
  type ScopeChangeRow,
  type ShardEventKey,
  type ShardGetQuery,
  type ShardInsert,
  type ShardInsertedRow,
  type ShardInsertResult,
  type ShardListPage,
  type ShardListQuery,
  type ShardSize,
  type ShardStats,
  type StoredShardEvent,
  type UnprocessedQuery,
} from "./shard-types";

/**
 * One shard of an account's events: (account, period, sub-shard), addressed by its name
 * (worker/events/objects.ts, docs/data-plane.md#eventsharddo). Its SQLite holds the events, their
 * hourly rollups and processed marks. Every method is synchronous SQL: the object runs one call at
 * a time, so an insert and its rollups cannot interleave with another call.
 */
export class EventShardDO extends DurableObject<Env> {
  private readonly store: ShardStore;
  /** Tables exist (false after destroy(): the next call recreates them). */
  private migrated = false;
  /** Past this size the shard refuses new events (EVENT_SHARD_MAX_BYTES; tests lower it). */
  maxBytes: number;
  /** The period start in the shard's name (null when the runtime does not give the name). */
  private readonly periodStart: number | null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new ShardStore(ctx.storage.sql);
    this.maxBytes = readShardConfig(env).maxBytes;
    this.periodStart = parseShardName(ctx.id.name ?? "")?.periodStart ?? null;
    this.ready();
  }

  private ready(): ShardStore {
    if (!this.migrated) {
      this.store.migrate();
      this.migrated = true;
    }
    return this.store;
  }

  /** The store with every pending rollup count written: a rollup read is exact. */
  private rolledUp(): ShardStore {
    const store = this.ready();
    this.ctx.storage.transactionSync(() => store.flushRollups());
    return store;
  }

  private size(): ShardSize {
    return { events: this.store.eventCount(), bytes: this.ctx.storage.sql.databaseSize };
  }

  // --- RPC --------------------------------------------------------------------------------------

  /**
   * Stores the rows (a stored key is not stored again) and counts the rows actually stored in the
   * rollups, in one transaction with the `finished` marks. Past `maxBytes` nothing is written:
   * `{full: true}`, unless every row is stored already (a re-send is still answered).
   */
  async insert(input: ShardInsert): Promise<ShardInsertResult> {
    const store = this.ready();
    this.refuseMisrouted(input.rows);
    if (this.ctx.storage.sql.databaseSize >= this.maxBytes && !store.allStored(input.rows)) {
      return { full: true, ...this.size() };
    }
    let rows: ShardInsertedRow[];
    try {
      rows = this.ctx.storage.transactionSync(() => {
        if (input.finished?.length) store.markProcessed(input.finished);
        return store.insert(input.rows, input.markProcessed ?? false);
      });
    } catch (error) {
      // Rolled back: the pending rollup counts may hold rows that are not stored.
      store.reloadRollups();
      throw error;
    }
    return { full: false, rows, ...this.size() };
  }

  /**
   * A re-sent event is de-duplicated only if it reaches the same shard, so an event outside the
   * shard's period (a period is at most a day) is a routing error: refused loudly, nothing stored.
   */
  private refuseMisrouted(rows: ShardInsert["rows"]): void {
    const start = this.periodStart;
    if (start === null) return;
    const stray = rows.find((row) => row.occurredAt < start || row.occurredAt >= start + DAY_MS);
    if (stray)
      throw new Error(`event shard ${this.ctx.id.name}: event ${stray.id} at ${stray.occurredAt} is not of its period`);
  }

  /** The account object finished de-duplication and fan-out for these events. */
  async markProcessed(keys: ShardEventKey[]): Promise<{ marked: number }> {
    const store = this.ready();
    return { marked: this.ctx.storage.transactionSync(() => store.markProcessed(keys)) };
  }

  async list(query: ShardListQuery): Promise<ShardListPage> {
    return { events: this.ready().list(query) };
  }

  async get(query: ShardGetQuery): Promise<StoredShardEvent | null> {
    return this.ready().get(query);
  }

  async rollups(query: RollupQuery): Promise<RollupRow[]> {
    return this.rolledUp().rollups(query);
  }

  async rollupTops(query: RollupTopsQuery): Promise<RollupTopRow[]> {
    return this.rolledUp().rollupTops(query);
  }

  async scopeChanges(query: ScopeChangeQuery): Promise<ScopeChangeRow[]> {
    return this.ready().scopeChanges(query);
  }

  async unprocessed(query: UnprocessedQuery): Promise<StoredShardEvent[]> {
    return this.ready().unprocessed(query);
  }

  async afterSeq(query: AfterSeqQuery): Promise<StoredShardEvent[]> {
    return this.ready().afterSeq(query);
  }

  /** The low-cardinality rollups (LOW_CARDINALITY_DIMENSIONS): what outlives the shard in an archive. */
  async counters(): Promise<RollupRow[]> {
    return this.rolledUp().counters([...LOW_CARDINALITY_DIMENSIONS]);
  }

  async stats(): Promise<ShardStats> {
    const store = this.ready();
    return { ...this.size(), ...store.seqRange(), unprocessed: store.unprocessedCount() };
  }

  /** Retention dropped the shard: forget everything (the alarm too, should one ever be set). */
  async destroy(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.migrated = false;
  }
}
