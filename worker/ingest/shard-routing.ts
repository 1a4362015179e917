/**
 * Which shard an event goes to (docs/data-plane.md#objects-and-names): the period of its
 * occurred_at and `fnv1a(id) mod fanout`, the fanout fixed per (account, period) in the D1
 * directory `event_shards` when the period's first shard is created. An AccountIngestDO keeps the
 * fanouts it has seen and the shards it has registered, so the directory is read once per period
 * and written once per shard.
 */
import { fanoutFor, periodOf, readShardConfig, shardName, subShardOf } from "../events/shard-names";
import type { Env } from "../env";

export interface ShardRoute {
  name: string;
  periodStart: number;
  periodEnd: number;
  sub: number;
  fanout: number;
}

export class ShardDirectory {
  private readonly fanouts = new Map<number, number>();
  private readonly registered = new Set<string>();

  constructor(
    private readonly env: Env,
    private readonly accountId: string,
  ) {}

  /** The route of every key, reading or fixing the fanout of periods not seen yet. */
  async routes(keys: { id: string; occurredAt: number }[]): Promise<ShardRoute[]> {
    const { hours } = readShardConfig(this.env);
    const periods = keys.map((key) => periodOf(key.occurredAt, hours));
    for (const period of periods) {
      if (!this.fanouts.has(period.start)) this.fanouts.set(period.start, await this.fanoutOf(period.start));
    }
    return keys.map((key, i) => {
      const period = periods[i] as { start: number; end: number };
      const fanout = this.fanouts.get(period.start) ?? 1;
      const sub = subShardOf(key.id, fanout);
      return {
        name: shardName(this.accountId, period.start, sub),
        periodStart: period.start,
        periodEnd: period.end,
        sub,
        fanout,
      };
    });
  }

  /** Inserts the directory rows of shards about to receive their first write (from this object). */
  async register(routes: ShardRoute[], now: number): Promise<void> {
    const fresh = new Map<string, ShardRoute>();
    for (const route of routes) if (!this.registered.has(route.name)) fresh.set(route.name, route);
    if (fresh.size === 0) return;
    const d1 = this.env.DB;
    await d1.batch(
      [...fresh.values()].map((r) =>
        d1
          .prepare(
            `INSERT OR IGNORE INTO event_shards (account_id, name, period_start, period_end, sub, fanout, events, bytes,
               max_seq, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, 0, NULL, ?7, ?7)`,
          )
          .bind(this.accountId, r.name, r.periodStart, r.periodEnd, r.sub, r.fanout, now),
      ),
    );
    for (const name of fresh.keys()) this.registered.add(name);
  }

  /** Forgets a dropped shard (its period's fanout stays: it no longer matters). */
  forget(name: string): void {
    this.registered.delete(name);
  }

  /** The recorded fanout of the period, or one chosen from the previous period's size. */
  private async fanoutOf(periodStart: number): Promise<number> {
    const d1 = this.env.DB;
    const [recorded, previous] = await d1.batch([
      d1
        .prepare("SELECT fanout FROM event_shards WHERE account_id = ?1 AND period_start = ?2 LIMIT 1")
        .bind(this.accountId, periodStart),
      d1
        .prepare(
          `SELECT sum(bytes) AS bytes FROM event_shards WHERE account_id = ?1
           AND period_start = (SELECT max(period_start) FROM event_shards WHERE account_id = ?1 AND period_start < ?2)`,
        )
        .bind(this.accountId, periodStart),
    ]);
    const fanout = (recorded?.results[0] as { fanout: number } | undefined)?.fanout;
    if (fanout) return fanout;
    const bytes = Number((previous?.results[0] as { bytes: number | null } | undefined)?.bytes ?? 0);
    return fanoutFor(bytes, readShardConfig(this.env).targetBytes);
  }
}
