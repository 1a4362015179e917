/**
 * Report figures over a known corpus in the account's shards (worker/reports/sources.ts): the
 * local day 2026-10-02 in Tokyo (2026-10-01T15:00Z … 2026-10-02T15:00Z) takes hours from two UTC
 * shards — Oct 1 (one sub-shard) and Oct 2 (four sub-shards) — so every counter, top table and
 * scope-change list is merged across shards and sub-shards. Expected figures are counted by hand.
 * A period whose shard retention dropped keeps its totals from the account object's archive.
 */

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { ShardInsertRow } from "../../../worker/events/shard-types";
import type { AccountIngestDO } from "../../../worker/ingest/account-do";
import { accountIngestObject } from "../../../worker/ingest/account-object";
import { DAY_MS } from "../../../worker/lib/time";
import { store } from "../events/stored";
import { hit, scopeChange } from "../events/support";
import { api, json, login, type Session, seedAccount } from "../helpers";
import { hits, seedEvents } from "./seed";

const at = (iso: string) => Date.parse(iso);

/** `count` rows alike but for their ids, spread over the minutes of the hour starting at `hour`. */
function many(count: number, hour: string, row: Omit<Parameters<typeof hit>[0], "occurredAt">): ShardInsertRow[] {
  return Array.from({ length: count }, (_, i) => hit({ ...row, occurredAt: at(hour) + i * 60_000 }));
}

let admin: Session;

beforeAll(async () => {
  const seeded = await seedAccount("Tokyo Shards", "Asia/Tokyo");
  admin = await login(seeded.users.admin.email);
  const corpus = [
    // The previous local day (Oct 1 in Tokyo): 3 hits.
    ...many(3, "2026-10-01T10:00:00Z", {
      attackType: "sqli",
      blockStatus: "blocked",
      host: "a.example",
      remoteAddr: "1.1.1.1",
    }),
    // The day, in the Oct 1 UTC shard: 4 hits at 01:00 Tokyo time, one scope change.
    ...many(4, "2026-10-01T16:00:00Z", {
      attackType: "xss",
      blockStatus: "blocked",
      host: "a.example",
      remoteAddr: "2.2.2.2",
      remoteCountry: "DE",
    }),
    scopeChange({ occurredAt: at("2026-10-01T20:00:00Z"), change: "added", objectType: "host", value: "new.example" }),
    // The day, in the Oct 2 UTC shard (four sub-shards): 6 hits and 2 incidents at noon, two scope changes.
    ...many(6, "2026-10-02T03:00:00Z", {
      attackType: "sqli",
      blockStatus: "monitored",
      host: "b.example",
      remoteAddr: "1.1.1.1",
      remoteCountry: "FR",
    }),
    ...many(2, "2026-10-02T03:00:00Z", {
      type: "incident",
      attackType: "rce",
      blockStatus: "blocked",
      host: "b.example",
      remoteAddr: "9.9.9.9",
      remoteCountry: null,
    }),
    scopeChange({
      occurredAt: at("2026-10-02T05:00:00Z"),
      change: "added",
      objectType: "host",
      value: "other.example",
    }),
    scopeChange({ occurredAt: at("2026-10-02T05:30:00Z"), change: "removed", objectType: "port", value: "8080" }),
    // Oct 3 in Tokyo (16:00Z on Oct 2): 5 hits, in the weekly report only.
    ...many(5, "2026-10-02T16:00:00Z", {
      attackType: "ptrav",
      blockStatus: "blocked",
      host: "c.example",
      remoteAddr: "3.3.3.3",
    }),
  ];
  await store(seeded.accountId, corpus);
});

async function build(frequency: string, periodStart: string) {
  const res = await api(admin, "POST", "/api/reports", { frequency, period_start: periodStart });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await json(res)).report.data;
}

const keys = (rows: { key: string; count: number }[]) => rows.map((r) => [r.key, r.count]);

describe("a report over shards", () => {
  it("adds up a local day held by two UTC shards and their sub-shards", async () => {
    const data = await build("daily", "2026-10-02");
    expect(data.period).toMatchObject({ start_at: "2026-10-01T15:00:00.000Z", end_at: "2026-10-02T15:00:00.000Z" });
    expect(data.totals.hits).toEqual({ current: 10, previous: 3, change: 7, change_pct: 233.3 });
    expect(data.totals.blocked).toMatchObject({ current: 4, previous: 3 });
    expect(data.totals.monitored).toMatchObject({ current: 6, previous: 0 });
    expect(data.totals.incidents).toMatchObject({ current: 2, previous: 0 });
    expect(data.totals.scope_changes).toMatchObject({ current: 3, previous: 0 });
    const points = data.hits_over_time.points;
    expect(points[1]).toMatchObject({ label: "01:00", hits: 4, blocked: 4, monitored: 0 });
    expect(points[12]).toMatchObject({ label: "12:00", hits: 6, blocked: 0, monitored: 6, incidents: 2 });
    expect(keys(data.top.attack_types)).toEqual([
      ["sqli", 6],
      ["xss", 4],
      ["rce", 2],
    ]);
    expect(data.top.attack_types[0].share).toBeCloseTo(6 / 12, 6);
    expect(keys(data.top.hosts)).toEqual([
      ["b.example", 8],
      ["a.example", 4],
    ]);
    expect(keys(data.top.source_ips)).toEqual([
      ["1.1.1.1", 6],
      ["2.2.2.2", 4],
      ["9.9.9.9", 2],
    ]);
    expect(keys(data.top.countries)).toEqual([
      ["FR", 6],
      ["DE", 4],
    ]);
    expect(data.top.approximate).toEqual([]);
    expect(data.scope_changes).toMatchObject({ total: 3, added: 2, removed: 1 });
    expect(data.scope_changes.items.map((i: { value: string }) => i.value)).toEqual([
      "8080",
      "other.example",
      "new.example",
    ]);
  });

  it("merges the days of a week from their digests", async () => {
    const data = await build("weekly", "2026-09-28");
    expect(data.totals.hits.current).toBe(18);
    expect(keys(data.top.attack_types)).toEqual([
      ["sqli", 9],
      ["ptrav", 5],
      ["xss", 4],
      ["rce", 2],
    ]);
    expect(data.hits_over_time.points.map((p: { hits: number }) => p.hits)).toEqual([0, 0, 0, 3, 10, 5, 0]);
  });

  it("keeps a dropped period's totals and low-cardinality tops from the account object's archive", async () => {
    const old = await seedAccount("Archive Shards", "UTC");
    const oldAdmin = await login(old.users.admin.email);
    const day = new Date(Date.now() - 100 * DAY_MS).toISOString().slice(0, 10);
    await seedEvents(old.accountId, [
      ...hits(`${day}T08:00:00Z`, 3, {
        attack: "sqli",
        block: "blocked",
        host: "h.example",
        path: "/",
        ip: "1.1.1.1",
        country: "DE",
      }),
      ...hits(`${day}T09:00:00Z`, 2, {
        attack: "xss",
        block: "monitored",
        host: "h.example",
        path: "/",
        ip: "2.2.2.2",
      }),
    ]);
    const daily = async () => {
      const res = await api(oldAdmin, "POST", "/api/reports", { frequency: "daily", period_start: day });
      expect(res.status).toBe(201);
      return (await json(res)).report.data;
    };
    const before = await daily();
    expect(before.totals.hits.current).toBe(5);
    expect(await accountIngestObject(env, old.accountId).dropExpiredShards(Date.now() - 90 * DAY_MS)).toEqual({
      dropped: 1,
    });
    const after = await daily();
    expect(after.totals).toEqual({ ...before.totals });
    expect(after.hits_over_time).toEqual(before.hits_over_time);
    // The day's top digest was kept in the account's object when it was first reported: the tables outlive the shard.
    expect(after.top).toEqual(before.top);
    // A day never reported before its shard went: its tops come from the archive, which keeps
    // attack types and countries, not hosts, paths or source IPs.
    await runInDurableObject(accountIngestObject(env, old.accountId), (_account: AccountIngestDO, state) => {
      state.storage.sql.exec("DELETE FROM report_day_tops");
    });
    const fromArchive = await daily();
    expect(fromArchive.totals).toEqual({ ...before.totals });
    expect(keys(fromArchive.top.attack_types)).toEqual([
      ["sqli", 3],
      ["xss", 2],
    ]);
    expect(keys(fromArchive.top.countries)).toEqual([["DE", 3]]);
    expect(fromArchive.top.hosts).toEqual([]);
    expect(fromArchive.top.source_ips).toEqual([]);
  });
});
