/**
 * The D1 directory of event shards (worker/events/directory.ts): registration, fanout of a new
 * period, counters, the shards a time range reads and the ones retention drops.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  expiredShards,
  forgetShards,
  locateEvent,
  periodFanout,
  refreshShardCounters,
  registerShards,
  shardOfEvent,
  shardsOverlapping,
  splitPeriod,
} from "../../../worker/events/directory";
import { periodOf, subShardOf } from "../../../worker/events/shard-names";
import { DAY_MS, HOUR_MS } from "../../../worker/lib/time";

const DAY0 = Date.UTC(2036, 0, 10);
const day = (n: number) => periodOf(DAY0 + n * DAY_MS, 24);
const account = () => `acct-${crypto.randomUUID()}`;
const GIB = 1024 ** 3;

describe("event shard directory", () => {
  it("registers a shard once and keeps its first fanout", async () => {
    const a = account();
    const [name] = await registerShards(env.DB, [{ accountId: a, period: day(0), sub: 0, fanout: 2 }], 1);
    expect(name).toBe(`${a}/2036-01-10T00:00Z/0`);
    await registerShards(env.DB, [{ accountId: a, period: day(0), sub: 0, fanout: 8 }], 2);
    expect(await shardsOverlapping(env.DB, a, day(0).start, day(0).end)).toMatchObject([
      { name, fanout: 2, events: 0, bytes: 0, maxSeq: null, createdAt: 1, updatedAt: 1 },
    ]);
  });

  it("registers many shards at once (more than D1 binds in one statement)", async () => {
    const a = account();
    const shards = Array.from({ length: 40 }, (_, i) => ({ accountId: a, period: day(i), sub: 0, fanout: 1 }));
    const names = await registerShards(env.DB, shards, 1);
    expect(new Set(names).size).toBe(40);
    expect(await shardsOverlapping(env.DB, a, day(0).start, day(40).start)).toHaveLength(40);
    await forgetShards(env.DB, names);
    expect(await shardsOverlapping(env.DB, a, day(0).start, day(40).start)).toEqual([]);
  });

  it("chooses a new period's fanout from the bytes of the latest earlier period", async () => {
    const a = account();
    expect(await periodFanout(env.DB, a, day(0), GIB)).toBe(1);
    const names = await registerShards(
      env.DB,
      [0, 1].map((sub) => ({ accountId: a, period: day(0), sub, fanout: 2 })),
      1,
    );
    expect(await periodFanout(env.DB, a, day(0), GIB)).toBe(2);
    // 2.5 GiB over the period's two shards: the next period needs 4 to stay under 1 GiB each.
    await refreshShardCounters(env.DB, names[0] as string, { events: 10, bytes: 1.5 * GIB, maxSeq: 10 }, 5);
    await refreshShardCounters(env.DB, names[1] as string, { events: 10, bytes: GIB, maxSeq: 20 }, 5);
    expect(await periodFanout(env.DB, a, day(3), GIB)).toBe(4);
    expect(await periodFanout(env.DB, a, day(-1), GIB)).toBe(1);
    expect(await shardsOverlapping(env.DB, a, day(0).start, day(1).start)).toMatchObject([
      { sub: 0, events: 10, bytes: 1.5 * GIB, maxSeq: 10, updatedAt: 5 },
      { sub: 1, events: 10, bytes: GIB, maxSeq: 20, updatedAt: 5 },
    ]);
  });

  it("lists the shards overlapping a time range, newest period first, and only the account's", async () => {
    const a = account();
    const other = account();
    const sixHours = (n: number) => periodOf(DAY0 + n * 6 * HOUR_MS, 6);
    await registerShards(
      env.DB,
      [
        { accountId: a, period: day(0), sub: 1, fanout: 2 },
        { accountId: a, period: day(0), sub: 0, fanout: 2 },
        { accountId: a, period: day(1), sub: 0, fanout: 1 },
        // Periods of another length (EVENT_SHARD_HOURS changed): still found by their bounds.
        { accountId: a, period: sixHours(8), sub: 0, fanout: 1 },
        { accountId: a, period: sixHours(9), sub: 0, fanout: 1 },
        { accountId: other, period: day(1), sub: 0, fanout: 1 },
      ],
      1,
    );
    const names = async (from: number, to: number) =>
      (await shardsOverlapping(env.DB, a, from, to)).map((s) => s.name.slice(a.length + 1));
    expect(await names(day(0).start, day(3).start)).toEqual([
      "2036-01-12T06:00Z/0",
      "2036-01-12T00:00Z/0",
      "2036-01-11T00:00Z/0",
      "2036-01-10T00:00Z/0",
      "2036-01-10T00:00Z/1",
    ]);
    // A range inside one day: only that day; the boundaries are [from, to).
    expect(await names(day(0).start + HOUR_MS, day(0).start + 2 * HOUR_MS)).toEqual([
      "2036-01-10T00:00Z/0",
      "2036-01-10T00:00Z/1",
    ]);
    expect(await names(day(1).start, day(1).end)).toEqual(["2036-01-11T00:00Z/0"]);
    expect(await names(day(0).end - 1, day(1).start + 1)).toEqual([
      "2036-01-11T00:00Z/0",
      "2036-01-10T00:00Z/0",
      "2036-01-10T00:00Z/1",
    ]);
  });

  it("locates the shard of an event key through its period's fanout", async () => {
    const a = account();
    await registerShards(
      env.DB,
      [0, 1, 2, 3].map((sub) => ({ accountId: a, period: day(0), sub, fanout: 4 })),
      1,
    );
    const ids = Array.from({ length: 20 }, () => crypto.randomUUID());
    for (const id of ids) {
      const shard = await locateEvent(env.DB, a, { id, occurredAt: day(0).start + 5 * HOUR_MS });
      expect(shard?.name).toBe(`${a}/2036-01-10T00:00Z/${subShardOf(id, 4)}`);
    }
    expect(new Set(ids.map((id) => subShardOf(id, 4))).size).toBeGreaterThan(1);
    // The period's last millisecond is still in it; the next period has no shard.
    expect(await locateEvent(env.DB, a, { id: ids[0] as string, occurredAt: day(0).end - 1 })).not.toBeNull();
    expect(await locateEvent(env.DB, a, { id: ids[0] as string, occurredAt: day(0).end })).toBeNull();
    expect(await locateEvent(env.DB, account(), { id: ids[0] as string, occurredAt: day(0).start })).toBeNull();
  });

  it("splits a period at a cut-over: earlier events keep their shard, later ones spread wider", async () => {
    const a = account();
    const [first] = await registerShards(env.DB, [{ accountId: a, period: day(0), sub: 0, fanout: 1 }], 1);
    const cutover = day(0).start + 13 * HOUR_MS;
    const names = await splitPeriod(env.DB, a, day(0).start, cutover, 8, 2);
    expect(names).toHaveLength(8);
    const inDay = await shardsOverlapping(env.DB, a, day(0).start, day(0).end);
    expect(inDay.map((s) => [s.name.slice(a.length + 1), (s.periodEnd - s.periodStart) / HOUR_MS, s.fanout])).toEqual([
      ...[0, 1, 2, 3, 4, 5, 6, 7].map((sub) => [`2036-01-10T13:00Z/${sub}`, 11, 8]),
      ["2036-01-10T00:00Z/0", 13, 1],
    ]);
    const id = crypto.randomUUID();
    expect((await locateEvent(env.DB, a, { id, occurredAt: cutover - 1 }))?.name).toBe(first);
    expect((await locateEvent(env.DB, a, { id, occurredAt: cutover }))?.name).toBe(
      `${a}/2036-01-10T13:00Z/${subShardOf(id, 8)}`,
    );
    expect(await periodFanout(env.DB, a, { start: cutover, end: day(0).end }, GIB)).toBe(8);
    // The same routing in memory, over the day's shards read once.
    expect(shardOfEvent(inDay, { id, occurredAt: cutover - 1 })?.name).toBe(first);
    expect(shardOfEvent(inDay, { id, occurredAt: day(0).end - 1 })?.sub).toBe(subShardOf(id, 8));
    expect(shardOfEvent(inDay, { id, occurredAt: day(0).end })).toBeNull();
    // Splitting again at or after the end, or a period without shards: nothing happens.
    expect(await splitPeriod(env.DB, a, day(0).start, cutover + HOUR_MS, 8, 3)).toEqual([]);
    expect(await splitPeriod(env.DB, a, day(5).start, day(5).start + HOUR_MS, 8, 3)).toEqual([]);
    await expect(splitPeriod(env.DB, a, cutover, cutover + 1, 8, 3)).rejects.toThrow(/whole minute/);
    await expect(splitPeriod(env.DB, a, cutover, cutover + HOUR_MS, 3, 3)).rejects.toThrow(/power of two/);
  });

  it("sizes a new period by the bytes per hour of the latest earlier one", async () => {
    const a = account();
    const cutover = day(0).start + 18 * HOUR_MS;
    await registerShards(env.DB, [{ accountId: a, period: day(0), sub: 0, fanout: 1 }], 1);
    const rest = await splitPeriod(env.DB, a, day(0).start, cutover, 2, 2);
    // The last 6 hours took 1.5 GiB: a whole day at that rate is 6 GiB, so 8 sub-shards of 1 GiB.
    for (const name of rest) await refreshShardCounters(env.DB, name, { events: 1, bytes: 0.75 * GIB, maxSeq: 1 }, 3);
    expect(await periodFanout(env.DB, a, day(1), GIB)).toBe(8);
  });

  it("lists expired shards oldest first, bounded", async () => {
    const a = account();
    // Far in the past so that no other test's shard counts.
    const old = (n: number) => periodOf(Date.UTC(1990, 0, 1) + n * DAY_MS, 24);
    const names = await registerShards(
      env.DB,
      [2, 0, 1].map((n) => ({ accountId: a, period: old(n), sub: 0, fanout: 1 })),
      1,
    );
    const expired = async (endedBy: number, limit = 10) =>
      (await expiredShards(env.DB, endedBy, limit)).map((s) => s.name);
    expect(await expired(old(0).end - 1)).toEqual([]);
    expect(await expired(old(1).end)).toEqual([names[1], names[2]]);
    expect(await expired(old(5).end, 2)).toEqual([names[1], names[2]]);
    await forgetShards(env.DB, [names[1] as string]);
    expect(await expired(old(5).end)).toEqual([names[2], names[0]]);
  });
});
