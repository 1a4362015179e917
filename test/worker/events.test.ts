import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, call, json, login } from "./helpers";
import { createNode, hit, postEvents, scopeChange, securityIssue, tenant } from "./ingest/support";

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

describe("events API", () => {
  it("lists events newest first for every role, with filters", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const old = hit({ occurred_at: minutesAgo(120), attack_type: "xss", host: "a.example.com" });
    const recent = hit({ occurred_at: minutesAgo(5), host: "b.example.com" });
    const issue = securityIssue({ occurred_at: minutesAgo(30), risk: "critical" });
    const scope = scopeChange({ occurred_at: minutesAgo(60) });
    expect((await postEvents(node.token, { events: [old, recent, issue, scope] })).status).toBe(202);

    for (const role of ["admin", "analyst", "read_only"] as const) {
      const session = await login(acme.users[role].email);
      const res = await api(session, "GET", "/api/events?type=hit");
      expect(res.status).toBe(200);
      expect((await json(res)).events.map((e: { id: string }) => e.id)).toEqual([recent.id, old.id]);
    }
    const ids = async (query: string) =>
      (await json(await api(acme.admin, "GET", `/api/events?${query}`))).events.map((e: { id: string }) => e.id);
    expect(await ids("risk=critical")).toEqual([issue.id]);
    expect(await ids("attack_type=XSS")).toEqual([old.id]);
    expect(await ids("host=b.example.com")).toEqual([recent.id]);
    expect(await ids(`type=hit&from=${encodeURIComponent(minutesAgo(90))}`)).toEqual([recent.id]);
    expect(await ids(`to=${encodeURIComponent(minutesAgo(45))}&type=scope_change`)).toEqual([scope.id]);
    expect(await ids("type=system")).toHaveLength(1); // node_created

    const [listed] = (await json(await api(acme.admin, "GET", "/api/events?type=security_issue"))).events;
    expect(listed).toMatchObject({
      id: issue.id,
      type: "security_issue",
      risk: "critical",
      host: "shop.example.com",
      node_id: node.id,
      node_name: "waf-eu-1",
      occurred_at: new Date(String(issue.occurred_at)).toISOString(),
      data: { title: issue.title, vuln_type: "sqli" },
    });
  });

  it("paginates with a keyset cursor, without gaps or repeats", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const sameTime = minutesAgo(10);
    const batch = Array.from({ length: 7 }, (_, i) => hit({ occurred_at: i < 4 ? sameTime : minutesAgo(20 + i) }));
    await postEvents(node.token, { events: batch });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/api/events?type=hit&limit=3${cursor ? `&cursor=${cursor}` : ""}`;
      const page: { events: { id: string }[]; next_cursor: string | null } = await json(
        await api(acme.admin, "GET", query),
      );
      seen.push(...page.events.map((e) => e.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(7);
    expect(seen.sort()).toEqual(batch.map((e) => String(e.id)).sort());
  });

  it("refuses bad filters naming the field", async () => {
    const acme = await tenant();
    for (const [query, field] of [
      ["type=alert", "query.type"],
      ["risk=severe", "query.risk"],
      ["from=yesterday", "query.from"],
      ["limit=0", "query.limit"],
      ["limit=500", "query.limit"],
      ["cursor=garbage", "cursor"],
    ]) {
      const res = await api(acme.admin, "GET", `/api/events?${query}`);
      expect(res.status, query).toBe(400);
      expect((await json(res)).error.details[0].field).toBe(field);
    }
  });

  it("shows one event by id, never another account's", async () => {
    const acme = await tenant("Acme");
    const globex = await tenant("Globex");
    const node = await createNode(acme.admin);
    const issue = securityIssue();
    await postEvents(node.token, { events: [issue] });
    const own = await api(acme.admin, "GET", `/api/events/${issue.id}`);
    expect(own.status).toBe(200);
    expect((await json(own)).event).toMatchObject({
      id: issue.id,
      type: "security_issue",
      data: { title: issue.title },
    });
    expect((await api(globex.admin, "GET", `/api/events/${issue.id}`)).status).toBe(404);
    expect((await json(await api(globex.admin, "GET", "/api/events?type=security_issue"))).events).toEqual([]);
    expect((await api(null, "GET", `/api/events/${issue.id}`)).status).toBe(401);
  });

  it("finds a hit nobody was notified of by its id and time, as the event list links to it", async () => {
    const acme = await tenant("Acme");
    const globex = await tenant("Globex");
    const node = await createNode(acme.admin);
    const event = hit({ occurred_at: "2026-11-29T10:00:00.123Z" });
    await postEvents(node.token, { events: [event] });
    const [listed] = (await json(await api(acme.admin, "GET", "/api/events?type=hit"))).events;
    const byKey = `/api/events/${event.id}?occurred_at=${encodeURIComponent(listed.occurred_at)}`;
    const own = await api(acme.admin, "GET", byKey);
    expect(own.status).toBe(200);
    expect((await json(own)).event).toMatchObject({ id: event.id, type: "hit", data: { payload: event.payload } });
    // Any RFC 3339 spelling of the same instant finds it; another instant or account does not.
    expect(
      (await api(acme.admin, "GET", `/api/events/${event.id}?occurred_at=2026-11-29T11:00:00.123%2B01:00`)).status,
    ).toBe(200);
    expect((await api(acme.admin, "GET", `/api/events/${event.id}?occurred_at=2026-11-29T10:00:00.124Z`)).status).toBe(
      404,
    );
    expect((await api(globex.admin, "GET", byKey)).status).toBe(404);
    const bad = await api(acme.admin, "GET", `/api/events/${event.id}?occurred_at=yesterday`);
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.details[0].field).toBe("query.occurred_at");
  });

  it("serves notification links: the UI to browsers, the event as JSON to API clients", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const event = scopeChange(); // notified or not, a scope change is findable by its id alone
    await postEvents(node.token, { events: [event] });
    const asApi = await api(acme.admin, "GET", `/events/${event.id}`);
    expect(asApi.status).toBe(200);
    expect((await json(asApi)).event.id).toBe(event.id);
    expect((await call(`/events/${event.id}`)).status).toBe(401);
    if (env.ASSETS) {
      const browser = await call(`/events/${event.id}`, { headers: { Accept: "text/html,*/*" } });
      expect(browser.status).toBe(200);
      expect(browser.headers.get("Content-Type")).toMatch(/text\/html/);
      expect(await browser.text()).toMatch(/<html/i);
    }
  });
});
