/**
 * EventShardDO (worker/events/shard-do.ts) writes, through its RPC as the account object calls it:
 * de-duplication, processed marks, rollups counted once per stored event, retention and the size
 * limit.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EventShardDO } from "../../../worker/events/shard-do";
import { ROLL_UP } from "../../../worker/events/shard-rollups";
import { ROLLUP_READS } from "../../../worker/events/shard-store";
import type { ShardInsertRow } from "../../../worker/events/shard-types";
import { at, DAY0, freshShard, hit, keyOf, scopeChange, securityIssue, seq } from "./support";

const HOUR = 3_600_000;

describe("insert", () => {
  it("stores fresh rows once, reports duplicates with the stored seq and keeps the first copy", async () => {
    const shard = freshShard();
    const first = hit({ occurredAt: at(1) });
    const second = hit({ occurredAt: at(2) });
    const stored = await shard.insert({ rows: [first, second], markProcessed: true });
    expect(stored).toMatchObject({ full: false, events: 2 });
    if (stored.full) throw new Error("full");
    expect(stored.rows).toEqual([
      { id: first.id, occurredAt: first.occurredAt, seq: first.seq, fresh: true, processed: true },
      { id: second.id, occurredAt: second.occurredAt, seq: second.seq, fresh: true, processed: true },
    ]);

    // The node re-sends the first event (a new account seq was drawn for it) with other contents.
    const resent = { ...first, seq: seq(), host: "other.example", data: "{}" };
    const again = await shard.insert({ rows: [resent], markProcessed: true });
    if (again.full) throw new Error("full");
    expect(again.rows).toEqual([
      { id: first.id, occurredAt: first.occurredAt, seq: first.seq, fresh: false, processed: true },
    ]);
    expect(again.events).toBe(2);
    expect(await shard.get({ id: first.id, occurredAt: first.occurredAt })).toMatchObject({
      seq: first.seq,
      host: "shop.example",
      data: first.data,
    });
  });

  it("the same id at another instant is another event", async () => {
    const shard = freshShard();
    const row = hit({ occurredAt: at(1) });
    await shard.insert({ rows: [row] });
    const later = await shard.insert({ rows: [{ ...hit({ occurredAt: at(3) }), id: row.id }] });
    expect(later).toMatchObject({ full: false, events: 2, rows: [{ fresh: true }] });
  });

  it("hands an unprocessed stored row back with its data until it is marked processed", async () => {
    const shard = freshShard();
    const row = hit({ occurredAt: at(5) });
    const first = await shard.insert({ rows: [row] });
    expect(first).toMatchObject({ rows: [{ fresh: true, processed: false }] });
    expect(first.full ? [] : first.rows[0]).not.toHaveProperty("data");

    // Crash before the fan-out: the node re-sends, and the shard returns the stored event again.
    const resend = await shard.insert({ rows: [{ ...row, seq: seq() }], markProcessed: true });
    expect(resend).toMatchObject({ rows: [{ fresh: false, processed: false, seq: row.seq, data: row.data }] });

    expect(await shard.markProcessed([keyOf(row)])).toEqual({ marked: 1 });
    expect(await shard.markProcessed([keyOf(row)])).toEqual({ marked: 0 });
    const after = await shard.insert({ rows: [{ ...row, seq: seq() }] });
    expect(after).toMatchObject({ rows: [{ fresh: false, processed: true }] });
    expect(after.full ? [] : after.rows[0]).not.toHaveProperty("data");
  });

  it("a row repeated within one call is stored once and not handed back for fan-out", async () => {
    const shard = freshShard();
    const row = hit({ occurredAt: at(1) });
    const result = await shard.insert({ rows: [row, { ...row, seq: seq() }] });
    if (result.full) throw new Error("full");
    expect(result.rows.map((r) => [r.fresh, r.seq, "data" in r])).toEqual([
      [true, row.seq, false],
      [false, row.seq, false],
    ]);
    expect(result.events).toBe(1);
  });

  it("per-row processed overrides markProcessed", async () => {
    const shard = freshShard();
    const wanted = hit({ occurredAt: at(1), processed: false });
    const ignored = hit({ occurredAt: at(1, 1) });
    const result = await shard.insert({ rows: [wanted, ignored], markProcessed: true });
    expect(result).toMatchObject({ rows: [{ processed: false }, { processed: true }] });
    expect((await shard.unprocessed({ receivedBefore: at(24), limit: 10 })).map((e) => e.id)).toEqual([wanted.id]);
  });

  it("refuses a seq already used by another event and stores nothing of that call", async () => {
    const shard = freshShard();
    const row = hit({ occurredAt: at(1) });
    await shard.insert({ rows: [row] });
    const other = hit({ occurredAt: at(2) });
    // Called on the instance: a rejection across the test pool's RPC wrapper is reported as unhandled.
    await runInDurableObject(shard, async (instance: EventShardDO) => {
      await expect(instance.insert({ rows: [other, hit({ occurredAt: at(3), seq: row.seq })] })).rejects.toThrow(
        /already used/,
      );
    });
    expect(await shard.get(keyOf(other))).toBeNull();
    expect((await shard.stats()).events).toBe(1);
  });
  it("refuses an event outside the period its name gives, and stores nothing of that call", async () => {
    const shard = freshShard(); // named for 2036-01-01T00:00Z
    const inside = hit({ occurredAt: at(23, 59) });
    await runInDurableObject(shard, async (instance: EventShardDO) => {
      for (const occurredAt of [at(24), at(0) - 1]) {
        await expect(instance.insert({ rows: [inside, hit({ occurredAt })] })).rejects.toThrow(/not of its period/);
      }
    });
    expect(await shard.stats()).toMatchObject({ events: 0 });
    expect(await shard.insert({ rows: [inside, hit({ occurredAt: at(0) })] })).toMatchObject({
      full: false,
      events: 2,
    });
  });
});

describe("rollups", () => {
  it("count each stored event once, by hour, whatever is re-sent", async () => {
    const shard = freshShard();
    const rows = [
      hit({ occurredAt: at(1, 5), attackType: "sqli", host: "a.example", remoteCountry: "DE" }),
      hit({ occurredAt: at(1, 50), attackType: "xss", host: "a.example", blockStatus: "monitored" }),
      hit({ occurredAt: at(2, 0), attackType: "sqli", host: "b.example", path: "/admin", remoteCountry: null }),
      securityIssue({ occurredAt: at(2, 10), risk: "critical", host: "a.example" }),
      scopeChange({ occurredAt: at(2, 20), change: "removed", objectType: "port" }),
    ];
    await shard.insert({ rows, markProcessed: true });
    // Re-sent twice, in part and whole, with fresh seqs: nothing more is counted.
    await shard.insert({ rows: rows.slice(0, 2).map((r) => ({ ...r, seq: seq() })) });
    await shard.insert({ rows: rows.map((r) => ({ ...r, seq: seq() })) });
    // One more hit in hour 2, together with a duplicate.
    const late = hit({ occurredAt: at(2, 59), attackType: "sqli", host: "b.example" });
    await shard.insert({ rows: [late, { ...(rows[0] as ShardInsertRow), seq: seq() }] });

    const rollups = await shard.rollups({
      fromHour: at(0),
      toHour: at(24),
      dimensions: ["total", "attack_type", "block_status", "host", "path", "risk", "scope_change", "country", "node"],
    });
    const table = Object.fromEntries(
      rollups.map((r) => [`${(r.hour - DAY0) / HOUR}h ${r.eventType} ${r.dimension} ${r.key}`, r.count]),
    );
    expect(table).toEqual({
      "1h hit total ": 2,
      "1h hit attack_type sqli": 1,
      "1h hit attack_type xss": 1,
      "1h hit block_status blocked": 1,
      "1h hit block_status monitored": 1,
      "1h hit host a.example": 2,
      "1h hit path /login": 2,
      "1h hit country DE": 2,
      "1h hit node node-1": 2,
      "2h hit total ": 2,
      "2h hit attack_type sqli": 2,
      "2h hit block_status blocked": 2,
      "2h hit host b.example": 2,
      "2h hit path /admin": 1,
      "2h hit path /login": 1,
      "2h hit country DE": 1,
      "2h hit node node-1": 2,
      "2h security_issue total ": 1,
      "2h security_issue risk critical": 1,
      "2h security_issue host a.example": 1,
      "2h security_issue node node-2": 1,
      "2h scope_change total ": 1,
      "2h scope_change scope_change removed:port": 1,
      "2h scope_change node node-1": 1,
    });

    // An hour range and a type narrow the answer; tops sum over hours.
    expect(
      await shard.rollups({ fromHour: at(2), toHour: at(3), eventTypes: ["hit"], dimensions: ["attack_type"] }),
    ).toEqual([{ hour: at(2), eventType: "hit", dimension: "attack_type", key: "sqli", count: 2 }]);
    expect(
      await shard.rollupTops({
        fromHour: at(0),
        toHour: at(24),
        eventTypes: ["hit", "incident"],
        dimensions: ["attack_type", "host"],
        limit: 1,
      }),
    ).toEqual([
      { dimension: "attack_type", key: "sqli", total: 3, keys: 2 },
      { dimension: "host", key: "a.example", total: 2, keys: 2 },
    ]);
    // Each (type, dimension) pair is one primary-key range: the many keys of other dimensions are not read.
    const plans = await runInDurableObject(shard, (_i: EventShardDO, state) =>
      Object.values(ROLLUP_READS).map((sql) =>
        state.storage.sql
          .exec<{ detail: string }>(
            `EXPLAIN QUERY PLAN ${sql}`,
            ...['["hit"]', '["host"]', 0, 1, 5].slice(0, sql.includes("?5") ? 5 : 4),
          )
          .toArray()
          .map((row) => row.detail),
      ),
    );
    for (const plan of plans) {
      expect(plan).toContain("SEARCH r USING PRIMARY KEY (event_type=? AND dimension=? AND hour>? AND hour<?)");
      expect(plan.join("; ")).not.toMatch(/SCAN r\b/);
    }
    // The archive keeps the low-cardinality dimensions only.
    const counters = await shard.counters();
    expect(new Set(counters.map((r) => r.dimension))).toEqual(
      new Set(["total", "attack_type", "block_status", "country", "risk", "scope_change", "node"]),
    );
    expect(counters.filter((r) => r.dimension === "total").reduce((n, r) => n + r.count, 0)).toBe(6);
  });

  it("rolls up from the rows in hand: the rollup statement reads nothing back from events", async () => {
    const shard = freshShard();
    await shard.insert({ rows: [hit({ occurredAt: at(1) })] });
    const plan = await runInDurableObject(shard, (_i: EventShardDO, state) =>
      state.storage.sql
        .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${ROLL_UP}`, '[["hit", "total", 0, "", 1]]')
        .toArray()
        .map((row) => row.detail),
    );
    expect(plan.join("; ")).not.toMatch(/\bevents\b/);
  });

  it("system events are stored but not rolled up", async () => {
    const shard = freshShard();
    await shard.insert({
      rows: [
        {
          id: crypto.randomUUID(),
          occurredAt: at(4),
          receivedAt: at(4),
          seq: 1,
          nodeId: null,
          type: "system",
          systemType: "user_created",
          data: "{}",
        },
      ],
      markProcessed: true,
    });
    expect(await shard.rollups({ fromHour: at(0), toHour: at(24), dimensions: ["total", "node"] })).toEqual([]);
    expect(await shard.list({ filters: { type: "system" }, limit: 5 })).toMatchObject({
      events: [{ type: "system", systemType: "user_created", nodeId: null }],
    });
  });
});

describe("retention and size", () => {
  it("destroy empties the shard and its alarm; the object starts afresh afterwards", async () => {
    const shard = freshShard();
    await shard.insert({ rows: [hit({ occurredAt: at(1) }), securityIssue({ occurredAt: at(2) })] });
    await runInDurableObject(shard, (_i: EventShardDO, state) => state.storage.setAlarm(Date.now() + 3_600_000));
    await shard.destroy();
    await runInDurableObject(shard, async (_i: EventShardDO, state) => {
      expect(await state.storage.getAlarm()).toBeNull();
      expect(
        state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name NOT LIKE '\\_%' ESCAPE '\\'").toArray(),
      ).toEqual([]);
    });
    expect(await shard.stats()).toMatchObject({ events: 0, minSeq: null, maxSeq: null, unprocessed: 0 });
    expect(await shard.list({ limit: 10 })).toEqual({ events: [] });
    expect(await shard.rollups({ fromHour: at(0), toHour: at(24), dimensions: ["total"] })).toEqual([]);
    expect(await shard.insert({ rows: [hit({ occurredAt: at(3) })] })).toMatchObject({ full: false, events: 1 });
  });

  it("a full shard refuses new events and writes nothing, but still answers a re-send", async () => {
    const shard = freshShard();
    const stored = hit({ occurredAt: at(1) });
    await shard.insert({ rows: [stored] });
    const { bytes } = await shard.stats();
    await runInDurableObject(shard, (instance: EventShardDO) => {
      instance.maxBytes = bytes;
    });
    const fresh = hit({ occurredAt: at(2) });
    const refused = await shard.insert({ rows: [{ ...stored, seq: seq() }, fresh] });
    expect(refused).toEqual({ full: true, events: 1, bytes });
    expect(await shard.get(keyOf(fresh))).toBeNull();
    expect(await shard.insert({ rows: [{ ...stored, seq: seq() }] })).toMatchObject({
      full: false,
      events: 1,
      rows: [{ fresh: false, seq: stored.seq, data: stored.data }],
    });
    await runInDurableObject(shard, (instance: EventShardDO) => {
      instance.maxBytes = bytes + 1024 * 1024;
    });
    expect(await shard.insert({ rows: [fresh] })).toMatchObject({ full: false, events: 2 });
  });
});
