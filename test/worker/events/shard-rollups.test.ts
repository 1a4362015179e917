/**
 * A shard's rollups written in batches (worker/events/shard-rollups.ts): counts wait past the
 * `rolled_up_seq` watermark, every rollup read writes them first, a late seq is counted at once,
 * and a restart or a rolled-back insert counts the pending rows again exactly once.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EventShardDO } from "../../../worker/events/shard-do";
import { ShardStore } from "../../../worker/events/shard-store";
import { at, DAY0, freshShard, hit, seq } from "./support";

const DAY = 86_400_000;
const totalQuery = { fromHour: DAY0, toHour: DAY0 + DAY, dimensions: ["total" as const] };
const sumOf = (rows: { count: number }[]) => rows.reduce((n, r) => n + r.count, 0);

/** The hits counted in the rollups table itself (what is written, not what a read would flush). */
function writtenTotal(state: DurableObjectState): number {
  return (
    state.storage.sql.exec<{ n: number | null }>(`SELECT sum(count) AS n FROM rollups WHERE dimension = 'total'`).one()
      .n ?? 0
  );
}

describe("batched rollups", () => {
  it("wait unwritten after an insert, and a rollup read writes them first", async () => {
    const shard = freshShard();
    await shard.insert({ rows: [hit({ occurredAt: at(1) }), hit({ occurredAt: at(2) })] });
    expect(await runInDurableObject(shard, (_i: EventShardDO, state) => writtenTotal(state))).toBe(0);
    expect(sumOf(await shard.rollups(totalQuery))).toBe(2);
    expect(await runInDurableObject(shard, (_i: EventShardDO, state) => writtenTotal(state))).toBe(2);
    // Counters (what an archive keeps) are exact too.
    await shard.insert({ rows: [hit({ occurredAt: at(3) })] });
    expect(sumOf((await shard.counters()).filter((r) => r.dimension === "total"))).toBe(3);
  });

  it("a seq at or below the watermark (arriving late) is counted at once", async () => {
    const shard = freshShard();
    await shard.insert({ rows: [hit({ occurredAt: at(1), seq: seq() + 1_000_000 })] });
    await shard.rollups(totalQuery);
    await shard.insert({ rows: [hit({ occurredAt: at(2) })] });
    expect(await runInDurableObject(shard, (_i: EventShardDO, state) => writtenTotal(state))).toBe(2);
    expect(sumOf(await shard.rollups(totalQuery))).toBe(2);
  });

  it("a rolled-back insert leaves no pending count behind", async () => {
    const shard = freshShard();
    const first = hit({ occurredAt: at(1) });
    await shard.insert({ rows: [first] });
    // A fresh row, then one whose seq another event holds: the whole call is rolled back.
    // Called on the instance: a rejection across the test pool's RPC wrapper is reported as unhandled.
    await runInDurableObject(shard, async (instance: EventShardDO) => {
      await expect(
        instance.insert({ rows: [hit({ occurredAt: at(2) }), hit({ occurredAt: at(3), seq: first.seq })] }),
      ).rejects.toThrow(/already used/);
    });
    expect(sumOf(await shard.rollups(totalQuery))).toBe(1);
  });

  it("a restart counts the rows past the watermark again, once", async () => {
    const shard = freshShard();
    await shard.insert({ rows: [hit({ occurredAt: at(1) })] });
    await shard.rollups(totalQuery);
    await shard.insert({ rows: [hit({ occurredAt: at(2) }), hit({ occurredAt: at(3) })] });
    const written = await runInDurableObject(shard, (_i: EventShardDO, state) => {
      // A new instance over the same storage (what a restart finds): its pending counts come from the rows.
      const restarted = new ShardStore(state.storage.sql);
      restarted.migrate();
      state.storage.transactionSync(() => restarted.flushRollups());
      return writtenTotal(state);
    });
    expect(written).toBe(3);
  });
});
