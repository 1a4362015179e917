/**
 * The RPC surface of EventShardDO (worker/events/shard-do.ts), docs/data-plane.md#eventsharddo.
 * Internal: every caller is Herald's own code (the account object, the readers), which validated
 * the events before; so plain types, no zod. Times are epoch milliseconds.
 */
import type { StoredEventType } from "../db/schema";

/** What identifies a stored event: a re-sent event has the same id and the same instant. */
export interface ShardEventKey {
  id: string;
  occurredAt: number;
}

/** One event to store: the columns the list filters on and reports group by, and the event itself. */
export interface ShardInsertRow {
  id: string;
  occurredAt: number;
  receivedAt: number;
  /** The account seq (unique within the account, so within the shard): the row's rowid. */
  seq: number;
  nodeId: string | null;
  type: StoredEventType;
  systemType?: string | null;
  risk?: string | null;
  attackType?: string | null;
  host?: string | null;
  path?: string | null;
  remoteAddr?: string | null;
  remoteCountry?: string | null;
  blockStatus?: string | null;
  /** The validated event as JSON text (stored as is, handed back as is). */
  data: string;
  /** Stored as processed already (nothing to de-duplicate or fan out). Default: `markProcessed`. */
  processed?: boolean;
}

export interface ShardInsert {
  rows: ShardInsertRow[];
  /** Store every fresh row as processed (rows may override with their own `processed`). */
  markProcessed?: boolean;
  /** Stored events the account object finished since its last write here: marked in the same transaction. */
  finished?: ShardEventKey[];
}

/** The outcome for one row, in the order of `rows`. */
export interface ShardInsertedRow {
  id: string;
  occurredAt: number;
  /** The stored row's seq: the one sent when fresh, the first one stored otherwise. */
  seq: number;
  /** Stored by this call (false: stored before, or earlier in the same call). */
  fresh: boolean;
  /** The stored row's processed mark (a duplicate keeps its own: an insert never changes it). */
  processed: boolean;
  /** Only for a row stored by an earlier call and still unprocessed: the stored event, for fan-out again. */
  data?: string;
}

/** Size of the shard after the call. */
export interface ShardSize {
  events: number;
  /** `ctx.storage.sql.databaseSize`. */
  bytes: number;
}

export type ShardInsertResult =
  | ({ full: false; rows: ShardInsertedRow[] } & ShardSize)
  /** Past EVENT_SHARD_MAX_BYTES and at least one row would be new: nothing was written. */
  | ({ full: true } & ShardSize);

/** A stored event as readers get it. */
export interface StoredShardEvent {
  seq: number;
  id: string;
  occurredAt: number;
  receivedAt: number;
  nodeId: string | null;
  type: StoredEventType;
  systemType: string | null;
  risk: string | null;
  attackType: string | null;
  host: string | null;
  path: string | null;
  remoteAddr: string | null;
  remoteCountry: string | null;
  blockStatus: string | null;
  /** The event as JSON text. */
  data: string;
  processed: boolean;
}

/** Equality filters of the event list; each one is served by its own index. */
export interface ShardListFilters {
  type?: StoredEventType;
  host?: string;
  attackType?: string;
  risk?: string;
  nodeId?: string;
  /** occurred_at >= from */
  from?: number;
  /** occurred_at < to */
  to?: number;
}

export interface ShardListQuery {
  filters?: ShardListFilters;
  /** The cursor: only events strictly before it in `occurred_at DESC, id DESC` order. */
  before?: ShardEventKey;
  /** At most this many events (1–1000). */
  limit: number;
}

export interface ShardListPage {
  /** Newest first: `occurred_at DESC, id DESC`. */
  events: StoredShardEvent[];
}

export interface ShardGetQuery {
  id: string;
  /** Without it the whole key index is searched (one shard: bounded, but not a seek). */
  occurredAt?: number;
}

/** The rollup dimensions (docs/data-plane.md#eventsharddo). */
export const ROLLUP_DIMENSIONS = [
  "total",
  "attack_type",
  "block_status",
  "host",
  "path",
  "remote_addr",
  "country",
  "risk",
  "scope_change",
  "node",
] as const;
export type RollupDimension = (typeof ROLLUP_DIMENSIONS)[number];

/** Few keys per hour whatever the traffic: what an archive keeps when a shard is dropped. */
export const LOW_CARDINALITY_DIMENSIONS = [
  "total",
  "attack_type",
  "block_status",
  "country",
  "risk",
  "scope_change",
  "node",
] as const satisfies readonly RollupDimension[];

export interface RollupQuery {
  /** Start of the first UTC hour (inclusive). */
  fromHour: number;
  /** Start of the hour after the last one (exclusive). */
  toHour: number;
  /** Default: every node event type. */
  eventTypes?: StoredEventType[];
  dimensions: RollupDimension[];
}

export interface RollupRow {
  hour: number;
  eventType: StoredEventType;
  dimension: RollupDimension;
  /** "" for `total`. */
  key: string;
  count: number;
}

export interface RollupTopsQuery {
  fromHour: number;
  toHour: number;
  eventTypes: StoredEventType[];
  dimensions: RollupDimension[];
  /** The top this many keys per dimension, summed over the hours and event types. */
  limit: number;
}

export interface RollupTopRow {
  dimension: RollupDimension;
  key: string;
  total: number;
  /** How many distinct keys the dimension has in the range (more than `limit`: the list was cut). */
  keys: number;
}

export interface ScopeChangeQuery {
  from: number;
  to: number;
  limit: number;
}

export interface ScopeChangeRow {
  id: string;
  occurredAt: number;
  change: string | null;
  objectType: string | null;
  value: string | null;
}

export interface UnprocessedQuery {
  /** Only rows received before this instant (a write still in flight is not the sweep's business). */
  receivedBefore: number;
  limit: number;
}

export interface AfterSeqQuery {
  /** Exclusive. */
  afterSeq: number;
  /** Inclusive. */
  untilSeq: number;
  limit: number;
}

export interface ShardStats extends ShardSize {
  /** Lowest and highest seq stored (null when empty). */
  minSeq: number | null;
  maxSeq: number | null;
  unprocessed: number;
}
