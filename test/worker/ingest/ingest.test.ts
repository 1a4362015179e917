import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { nodes } from "../../../worker/db/schema";
import { api, db } from "../helpers";
import {
  accountObject,
  createNode,
  fillRateWindow,
  hit,
  incident,
  json,
  postEvents,
  rollups,
  scopeChange,
  securityIssue,
  securityIssuesOf,
  storedEvents,
  storedIds,
  tenant,
} from "./support";

/**
 * The node's counters in D1. Its account object writes them at most once a minute (the alarm
 * writes the rest): here they are written at once, as the alarm would.
 */
async function nodeStats(accountId: string, nodeId: string, events: number) {
  await runInDurableObject(accountObject(accountId), (instance) => instance.flushNodes(Date.now(), true));
  return vi.waitFor(async () => {
    const row = await db().query.nodes.findFirst({ where: eq(nodes.id, nodeId) });
    expect(row?.eventsCount).toBe(events);
    return row;
  });
}

describe("POST /v1/events: storing", () => {
  it("stores a mixed batch once and answers 202 with the counts", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const batch = [hit(), hit({ block_status: "monitored" }), securityIssue(), incident(), scopeChange()];
    const res = await postEvents(node.token, { events: batch });
    expect(res.status).toBe(202);
    expect(await json(res)).toEqual({ accepted: 5, duplicates: 0 });
    expect(await storedIds(acme.accountId)).toEqual(batch.map((e) => String(e.id)).sort());

    const row = (await storedEvents(acme.accountId)).find((e) => e.id === batch[0]?.id);
    expect(row).toMatchObject({
      nodeId: node.id,
      type: "hit",
      attackType: "sqli",
      host: "shop.example.com",
      path: "/api/login",
      remoteCountry: "DE",
      blockStatus: "blocked",
      occurredAt: Date.parse(String(batch[0]?.occurred_at)),
    });
    expect(JSON.parse(String(row?.data))).toMatchObject({
      payload: "' OR 1=1 --",
      point: "post.json.user",
      id: batch[0]?.id,
    });

    const stats = await nodeStats(acme.accountId, node.id, 5);
    expect(stats?.lastSeenAt).toBeGreaterThan(Date.now() - 60_000);
  });

  it("generates a UUIDv7 for events sent without an id", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const { id: _id, ...withoutId } = hit();
    expect((await postEvents(node.token, { events: [withoutId, withoutId] })).status).toBe(202);
    const ids = await storedIds(acme.accountId);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("a replayed request stores nothing twice and counts the duplicates", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const batch = [hit(), securityIssue(), scopeChange()];
    expect(await json(await postEvents(node.token, { events: batch }))).toEqual({ accepted: 3, duplicates: 0 });
    const before = await rollups(acme.accountId);

    const replay = await postEvents(node.token, { events: [...batch, hit()] });
    expect(replay.status).toBe(202);
    expect(await json(replay)).toEqual({ accepted: 1, duplicates: 3 });
    expect(await storedIds(acme.accountId)).toHaveLength(4);

    // Only the one new hit counts: rollups of the replayed three are unchanged.
    const after = await rollups(acme.accountId);
    const total = (rows: typeof before, type: string) =>
      rows.find((r) => r.eventType === type && r.dimension === "total")?.count;
    expect(total(after, "hit")).toBe(2);
    expect(total(after, "security_issue")).toBe(total(before, "security_issue"));
    expect(total(after, "scope_change")).toBe(1);
    await nodeStats(acme.accountId, node.id, 4);
  });

  it("counts the same id twice in one request as one event and one duplicate", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const event = hit();
    expect(await json(await postEvents(node.token, { events: [event, event] }))).toEqual({
      accepted: 1,
      duplicates: 1,
    });
    const total = (await rollups(acme.accountId)).find((r) => r.dimension === "total");
    expect(total?.count).toBe(1);
  });

  it("knows a re-sent event by its id and instant; the same id at another time is another event", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const event = hit({ occurred_at: "2026-11-29T10:00:00Z" });
    await postEvents(node.token, { events: [event] });
    // The same instant written in another offset is the same event.
    const resent = await postEvents(node.token, { events: [{ ...event, occurred_at: "2026-11-29T11:00:00+01:00" }] });
    expect(await json(resent)).toEqual({ accepted: 0, duplicates: 1 });
    const reused = await postEvents(node.token, { events: [{ ...event, occurred_at: "2026-11-29T10:00:01Z" }] });
    expect(await json(reused)).toEqual({ accepted: 1, duplicates: 0 });
    expect(await storedIds(acme.accountId)).toEqual([event.id, event.id]);
  });

  it("treats ids case-insensitively (a UUID is a UUID)", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const event = hit();
    await postEvents(node.token, { events: [event] });
    const upper = await postEvents(node.token, { events: [{ ...event, id: String(event.id).toUpperCase() }] });
    expect(await json(upper)).toEqual({ accepted: 0, duplicates: 1 });
  });

  it("maintains hourly rollups for every documented dimension", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const hour = Date.UTC(2026, 0, 5, 10);
    const at = (minute: number) => new Date(hour + minute * 60_000).toISOString();
    await postEvents(node.token, {
      events: [
        hit({ occurred_at: at(1), attack_type: "xss", remote_addr: "198.51.100.7", remote_country: "fr" }),
        hit({ occurred_at: at(59), attack_type: "xss", remote_addr: "198.51.100.7", block_status: "monitored" }),
        hit({ occurred_at: at(61), attack_type: "rce" }),
        incident({ occurred_at: at(2), path: "/admin", remote_country: undefined }),
        securityIssue({ occurred_at: at(3), risk: "critical" }),
        scopeChange({ occurred_at: at(4), change: "removed", object_type: "port", value: "8080" }),
      ],
    });
    const rows = await rollups(acme.accountId);
    const count = (eventType: string, dimension: string, key: string, h = hour) =>
      rows.find((r) => r.hour === h && r.eventType === eventType && r.dimension === dimension && r.key === key)?.count;
    expect(count("hit", "total", "")).toBe(2);
    expect(count("hit", "total", "", hour + 3_600_000)).toBe(1);
    expect(count("hit", "attack_type", "xss")).toBe(2);
    expect(count("hit", "attack_type", "rce", hour + 3_600_000)).toBe(1);
    expect(count("hit", "block_status", "blocked")).toBe(1);
    expect(count("hit", "block_status", "monitored")).toBe(1);
    expect(count("hit", "remote_addr", "198.51.100.7")).toBe(2);
    expect(count("hit", "country", "FR")).toBe(1);
    expect(count("hit", "country", "DE")).toBe(1);
    expect(count("hit", "host", "shop.example.com")).toBe(2);
    expect(count("hit", "path", "/api/login")).toBe(2);
    expect(count("incident", "total", "")).toBe(1);
    expect(count("incident", "path", "/admin")).toBe(1);
    expect(rows.some((r) => r.eventType === "incident" && r.dimension === "country")).toBe(false);
    expect(count("security_issue", "risk", "critical")).toBe(1);
    expect(count("security_issue", "host", "shop.example.com")).toBe(1);
    expect(count("scope_change", "scope_change", "removed:port")).toBe(1);
    expect(count("scope_change", "total", "")).toBe(1);
  });

  it("upserts open security issues: one row per distinct issue, latest risk wins", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const first = securityIssue({ occurred_at: new Date(Date.now() - 3_600_000).toISOString(), risk: "medium" });
    const again = securityIssue({ occurred_at: new Date(Date.now() - 60_000).toISOString(), risk: "critical" });
    const other = securityIssue({ path: "/api/search", vuln_type: "xss", risk: "low" });
    await postEvents(node.token, { events: [first, other] });
    await postEvents(node.token, { events: [again] });
    const issues = await securityIssuesOf(acme.accountId);
    expect(issues).toHaveLength(2);
    const sqli = issues.find((i) => i.vuln_type === "sqli");
    expect(sqli).toMatchObject({
      id: first.id,
      last_event_id: again.id,
      risk: "critical",
      status: "open",
      first_seen: Date.parse(String(first.occurred_at)),
      last_seen: Date.parse(String(again.occurred_at)),
    });
    expect(issues.find((i) => i.vuln_type === "xss")?.risk).toBe("low");
  });
});

describe("POST /v1/events: validation", () => {
  it("refuses the whole request with 400 listing {index, field, message}; nothing is stored", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const good = hit();
    const res = await postEvents(node.token, {
      events: [
        good,
        securityIssue({ risk: "severe" }),
        hit({ remote_addr: "999.1.1.1", occurred_at: new Date(Date.now() + 3_600_000).toISOString() }),
      ],
    });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.message).toMatch(/nothing was stored/);
    expect(body.error.details.map((d: { index: number; field: string }) => [d.index, d.field])).toEqual([
      [1, "events.1.risk"],
      [2, "events.2.occurred_at"],
      [2, "events.2.remote_addr"],
    ]);
    for (const detail of body.error.details) expect(detail.message).toBeTruthy();
    expect(await storedIds(acme.accountId)).toEqual([]);
    expect((await db().query.nodes.findFirst({ where: eq(nodes.id, node.id) }))?.eventsCount).toBe(0);
  });

  it("refuses malformed JSON and a bad envelope, naming the problem", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const broken = await postEvents(node.token, '{"events": [');
    expect(broken.status).toBe(400);
    expect((await json(broken)).error.code).toBe("invalid_json");
    for (const [body, field] of [
      [{ events: [] }, "events"],
      [{ event: [hit()] }, "events"],
      [{ events: Array.from({ length: 1001 }, () => hit()) }, "events"],
    ] as const) {
      const res = await postEvents(node.token, body);
      expect(res.status).toBe(400);
      expect((await json(res)).error.details[0].field).toBe(field);
    }
    expect(await storedIds(acme.accountId)).toEqual([]);
  });

  it("accepts exactly 1000 events in one request", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const res = await postEvents(node.token, { events: Array.from({ length: 1000 }, () => hit()) });
    expect(res.status).toBe(202);
    expect(await json(res)).toEqual({ accepted: 1000, duplicates: 0 });
    const total = (await rollups(acme.accountId)).find((r) => r.eventType === "hit" && r.dimension === "total");
    expect(total?.count).toBe(1000);
  });
});

describe("POST /v1/events: authentication and limits", () => {
  it("refuses a missing, malformed or unknown token with 401", async () => {
    const body = { events: [hit()] };
    for (const token of [null, "hrld_not_a_node_token", "hnode_unknown"]) {
      const res = await postEvents(token, body);
      expect(res.status).toBe(401);
      expect((await json(res)).error.code).toBe("unauthorized");
    }
  });

  it("a token revoked mid-stream stops working at the next request", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    expect((await postEvents(node.token, { events: [hit()] })).status).toBe(202);
    expect((await api(acme.admin, "DELETE", `/api/nodes/${node.id}`)).status).toBe(204);
    const after = hit();
    expect((await postEvents(node.token, { events: [after] })).status).toBe(401);
    expect(await storedIds(acme.accountId)).not.toContain(after.id);
  });

  it("answers 429 with Retry-After over the per-node limit, per node", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin, "busy");
    const calm = await createNode(acme.admin, "calm");
    const limit = Number(env.NODE_RATE_LIMIT_PER_MINUTE);
    // Pre-fill this minute's window so the test does not send hundreds of requests.
    const window = await fillRateWindow(acme.accountId, node.id, limit);
    const res = await postEvents(node.token, { events: [hit()] });
    if (Date.now() - (Date.now() % 60_000) !== window) return; // the minute turned: window reset
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await json(res)).error.code).toBe("rate_limited");
    expect((await postEvents(calm.token, { events: [hit()] })).status).toBe(202);
  });

  it("counts a node's requests exactly once it is known: over the limit nothing is stored", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin, "busy");
    const limit = Number(env.NODE_RATE_LIMIT_PER_MINUTE);
    expect((await postEvents(node.token, { events: [hit()] })).status).toBe(202);
    // The next request fills the window; the one after it is refused by the account object.
    const window = await fillRateWindow(acme.accountId, node.id, limit - 1);
    const last = hit();
    const allowed = await postEvents(node.token, { events: [last] });
    const refused = hit();
    const res = await postEvents(node.token, { events: [refused] });
    if (Date.now() - (Date.now() % 60_000) !== window) return; // the minute turned: window reset
    expect(allowed.status).toBe(202);
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    const stored = await storedIds(acme.accountId);
    expect(stored).toContain(last.id);
    expect(stored).not.toContain(refused.id);
  });

  it("answers 415 without a JSON content type", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const res = await postEvents(node.token, JSON.stringify({ events: [hit()] }), { "Content-Type": "text/plain" });
    expect(res.status).toBe(415);
    expect((await json(res)).error.code).toBe("unsupported_media_type");
    const withCharset = await postEvents(
      node.token,
      { events: [hit()] },
      {
        "Content-Type": "application/json; charset=utf-8",
      },
    );
    expect(withCharset.status).toBe(202);
  });

  it("answers 413 over 1 MiB, by Content-Length and by the bytes actually sent", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const big = JSON.stringify({ events: [hit()], padding: "x".repeat(1024 * 1024) });
    const declared = await postEvents(node.token, big);
    expect(declared.status).toBe(413);
    expect((await json(declared)).error.code).toBe("payload_too_large");

    // Streamed without a Content-Length: the limit is enforced while reading.
    const bytes = new TextEncoder().encode(big);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.slice(i, i + 64 * 1024));
        controller.close();
      },
    });
    const { call } = await import("../helpers");
    const streamed = await call("/v1/events", {
      method: "POST",
      headers: { Authorization: `Bearer ${node.token}`, "Content-Type": "application/json" },
      body: stream,
    });
    expect(streamed.status).toBe(413);
    expect(await storedIds(acme.accountId)).toEqual([]);
  });

  it("a node token of account A only ever writes to account A", async () => {
    const acme = await tenant("Acme");
    const globex = await tenant("Globex");
    const acmeNode = await createNode(acme.admin);
    const event = hit();
    expect((await postEvents(acmeNode.token, { events: [event] })).status).toBe(202);
    expect(await storedIds(acme.accountId)).toEqual([event.id]);
    expect(await storedIds(globex.accountId)).toEqual([]);
    // The same event id in another account is another event (ids are unique per account).
    const globexNode = await createNode(globex.admin);
    expect(await json(await postEvents(globexNode.token, { events: [event] }))).toEqual({
      accepted: 1,
      duplicates: 0,
    });
    const globexEvents = (await storedEvents(globex.accountId)).filter((e) => e.type === "hit");
    expect(globexEvents.map((e) => e.nodeId)).toEqual([globexNode.id]);
  });
});
