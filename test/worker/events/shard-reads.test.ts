/**
 * EventShardDO (worker/events/shard-do.ts) reads, through its RPC as the readers call it: the list's
 * filters and cursor (each an index range), lookups by key and id, replay, the sweep's query.
 */
import { runInDurableObject } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { EventShardDO } from "../../../worker/events/shard-do";
import { listStatement, SHARD_READS } from "../../../worker/events/shard-store";
import type { ShardInsertRow, ShardListQuery } from "../../../worker/events/shard-types";
import { allPages, at, freshShard, hit, keyOf, listOrder, scopeChange, securityIssue } from "./support";

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

  it("pages any filter, time range and page size like a sorted copy (property)", async () => {
    const shard = freshShard();
    // Few instants and ids that sort in every order: many ties on occurred_at, cursors between them.
    const rows = Array.from({ length: 150 }, (_, i) => {
      const occurredAt = at(i % 9, (i * 7) % 3);
      const row = [hit, securityIssue, scopeChange][i % 3 === 0 ? 1 : i % 5 === 0 ? 2 : 0]?.({
        occurredAt,
        host: ["a.example", "b.example", "c.example"][i % 3],
        attackType: ["sqli", "xss"][i % 2],
        nodeId: ["node-1", "node-2", "node-3"][i % 3],
        risk: i % 2 ? "low" : "high",
      }) as ShardInsertRow;
      return row;
    });
    await shard.insert({ rows, markProcessed: true });
    const values = {
      type: fc.constantFrom("hit" as const, "security_issue" as const, "scope_change" as const),
      host: fc.constantFrom("a.example", "b.example", "none.example"),
      attackType: fc.constantFrom("sqli", "xss"),
      risk: fc.constantFrom("low", "high"),
      nodeId: fc.constantFrom("node-1", "node-3"),
    };
    // At most two equality filters (more would leave most cases empty), and sometimes a time range.
    const filters = fc
      .tuple(
        fc.subarray(Object.keys(values) as (keyof typeof values)[], { maxLength: 2 }),
        fc.option(fc.integer({ min: 0, max: 9 }).map((h) => at(h))),
        fc.option(fc.integer({ min: 1, max: 10 }).map((h) => at(h, 1))),
      )
      .chain(([keys, from, to]) =>
        fc.tuple(...keys.map((key) => values[key].map((value) => [key, value] as const))).map((pairs) => ({
          ...Object.fromEntries(pairs),
          ...(from === null ? {} : { from }),
          ...(to === null ? {} : { to }),
        })),
      ) as fc.Arbitrary<NonNullable<ShardListQuery["filters"]>>;
    await fc.assert(
      fc.asyncProperty(filters, fc.integer({ min: 1, max: 40 }), async (f, limit) => {
        const wanted = rows
          .filter(
            (r) =>
              (f.type === undefined || r.type === f.type) &&
              (f.host === undefined || r.host === f.host) &&
              (f.attackType === undefined || r.attackType === f.attackType) &&
              (f.risk === undefined || r.risk === f.risk) &&
              (f.nodeId === undefined || r.nodeId === f.nodeId) &&
              (f.from === undefined || r.occurredAt >= f.from) &&
              (f.to === undefined || r.occurredAt < f.to),
          )
          .sort(listOrder);
        const pages = await allPages(shard, { filters: f, limit });
        expect(pages.flat().map((e) => e.id)).toEqual(wanted.map((r) => r.id));
      }),
      { numRuns: 60 },
    );
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
