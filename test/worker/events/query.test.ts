/**
 * The events list and one event across shards (worker/events/query.ts, GET /api/events): events
 * in three daily periods with fanouts 1, 4 and 2, written into their shards as the account object
 * writes them (directory row first, then `insert`), read back through the API with every filter,
 * cursor pages crossing period and sub-shard boundaries, by id and time, and never another
 * account's.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { nodes } from "../../../worker/db/schema";
import { findEventAt } from "../../../worker/events/query";
import type { ShardInsertRow } from "../../../worker/events/shard-types";
import { api, db, json, login, type Session, seedAccount } from "../helpers";
import { at, newestFirst, store } from "./stored";
import { hit, scopeChange, securityIssue } from "./support";

interface Listed {
  id: string;
  type: string;
  occurred_at: string;
}

const ids = (rows: { id: string }[]) => rows.map((r) => r.id);

let accountId: string;
let other: string;
let admin: Session;
let otherAdmin: Session;
let corpus: ShardInsertRow[];

beforeAll(async () => {
  const acme = await seedAccount("Acme Shards");
  const globex = await seedAccount("Globex Shards");
  accountId = acme.accountId;
  other = globex.accountId;
  admin = await login(acme.users.analyst.email);
  otherAdmin = await login(globex.users.admin.email);
  const sameInstant = at(1, 12);
  corpus = [
    // Day 1 (fanout 1): late in the UTC day.
    hit({ occurredAt: at(0, 23, 59), attackType: "xss", host: "a.example" }),
    hit({ occurredAt: at(0, 8), attackType: "sqli", host: "b.example" }),
    securityIssue({ occurredAt: at(0, 9), risk: "critical" }),
    // Day 2 (fanout 4): the first millisecond of the day, and six hits at one instant spread over sub-shards.
    hit({ occurredAt: at(1, 0), attackType: "rce", host: "a.example" }),
    ...Array.from({ length: 6 }, () => hit({ occurredAt: sameInstant, attackType: "sqli", host: "a.example" })),
    securityIssue({ occurredAt: at(1, 13), risk: "low" }),
    scopeChange({ occurredAt: at(1, 14) }),
    // Day 3 (fanout 2).
    hit({ occurredAt: at(2, 1), attackType: "xss", host: "b.example" }),
    securityIssue({ occurredAt: at(2, 2), risk: "critical", host: "a.example" }),
    scopeChange({ occurredAt: at(2, 23, 59) }),
  ];
  await store(accountId, corpus);
  // The other account: the same instants, other ids.
  await store(
    other,
    corpus.map((row) => ({ ...row, id: crypto.randomUUID() })),
  );
});

async function list(query: string, session = admin): Promise<{ events: Listed[]; next_cursor: string | null }> {
  const res = await api(session, "GET", `/api/events?${query}`);
  expect(res.status, await res.clone().text()).toBe(200);
  return json(res);
}

/** Every page of a query, following next_cursor. */
async function allPages(query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await list(`${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
    seen.push(...ids(page.events));
    cursor = page.next_cursor;
    pages++;
  } while (cursor && pages < 50);
  return { ids: seen, pages };
}

describe("events list across shards", () => {
  it("lists every period newest first, sub-shards merged by (occurred_at, id)", async () => {
    const page = await list("limit=200");
    expect(ids(page.events)).toEqual(ids(newestFirst(corpus)));
    expect(page.next_cursor).toBeNull();
  });

  it("pages with a cursor across period and sub-shard boundaries, without gaps or repeats", async () => {
    for (const limit of [1, 2, 3, 5]) {
      const { ids: seen, pages } = await allPages("type=hit", limit);
      const expected = ids(newestFirst(corpus.filter((r) => r.type === "hit")));
      expect(seen, `limit ${limit}`).toEqual(expected);
      expect(pages).toBe(Math.ceil(expected.length / limit));
    }
  });

  it("applies every filter in every period", async () => {
    const expect_ = (filter: (row: ShardInsertRow) => boolean) => ids(newestFirst(corpus.filter(filter)));
    expect(ids((await list("type=security_issue")).events)).toEqual(expect_((r) => r.type === "security_issue"));
    expect(ids((await list("type=scope_change")).events)).toEqual(expect_((r) => r.type === "scope_change"));
    expect(ids((await list("risk=critical")).events)).toEqual(expect_((r) => r.risk === "critical"));
    expect(ids((await list("attack_type=XSS")).events)).toEqual(expect_((r) => r.attackType === "xss"));
    expect(ids((await list("host=a.example")).events)).toEqual(expect_((r) => r.host === "a.example"));
    expect(ids((await list("host=nope.example")).events)).toEqual([]);
    // [from, to): the last minute of day 1 up to (not including) day 2's first security issue.
    const from = new Date(at(0, 23, 59)).toISOString();
    const to = new Date(at(1, 13)).toISOString();
    expect(ids((await list(`from=${from}&to=${to}`)).events)).toEqual(
      expect_((r) => r.occurredAt >= at(0, 23, 59) && r.occurredAt < at(1, 13)),
    );
    // Filters combine, and page across the boundary too.
    const { ids: paged } = await allPages(`type=hit&host=a.example&to=${to}`, 2);
    expect(paged).toEqual(expect_((r) => r.type === "hit" && r.host === "a.example" && r.occurredAt < at(1, 13)));
  });

  it("shows one event by id and time in any period, and the list's fields", async () => {
    for (const row of [corpus[0], corpus[4], corpus[corpus.length - 1]] as ShardInsertRow[]) {
      const occurredAt = encodeURIComponent(new Date(row.occurredAt).toISOString());
      const res = await api(admin, "GET", `/api/events/${row.id}?occurred_at=${occurredAt}`);
      expect(res.status).toBe(200);
      expect((await json(res)).event).toMatchObject({
        id: row.id,
        type: row.type,
        occurred_at: new Date(row.occurredAt).toISOString(),
        received_at: new Date(row.receivedAt).toISOString(),
        data: JSON.parse(row.data),
      });
    }
    // A time in a period with no shard, or another instant of a stored period: not found.
    expect(await findEventAt(env, accountId, corpus[0]!.id, at(9, 0))).toBeNull();
    expect(await findEventAt(env, accountId, corpus[0]!.id, corpus[0]!.occurredAt + 1)).toBeNull();
  });

  it("never reaches another account's events", async () => {
    const otherIds = ids((await list("limit=200", otherAdmin)).events);
    expect(otherIds).toHaveLength(corpus.length);
    expect(otherIds.filter((id) => ids(corpus).includes(id))).toEqual([]);
    for (const row of corpus.slice(0, 3)) {
      const occurredAt = encodeURIComponent(new Date(row.occurredAt).toISOString());
      expect((await api(otherAdmin, "GET", `/api/events/${row.id}?occurred_at=${occurredAt}`)).status).toBe(404);
      expect((await api(otherAdmin, "GET", `/api/events/${row.id}`)).status).toBe(404);
    }
  });

  it("names the nodes of a page sent by more nodes than D1 binds in one statement", async () => {
    const fleet = await seedAccount("Fleet Shards");
    const reader = await login(fleet.users.read_only.email);
    const nodeIds = Array.from({ length: 150 }, () => crypto.randomUUID());
    for (let i = 0; i < nodeIds.length; i += 10) {
      await db()
        .insert(nodes)
        .values(
          nodeIds.slice(i, i + 10).map((id, j) => ({
            id,
            accountId: fleet.accountId,
            name: `waf-${i + j}`,
            tokenHash: crypto.randomUUID(),
            tokenPrefix: "hnode_test",
            createdAt: 0,
            eventsCount: 0,
          })),
        );
    }
    await store(
      fleet.accountId,
      nodeIds.map((nodeId, i) => hit({ occurredAt: at(1, 8, i % 60), nodeId })),
    );
    const page = await list("limit=200", reader);
    expect(page.events).toHaveLength(150);
    const named = page.events as unknown as { node_id: string; node_name: string }[];
    expect(named.every((e) => e.node_name === `waf-${nodeIds.indexOf(e.node_id)}`)).toBe(true);
  });
});
