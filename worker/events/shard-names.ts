/**
 * Which shard an event belongs to (docs/data-plane.md#objects-and-names). Pure: no I/O.
 *
 * A shard is (account, period, sub): the period is the `EVENT_SHARD_HOURS`-long UTC slice holding
 * the event's occurred_at, `sub` = FNV-1a(event id) mod the period's fanout. The same id and instant
 * always give the same shard, so the shard alone de-duplicates a re-sent event.
 */
import { HOUR_MS } from "../lib/time";

export const DEFAULT_SHARD_HOURS = 24;
/** A shard past this only steers the next period's fanout. */
export const DEFAULT_SHARD_TARGET_BYTES = 1024 ** 3;
/** A shard past this refuses new events: well under the 10 GB limit of a Durable Object. */
export const DEFAULT_SHARD_MAX_BYTES = 4 * 1024 ** 3;
export const MAX_FANOUT = 64;

export interface ShardConfig {
  hours: number;
  targetBytes: number;
  maxBytes: number;
}

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === "") return fallback;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed <= 0)
    throw new Error(`${name} must be a positive integer, not "${value}"`);
  return parsed;
}

/** Period length in hours: a divisor of 24, so periods align to UTC midnight and never straddle a day. */
export function parseShardHours(value: string | undefined): number {
  const hours = positiveInteger("EVENT_SHARD_HOURS", value, DEFAULT_SHARD_HOURS);
  if (24 % hours !== 0) throw new Error(`EVENT_SHARD_HOURS must divide 24 (1, 2, 3, 4, 6, 8, 12 or 24), not ${hours}`);
  return hours;
}

/** The shard settings of wrangler.toml [vars]; throws naming the variable when one is invalid. */
export function readShardConfig(vars: {
  EVENT_SHARD_HOURS?: string;
  EVENT_SHARD_TARGET_BYTES?: string;
  EVENT_SHARD_MAX_BYTES?: string;
}): ShardConfig {
  const hours = parseShardHours(vars.EVENT_SHARD_HOURS);
  const targetBytes = positiveInteger(
    "EVENT_SHARD_TARGET_BYTES",
    vars.EVENT_SHARD_TARGET_BYTES,
    DEFAULT_SHARD_TARGET_BYTES,
  );
  const maxBytes = positiveInteger("EVENT_SHARD_MAX_BYTES", vars.EVENT_SHARD_MAX_BYTES, DEFAULT_SHARD_MAX_BYTES);
  if (targetBytes > maxBytes) throw new Error("EVENT_SHARD_TARGET_BYTES must not exceed EVENT_SHARD_MAX_BYTES");
  return { hours, targetBytes, maxBytes };
}

export interface Period {
  /** Inclusive, epoch ms. */
  start: number;
  /** Exclusive. */
  end: number;
}

/** The period holding an instant. */
export function periodOf(instant: number, hours: number): Period {
  const length = hours * HOUR_MS;
  // Math.floor, not %: instants before 1970 still fall into the period that starts before them.
  const start = Math.floor(instant / length) * length;
  return { start, end: start + length };
}

/** The periods overlapping [from, to), oldest first. */
export function periodsOverlapping(from: number, to: number, hours: number): Period[] {
  const periods: Period[] = [];
  if (to <= from) return periods;
  for (let period = periodOf(from, hours); period.start < to; period = periodOf(period.end, hours)) {
    periods.push(period);
  }
  return periods;
}

/** "2026-12-03T00:00Z": the period start as the name writes it (UTC, to the minute). */
function periodLabel(start: number): string {
  return `${new Date(start).toISOString().slice(0, 16)}Z`;
}

/** `<accountId>/<period start>/<sub>`, e.g. `acc_1/2026-12-03T00:00Z/0`. */
export function shardName(accountId: string, periodStart: number, sub: number): string {
  return `${accountId}/${periodLabel(periodStart)}/${sub}`;
}

export interface ShardNameParts {
  accountId: string;
  periodStart: number;
  sub: number;
}

/** The parts of a shard name, or null when it is not one. */
export function parseShardName(name: string): ShardNameParts | null {
  const match = /^([^/]+)\/(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z)\/(\d{1,2})$/.exec(name);
  if (!match?.[1] || !match[2] || !match[3]) return null;
  const periodStart = Date.parse(match[2].replace("Z", ":00Z"));
  const sub = Number(match[3]);
  if (!Number.isFinite(periodStart) || sub >= MAX_FANOUT || periodLabel(periodStart) !== match[2]) return null;
  return { accountId: match[1], periodStart, sub };
}

const utf8 = new TextEncoder();

/** 32-bit FNV-1a of the id's UTF-8 bytes. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of utf8.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function isFanout(fanout: number): boolean {
  return Number.isInteger(fanout) && fanout >= 1 && fanout <= MAX_FANOUT && (fanout & (fanout - 1)) === 0;
}

/** The sub-shard of an event id within a period of `fanout` sub-shards. */
export function subShardOf(id: string, fanout: number): number {
  if (!isFanout(fanout)) throw new Error(`fanout must be a power of two from 1 to ${MAX_FANOUT}, not ${fanout}`);
  return fnv1a(id) % fanout;
}

/**
 * The fanout of a new period: the smallest power of two (1–64) that keeps each sub-shard under
 * `targetBytes` if the period holds as much as the previous one did.
 */
export function fanoutFor(previousPeriodBytes: number, targetBytes: number): number {
  let fanout = 1;
  while (fanout < MAX_FANOUT && previousPeriodBytes / fanout > targetBytes) fanout *= 2;
  return fanout;
}
