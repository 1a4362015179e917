/**
 * Which shard an event goes to (docs/data-plane.md#objects-and-names): the period of its
 * occurred_at and `fnv1a(id) mod fanout`, the fanout fixed per (account, period) in the D1
 * directory `event_shards` (worker/events/directory.ts) when the period's first shard is created.
 * An AccountIngestDO keeps the fanouts it has seen and the shards it has registered, so the
 * directory is read once per period and written once per shard.
 */

import type { Env } from "../env";
import { periodFanout, registerShards } from "../events/directory";
import { type Period, periodOf, readShardConfig, shardName, subShardOf } from "../events/shard-names";

export interface ShardRoute {
  name: string;
  period: Period;
  sub: number;
  fanout: number;
}

export class ShardDirectory {
  private readonly fanouts = new Map<number, number>();
  private readonly registered = new Set<string>();

  constructor(
    private readonly env: Env,
    private readonly accountId: () => string,
  ) {}

  /** The route of every key, reading or fixing the fanout of periods not seen yet. */
  async routes(keys: { id: string; occurredAt: number }[]): Promise<ShardRoute[]> {
    const { hours, targetBytes } = readShardConfig(this.env);
    const periods = keys.map((key) => periodOf(key.occurredAt, hours));
    for (const period of periods) {
      if (this.fanouts.has(period.start)) continue;
      this.fanouts.set(period.start, await periodFanout(this.env.DB, this.accountId(), period, targetBytes));
    }
    return keys.map((key, i) => {
      const period = periods[i] as Period;
      const fanout = this.fanouts.get(period.start) ?? 1;
      const sub = subShardOf(key.id, fanout);
      return { name: shardName(this.accountId(), period.start, sub), period, sub, fanout };
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

  /** Forgets a dropped shard. */
  forget(name: string): void {
    this.registered.delete(name);
  }
}
