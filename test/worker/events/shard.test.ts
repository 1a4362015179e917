/**
 * EventShardDO (worker/events/shard-do.ts) through its RPC, as the account object and the readers
 * call it: de-duplication, processed marks, rollups counted once per stored event, the list's
 * filters and cursor (each an index range), lookups, replay, retention and the size limit.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EventShardDO } from "../../../worker/events/shard-do";
import { listStatement, ROLLUP_READS, SHARD_READS } from "../../../worker/events/shard-store";
import type { ShardInsertRow, ShardListQuery, StoredShardEvent } from "../../../worker/events/shard-types";
import { at, DAY0, freshShard, hit, scopeChange, securityIssue, seq } from "./support";

const HOUR = 3_600_000;
const keyOf = (e: { id: string; occurredAt: number }) => ({ id: e.id, occurredAt: e.occurredAt });

/** Every page of a list, following the cursor. */
async function allPages(
  shard: ReturnType<typeof freshShard>,
  query: Omit<ShardListQuery, "before">,
): Promise<StoredShardEvent[][]> {
  const pages: StoredShardEvent[][] = [];
  let before: ShardListQuery["before"];
  for (;;) {
    const { events } = await shard.list({ ...query, ...(before ? { before } : {}) });
    if (events.length === 0) return pages;
    pages.push(events);
    const last = events[events.length - 1] as StoredShardEvent;
    before = keyOf(last);
  }
}

/** Newest first, as the list orders: occurred_at DESC, id DESC. */
const listOrder = (a: ShardInsertRow, b: ShardInsertRow) =>
  b.occurredAt - a.occurredAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

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

describe("list", () => {
  /** 120 events over the day: hits on two hosts and attack types, issues, scope changes, two nodes; equal instants too. */
  function corpus(): ShardInsertRow[] {
    const rows: ShardInsertRow[] = [];
    for (let i = 0; i < 120; i++) {
      // Every third pair shares its instant: the cursor must order by id within it.
      const occurredAt = at(Math.floor(i / 6), (i % 6) * 7 - (i % 3 === 1 ? 7 : 0));
      if (i % 10 === 3) rows.push(securityIssue({ occurredAt, risk: i % 20 === 3 ? "critical" : "low" }));
      else if (i % 10 === 7) rows.push(scopeChange({ occurredAt }));
      else
        rows.push(
          hit({
            occurredAt,
            host: i % 2 ? "a.example" : "b.example",
            attackType: i % 3 ? "sqli" : "xss",
            nodeId: i % 4 ? "node-1" : "node-3",
          }),
        );
    }
    return rows;
  }

  it("pages every filter deeply, newest first, without gaps or repeats", async () => {
    const shard = freshShard();
    const rows = corpus();
    await shard.insert({ rows, markProcessed: true });
    const cases: { filters: ShardListQuery["filters"]; want: (r: ShardInsertRow) => boolean }[] = [
      { filters: {}, want: () => true },
      { filters: { type: "hit" }, want: (r) => r.type === "hit" },
      { filters: { type: "scope_change" }, want: (r) => r.type === "scope_change" },
      { filters: { host: "a.example" }, want: (r) => r.host === "a.example" },
      { filters: { attackType: "xss" }, want: (r) => r.attackType === "xss" },
      { filters: { risk: "critical" }, want: (r) => r.risk === "critical" },
      { filters: { nodeId: "node-3" }, want: (r) => r.nodeId === "node-3" },
      { filters: { from: at(3), to: at(11) }, want: (r) => r.occurredAt >= at(3) && r.occurredAt < at(11) },
      {
        filters: { host: "b.example", attackType: "sqli", from: at(2), to: at(15) },
        want: (r) =>
          r.host === "b.example" && r.attackType === "sqli" && r.occurredAt >= at(2) && r.occurredAt < at(15),
      },
    ];
    for (const { filters, want } of cases) {
      const expected = rows.filter(want).sort(listOrder);
      expect(expected.length, JSON.stringify(filters)).toBeGreaterThan(0);
      const pages = await allPages(shard, { filters, limit: 7 });
      expect(
        pages.flat().map((e) => e.id),
        JSON.stringify(filters),
      ).toEqual(expected.map((r) => r.id));
      expect(pages.slice(0, -1).every((page) => page.length === 7)).toBe(true);
    }
  });

  it("gives the stored columns back", async () => {
    const shard = freshShard();
    const row = hit({ occurredAt: at(7), remoteCountry: "FR" });
    await shard.insert({ rows: [row] });
    const { events } = await shard.list({ limit: 10 });
    const { processed: _p, ...columns } = row;
    expect(events).toEqual([{ systemType: null, risk: null, ...columns, processed: false }]);
  });

  it("serves each filter and the cursor from one index range, in list order", async () => {
    const shard = freshShard();
    await shard.insert({ rows: corpus(), markProcessed: true });
    const before = { occurredAt: at(10), id: "m" };
    const plans: Record<string, string> = {};
    const queries: Record<string, ShardListQuery> = {
      none: { limit: 50, before },
      type: { filters: { type: "hit" }, before, limit: 50 },
      host: { filters: { host: "a.example" }, before, limit: 50 },
      attackType: { filters: { attackType: "sqli" }, before, limit: 50 },
      risk: { filters: { risk: "low" }, before, limit: 50 },
      nodeId: { filters: { nodeId: "node-1" }, before, limit: 50 },
      range: { filters: { from: at(2), to: at(15) }, before, limit: 50 },
      hostRange: { filters: { host: "a.example", from: at(2), to: at(15) }, before, limit: 50 },
    };
    await runInDurableObject(shard, (_instance: EventShardDO, state) => {
      for (const [name, query] of Object.entries(queries)) {
        const { sql, params } = listStatement(query);
        plans[name] = state.storage.sql
          .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, ...params)
          .toArray()
          .map((row) => row.detail)
          .join("; ");
      }
    });
    const index = { type: "events_type", host: "events_host", attackType: "events_attack_type" } as Record<
      string,
      string
    >;
    Object.assign(index, { risk: "events_risk", nodeId: "events_node", hostRange: "events_host" });
    for (const [name, plan] of Object.entries(plans)) {
      expect(plan, name).toMatch(/^SEARCH events USING INDEX /);
      expect(plan, name).not.toMatch(/SCAN|TEMP B-TREE/);
      expect(plan, name).toContain(index[name] ?? "events_key");
      // The cursor bounds the range (it is tighter than `to`): a deep page does not step over earlier pages.
      expect(plan, name).toContain("(occurred_at,id)<(?,?)");
    }
  });
});

describe("lookups", () => {
  it("reads by key, seq, time and processed mark through an index or the rowid", async () => {
    const shard = freshShard();
    await shard.insert({ rows: [hit({ occurredAt: at(1) })] });
    const plans = await runInDurableObject(shard, (_i: EventShardDO, state) =>
      Object.fromEntries(
        Object.entries(SHARD_READS).map(([name, sql]) => [
          name,
          state.storage.sql
            .exec<{ detail: string }>(
              `EXPLAIN QUERY PLAN ${sql}`,
              ...sql
                .split("?")
                .slice(1)
                .map(() => 1),
            )
            .toArray()
            .map((row) => row.detail)
            .join("; "),
        ]),
      ),
    );
    expect(plans).toEqual({
      byKey: "SEARCH events USING INDEX events_key (occurred_at=? AND id=?)",
      // Without the time: the key index of this one shard, newest first (no index on the random id).
      latestById: "SCAN events USING INDEX events_key",
      scopeChanges: "SEARCH events USING INDEX events_type (type=? AND occurred_at>? AND occurred_at<?)",
      unprocessed: "SEARCH events USING INDEX events_unprocessed (received_at<?)",
      afterSeq: "SEARCH events USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)",
    });
  });

  it("finds an event by id with and without its time; the same id at two times gives the latest", async () => {
    const shard = freshShard();
    const early = hit({ occurredAt: at(2) });
    const late = { ...hit({ occurredAt: at(9) }), id: early.id };
    await shard.insert({ rows: [early, late, hit({ occurredAt: at(3) })] });
    expect(await shard.get({ id: early.id, occurredAt: at(2) })).toMatchObject({ seq: early.seq });
    expect(await shard.get({ id: early.id })).toMatchObject({ seq: late.seq, occurredAt: at(9) });
    expect(await shard.get({ id: early.id, occurredAt: at(4) })).toBeNull();
    expect(await shard.get({ id: crypto.randomUUID() })).toBeNull();
  });

  it("replays by seq range in seq order, bounded", async () => {
    const shard = freshShard();
    const rows = [
      hit({ occurredAt: at(5) }),
      hit({ occurredAt: at(1) }),
      hit({ occurredAt: at(3) }),
      hit({ occurredAt: at(2) }),
    ];
    await shard.insert({ rows: rows.slice(0, 2) });
    await shard.insert({ rows: rows.slice(2) });
    const seqs = rows.map((r) => r.seq);
    const [s0, s1, s2, s3] = seqs as [number, number, number, number];
    expect((await shard.afterSeq({ afterSeq: s0, untilSeq: s3, limit: 10 })).map((e) => e.seq)).toEqual([s1, s2, s3]);
    expect((await shard.afterSeq({ afterSeq: s0 - 1, untilSeq: s2, limit: 2 })).map((e) => e.seq)).toEqual([s0, s1]);
    expect(await shard.afterSeq({ afterSeq: s3, untilSeq: s3 + 100, limit: 10 })).toEqual([]);
    expect(await shard.stats()).toMatchObject({ events: 4, minSeq: s0, maxSeq: s3, unprocessed: 4 });
  });

  it("lists unprocessed rows received before an instant, oldest received first", async () => {
    const shard = freshShard();
    const a = hit({ occurredAt: at(1), receivedAt: at(6) });
    const b = hit({ occurredAt: at(2), receivedAt: at(4) });
    const c = hit({ occurredAt: at(3), receivedAt: at(8) });
    const done = hit({ occurredAt: at(4), receivedAt: at(1), processed: true });
    await shard.insert({ rows: [a, b, c, done] });
    expect((await shard.unprocessed({ receivedBefore: at(7), limit: 10 })).map((e) => e.id)).toEqual([b.id, a.id]);
    expect((await shard.unprocessed({ receivedBefore: at(9), limit: 1 })).map((e) => e.id)).toEqual([b.id]);
    await shard.markProcessed([keyOf(b)]);
    expect((await shard.unprocessed({ receivedBefore: at(9), limit: 10 })).map((e) => e.id)).toEqual([a.id, c.id]);
  });

  it("lists scope changes of a time range, newest first", async () => {
    const shard = freshShard();
    const old = scopeChange({ occurredAt: at(1), change: "added", objectType: "ip", value: "198.51.100.7" });
    const recent = scopeChange({ occurredAt: at(5), change: "removed", objectType: "port", value: "8443" });
    await shard.insert({ rows: [old, recent, hit({ occurredAt: at(3) })], markProcessed: true });
    expect(await shard.scopeChanges({ from: at(0), to: at(24), limit: 10 })).toEqual([
      { id: recent.id, occurredAt: at(5), change: "removed", objectType: "port", value: "8443" },
      { id: old.id, occurredAt: at(1), change: "added", objectType: "ip", value: "198.51.100.7" },
    ]);
    expect((await shard.scopeChanges({ from: at(2), to: at(24), limit: 10 })).map((r) => r.id)).toEqual([recent.id]);
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
