/**
 * Which shard an event goes to (docs/data-plane.md, the routing rule): the registered period of
 * the account holding its occurred_at, else the period `periodOf(occurred_at, EVENT_SHARD_HOURS)`
 * opened with `periodFanout`; within the period, `fnv1a(id) mod fanout`. The account object is the
 * only writer of its periods, so it keeps the periods it has read or opened, and the shards it has
 * registered: the directory (`worker/events/directory.ts`) is read once per span of new times and
 * written once per shard. A period that grows past its target is split (`splitIfGrown`).
 */

import type { Env } from "../env";
import { periodFanout, registerShards, shardsOverlapping, splitPeriod } from "../events/directory";
import { MAX_FANOUT, type Period, periodOf, readShardConfig, shardName, subShardOf } from "../events/shard-names";
import { HOUR_MS, MINUTE_MS } from "../lib/time";

export interface ShardRoute {
  name: string;
  period: Period;
  sub: number;
  fanout: number;
}

interface KnownPeriod extends Period {
  fanout: number;
}

/** The most an occurred_at may be ahead of the clock (worker/domain/events.ts). */
const MAX_FUTURE_MS = 5 * MINUTE_MS;

export class ShardDirectory {
  private periods: KnownPeriod[] = [];
  private readonly registered = new Set<string>();

  constructor(
    private readonly env: Env,
    private readonly accountId: () => string,
  ) {}

  private periodAt(at: number): KnownPeriod | undefined {
    return this.periods.find((p) => p.start <= at && at < p.end);
  }

  /** The route of every key: known periods first, then the directory, then a new period. */
  async routes(keys: { id: string; occurredAt: number }[]): Promise<ShardRoute[]> {
    const unknown = keys.filter((key) => !this.periodAt(key.occurredAt)).map((key) => key.occurredAt);
    if (unknown.length > 0) {
      const listed = await shardsOverlapping(
        this.env.DB,
        this.accountId(),
        Math.min(...unknown),
        Math.max(...unknown) + 1,
      );
      for (const shard of listed) {
        if (!this.periods.some((p) => p.start === shard.periodStart)) {
          this.periods.push({ start: shard.periodStart, end: shard.periodEnd, fanout: shard.fanout });
        }
      }
      const { hours, targetBytes } = readShardConfig(this.env);
      const opened = new Map<number, Period>();
      for (const at of unknown) {
        if (this.periodAt(at)) continue;
        const period = periodOf(at, hours);
        opened.set(period.start, period);
      }
      // Read-only lookups, each of D1 alone (not of the periods opened here): asked together.
      const withFanout = await Promise.all(
        [...opened.values()].map(async (period) => ({
          ...period,
          fanout: await periodFanout(this.env.DB, this.accountId(), period, targetBytes),
        })),
      );
      this.periods.push(...withFanout);
    }
    return keys.map((key) => {
      const period = this.periodAt(key.occurredAt) as KnownPeriod;
      const sub = subShardOf(key.id, period.fanout);
      return {
        name: shardName(this.accountId(), period.start, sub),
        period: { start: period.start, end: period.end },
        sub,
        fanout: period.fanout,
      };
    });
  }

  /** Lists the shards about to receive their first write (from this object) in the directory. */
  async register(routes: ShardRoute[], now: number): Promise<void> {
    const fresh = new Map<string, ShardRoute>();
    for (const route of routes) if (!this.registered.has(route.name)) fresh.set(route.name, route);
    if (fresh.size === 0) return;
    await registerShards(
      this.env.DB,
      [...fresh.values()].map((r) => ({ accountId: this.accountId(), period: r.period, sub: r.sub, fanout: r.fanout })),
      now,
    );
    for (const name of fresh.keys()) this.registered.add(name);
  }

  /**
   * A shard of a period still running passed EVENT_SHARD_TARGET_BYTES: the rest of the period, from
   * the next whole hour after every occurred_at it may already hold, gets twice the fanout. Stored
   * events keep their shard (the cut-over is later than all of them). True when it split.
   */
  async splitIfGrown(periodStart: number, bytes: number, now: number): Promise<boolean> {
    const { targetBytes } = readShardConfig(this.env);
    const period = this.periods.find((p) => p.start === periodStart);
    if (!period || bytes <= targetBytes || period.fanout >= MAX_FANOUT) return false;
    const cutover = Math.ceil((now + MAX_FUTURE_MS) / HOUR_MS) * HOUR_MS;
    if (cutover >= period.end) return false;
    const fanout = period.fanout * 2;
    const names = await splitPeriod(this.env.DB, this.accountId(), period.start, cutover, fanout, now);
    if (names.length === 0) return false;
    this.periods.push({ start: cutover, end: period.end, fanout });
    period.end = cutover;
    for (const name of names) this.registered.add(name);
    return true;
  }

  /** Forgets a dropped shard. */
  forget(name: string): void {
    this.registered.delete(name);
  }
}
