/**
 * The upgrade from events in D1 (worker/legacy-import.ts, docs/data-plane.md "Upgrading from
 * events in D1"): rows seeded into the tables migration 0011 renamed are moved into the account
 * objects and shards in bounded runs, each exactly once, without notifications, keeping their seq;
 * a run cut short between the import and the delete changes nothing in the end; the tables go.
 * Own storage (vitest.config.ts): the step drops tables every other file would see.
 */
import { createExecutionContext, createScheduledController, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eventShardObject } from "../../../worker/events/objects";
import { importLegacyEvents } from "../../../worker/legacy-import";
import { DAY_MS, HOUR_MS } from "../../../worker/lib/time";
import { runScheduled, SWEEP_CRON } from "../../../worker/scheduled";
import { api, call, json } from "../helpers";
import {
  accountObject,
  createNode,
  hit,
  incident,
  integration,
  postEvents,
  queued,
  rollups,
  scopeChange,
  securityIssue,
  storedEvents,
  tenant,
} from "../ingest/support";
import {
  at,
  captureLegacyDdl,
  importUntilDone,
  LEGACY_TABLES,
  legacyCount,
  legacyEvent,
  legacyIssue,
  legacyTablesLeft,
  noon,
  restoreLegacyTables,
  seedFixedCorpus,
  systemEvent,
} from "./legacy-support";

beforeAll(async () => {
  await captureLegacyDdl();
  expect(await legacyTablesLeft()).toEqual(LEGACY_TABLES);
});

beforeEach(restoreLegacyTables);

const lastSeq = (accountId: string) => runInDurableObject(accountObject(accountId), async (o) => o.store.lastSeq());

/** One event through the account's link (`/events/<id>`): where a notification link leads. */
async function findById(accountId: string, id: string) {
  const linked = await accountObject(accountId).findLinked(id);
  return linked ? eventShardObject(env, linked.shard).get({ id, occurredAt: linked.occurredAt }) : null;
}

const totals = async (accountId: string) =>
  (await rollups(accountId))
    .filter((r) => r.dimension === "total")
    .map((r) => `${r.hour}|${r.eventType}|${r.count}`)
    .sort();

async function health() {
  return json<{
    legacy_import: { in_progress: boolean; security_issues_remaining: number; events_remaining_at_most: number };
  }>(await call("/api/health"));
}

describe("the import of events left in D1", () => {
  it("drops the empty legacy tables at the first minute cron of a fresh install", async () => {
    expect((await health()).legacy_import.in_progress).toBe(true);
    await runScheduled(createScheduledController({ cron: SWEEP_CRON }), env, createExecutionContext());
    expect(await legacyTablesLeft()).toEqual([]);
    expect((await health()).legacy_import).toEqual({
      in_progress: false,
      security_issues_remaining: 0,
      events_remaining_at_most: 0,
    });
  });

  it("moves two accounts' events and issues in bounded runs, each exactly once, keeping seqs, notifying no one", async () => {
    const acme = await tenant("Acme Legacy");
    const globex = await tenant("Globex Legacy");
    // The rows are in D1 before anything touches the account objects, as on the day of the upgrade.
    const node = { id: `node-${acme.accountId}` };

    const sqli = securityIssue({ occurred_at: at(noon(3)), risk: "high", title: "SQLi in login" });
    const xss = securityIssue({
      occurred_at: at(noon(2)),
      vuln_type: "xss",
      path: "/search",
      parameter: "q",
      title: "XSS in search",
    });
    const acmeEvents: { event: Record<string, unknown>; findable?: boolean; node?: string | null }[] = [
      { event: hit({ occurred_at: at(noon(3, 1)) }) },
      { event: hit({ occurred_at: at(noon(3, 2)), attack_type: "xss" }), findable: false },
      { event: sqli },
      { event: xss },
      { event: incident({ occurred_at: at(noon(2, 5)) }) },
      { event: scopeChange({ occurred_at: at(noon(1, 7)) }) },
      { event: hit({ occurred_at: at(noon(1, 9)), host: "api.example.com" }) },
      { event: hit({ occurred_at: at(Date.now() - 3 * HOUR_MS) }) },
      { event: systemEvent(noon(1, 3)), node: null },
    ];
    const shared = hit({ occurred_at: at(noon(2, 11)) });
    const expired = hit({ occurred_at: at(Date.now() - 95 * DAY_MS) });
    const seqs = new Map<string, number>();
    await legacyEvent(acme.accountId, expired, { nodeId: node.id });
    for (const { event, findable, node: nodeId } of acmeEvents) {
      seqs.set(
        String(event.id),
        await legacyEvent(acme.accountId, event, { nodeId: nodeId === undefined ? node.id : nodeId, findable }),
      );
    }
    // The same event id in both accounts: each keeps its own.
    seqs.set(`acme:${shared.id}`, await legacyEvent(acme.accountId, shared, { nodeId: node.id }));
    const globexEvents = [hit({ occurred_at: at(noon(2, 20)) }), hit({ occurred_at: at(noon(1, 20)) }), shared];
    for (const event of globexEvents)
      await legacyEvent(globex.accountId, event, { nodeId: `node-${globex.accountId}` });
    const closedAt = noon(2, 30);
    await legacyIssue(acme.accountId, sqli, { firstSeen: noon(5), lastSeen: noon(3) });
    await legacyIssue(acme.accountId, xss, {
      firstSeen: noon(2),
      lastSeen: noon(2),
      closedAt,
      closedBy: "admin@acme.test",
    });
    await legacyIssue(globex.accountId, securityIssue({ occurred_at: at(noon(4)) }), {
      firstSeen: noon(4),
      lastSeen: noon(4),
    });
    const maxLegacySeq = Math.max(...seqs.values());

    const sender = await createNode(acme.admin);
    // Subscribed to everything: an import that notified would show here.
    const hook = await integration(acme.accountId, {
      hit: true,
      incident: true,
      scope_change: true,
      system: true,
      security_issue: ["critical", "high", "medium", "low", "info"],
    });

    // A node re-sent one of them after the upgrade, before the import got there: stored once, counted once.
    // Its seq continues past D1's: no seq of an event still waiting in D1 is handed out twice.
    const resent = acmeEvents[6]?.event as Record<string, unknown>;
    expect((await postEvents(sender.token, { events: [resent] })).status).toBe(202);
    const resentSeq = (await storedEvents(acme.accountId)).find((e) => e.id === resent.id)?.seq;
    expect(resentSeq).toBeGreaterThan(maxLegacySeq);

    const before = await health();
    expect(before.legacy_import.in_progress).toBe(true);
    expect(before.legacy_import.security_issues_remaining).toBe(3);
    expect(before.legacy_import.events_remaining_at_most).toBe(14);

    const runs = await importUntilDone(4);
    expect(runs.length).toBeGreaterThan(3);
    // Issues first (all of them fit the first run), then events in seq order: the expired one first.
    expect(runs[0]).toMatchObject({ issues: 3, events: 0, expired: 1 });
    for (const run of runs) expect(run.issues + run.events + run.expired).toBeLessThanOrEqual(4);
    expect(runs.reduce((n, r) => n + r.issues, 0)).toBe(3);
    expect(runs.reduce((n, r) => n + r.events, 0)).toBe(13);
    expect(runs.reduce((n, r) => n + r.expired, 0)).toBe(1);
    expect(runs.every((r) => r.failedAccounts === 0)).toBe(true);
    expect(await legacyTablesLeft()).toEqual([]);
    expect((await health()).legacy_import.in_progress).toBe(false);

    // Every event once, with its D1 seq (the re-sent one keeps the seq ingest gave it), processed.
    // (Herald's own system events of the nodes and the integration created above are there too.)
    const expectedIds = [...acmeEvents.map((e) => String(e.event.id)), String(shared.id)].sort();
    const stored = (await storedEvents(acme.accountId)).filter((e) => expectedIds.includes(e.id));
    expect(stored.map((e) => e.id).sort()).toEqual(expectedIds);
    for (const event of stored) {
      expect(event.processed).toBe(true);
      if (event.id !== resent.id) expect(event.seq).toBe(seqs.get(event.id) ?? seqs.get(`acme:${event.id}`));
    }
    const system = stored.find((e) => e.type === "system");
    expect(system).toMatchObject({ systemType: "user_created", nodeId: null });
    expect(stored.find((e) => e.id === expired.id)).toBeUndefined();
    const globexStored = (await storedEvents(globex.accountId)).filter((e) => e.type !== "system");
    expect(globexStored.map((e) => e.id).sort()).toEqual(globexEvents.map((e) => String(e.id)).sort());
    expect(await lastSeq(acme.accountId)).toBeGreaterThanOrEqual(maxLegacySeq);

    // Nobody was notified of what they had been notified of (or not) in D1.
    expect((await queued(hook)).size).toBe(0);

    // Findable by id where D1 found them by id; the hit no integration wanted only by its time.
    expect((await findById(acme.accountId, String(sqli.id)))?.type).toBe("security_issue");
    expect((await findById(acme.accountId, String(system?.id)))?.type).toBe("system");
    expect(await findById(acme.accountId, String(acmeEvents[1]?.event.id))).toBeNull();

    // Rollups: each event counted once in its hour (the re-sent one too), system events not at all.
    const hourOf = (e: Record<string, unknown>) =>
      Date.parse(String(e.occurred_at)) - (Date.parse(String(e.occurred_at)) % HOUR_MS);
    const expectedTotals = new Map<string, number>();
    for (const { event } of [...acmeEvents, { event: shared }]) {
      if (event.type === "system") continue;
      const key = `${hourOf(event)}|${event.type}`;
      expectedTotals.set(key, (expectedTotals.get(key) ?? 0) + 1);
    }
    expect(await totals(acme.accountId)).toEqual([...expectedTotals].map(([k, n]) => `${k}|${n}`).sort());
    const attackTypes = (await rollups(acme.accountId)).filter((r) => r.dimension === "attack_type");
    expect(attackTypes.reduce((n, r) => n + r.count, 0)).toBe(6);

    // Security issues through the API: status, closing and first/last seen exactly as in D1.
    const issues = (await json(await api(acme.admin, "GET", "/api/security-issues?status=all"))).issues;
    expect(issues).toEqual([
      expect.objectContaining({
        id: xss.id,
        status: "closed",
        first_seen: at(noon(2)),
        last_seen: at(noon(2)),
        closed_at: at(closedAt),
        closed_by: "admin@acme.test",
      }),
      expect.objectContaining({
        id: sqli.id,
        status: "open",
        risk: "high",
        first_seen: at(noon(5)),
        last_seen: at(noon(3)),
        closed_at: null,
      }),
    ]);
    const [xssRow] = (await accountObject(acme.accountId).securityIssues({ status: "closed", limit: 10 })) ?? [];
    expect(xssRow).toMatchObject({ method: xss.method, parameter: "q", discovered_by: xss.discovered_by });
    const globexIssues = (await json(await api(globex.admin, "GET", "/api/security-issues?status=all"))).issues;
    expect(globexIssues).toHaveLength(1);

    // Ingest after the import continues past the imported seqs.
    expect((await postEvents(sender.token, { events: [hit()] })).status).toBe(202);
    const newest = (await storedEvents(acme.accountId)).reduce((a, b) => (a.seq > b.seq ? a : b));
    expect(newest.seq).toBeGreaterThan(maxLegacySeq);
  });

  it("ends the same when a run is cut short between the import and the delete", async () => {
    const uninterrupted = await tenant("Straight");
    const uninterruptedIds = await seedFixedCorpus(uninterrupted.accountId);
    await importUntilDone(2);
    await restoreLegacyTables();

    const interrupted = await tenant("Interrupted");
    const ids = await seedFixedCorpus(interrupted.accountId);
    const crash = (table: string) => async (at: string) => {
      if (at === table) throw new Error(`crash before deleting from ${table}`);
    };
    // The issues reached the account object, then the run died: they are still in D1.
    await expect(
      importLegacyEvents(env, { batch: 3, beforeDelete: crash("legacy_security_issues") }),
    ).rejects.toThrow();
    expect(await legacyCount("legacy_security_issues")).toBe(1);
    // Then the same for a batch of events.
    await importLegacyEvents(env, { batch: 1 });
    await expect(importLegacyEvents(env, { batch: 3, beforeDelete: crash("legacy_events") })).rejects.toThrow();
    expect(await legacyCount("legacy_events")).toBe(ids.length);
    expect((await storedEvents(interrupted.accountId)).filter((e) => ids.includes(e.id))).toHaveLength(3);

    await importUntilDone(3);
    expect(await legacyTablesLeft()).toEqual([]);
    expect(await endState(interrupted, ids)).toEqual(await endState(uninterrupted, uninterruptedIds));
  });

  it("does not take an issue twice: a reopen between the crash and the next run holds", async () => {
    const acme = await tenant("Reopened");
    const report = securityIssue({ occurred_at: at(noon(2)) });
    await legacyIssue(acme.accountId, report, {
      firstSeen: noon(2),
      lastSeen: noon(2),
      closedAt: noon(1),
      closedBy: "a@b.test",
    });
    await expect(
      importLegacyEvents(env, {
        beforeDelete: () => {
          throw new Error("crash before the delete");
        },
      }),
    ).rejects.toThrow();
    const reopened = await api(acme.admin, "PATCH", `/api/security-issues/${report.id}`, { status: "open" });
    expect(reopened.status).toBe(200);
    await importUntilDone(10);
    const issues = (await json(await api(acme.admin, "GET", "/api/security-issues?status=all"))).issues;
    expect(issues).toEqual([expect.objectContaining({ id: report.id, status: "open", closed_at: null })]);
  });

  it("reads at most so many bytes of event data per run, and at least one event", async () => {
    const acme = await tenant("Bulky");
    const big = (n: number) => hit({ occurred_at: at(noon(1, n)), payload: "x".repeat(3000) });
    const events = [big(1), big(2), big(3), big(4)];
    for (const event of events) await legacyEvent(acme.accountId, event, { nodeId: "node-bulky" });
    // 4,000 bytes: the first event, and the second that crosses the limit.
    expect(await importLegacyEvents(env, { readBytes: 4000 })).toMatchObject({ events: 2 });
    expect(await importLegacyEvents(env, { readBytes: 1 })).toMatchObject({ events: 1 });
    expect(await importLegacyEvents(env, { readBytes: 1 })).toMatchObject({ events: 1, done: true });
    const stored = (await storedEvents(acme.accountId)).filter((e) => e.type === "hit");
    expect(stored.map((e) => e.id).sort()).toEqual(events.map((e) => String(e.id)).sort());
  });

  it("merges an issue a node reported again after the upgrade, before the import reached it", async () => {
    const acme = await tenant("Merged");
    const firstReport = securityIssue({ occurred_at: at(noon(4)), risk: "medium", title: "Old title" });
    await legacyIssue(acme.accountId, firstReport, {
      firstSeen: noon(4),
      lastSeen: noon(3),
      closedAt: noon(2),
      closedBy: "admin@merged.test",
    });
    const node = await createNode(acme.admin);
    // Seen again after it was closed: open again, with the new report's risk and title.
    const again = securityIssue({ occurred_at: at(Date.now() - 2 * HOUR_MS), risk: "critical", title: "New title" });
    expect((await postEvents(node.token, { events: [again] })).status).toBe(202);

    await importUntilDone(10);
    const issues = (await json(await api(acme.admin, "GET", "/api/security-issues?status=all"))).issues;
    expect(issues).toEqual([
      expect.objectContaining({
        id: firstReport.id,
        last_event_id: again.id,
        status: "open",
        risk: "critical",
        title: "New title",
        first_seen: at(noon(4)),
        last_seen: again.occurred_at,
        closed_at: null,
      }),
    ]);
  });

  it("starts a new account object's seqs past its integrations' D1 markers once the tables are gone", async () => {
    expect((await importUntilDone(10)).at(-1)?.done).toBe(true);
    const acme = await tenant("Late starter");
    // Disabled in D1 after seq 500 of the old numbering; the account object does not exist yet.
    await env.DB.prepare(
      `INSERT INTO integrations (id, account_id, type, name, status, disabled_after_seq, settings, events, created_at, updated_at)
       VALUES (?1, ?2, 'webhook', 'old hook', 'disabled', 500, '{}', '{"hit":true}', ?3, ?3)`,
    )
      .bind(crypto.randomUUID(), acme.accountId, Date.now())
      .run();
    const node = await createNode(acme.admin);
    const event = hit();
    expect((await postEvents(node.token, { events: [event] })).status).toBe(202);
    const stored = (await storedEvents(acme.accountId)).find((e) => e.id === event.id);
    expect(stored?.seq).toBeGreaterThan(500);
  });

  it("keeps a disabled integration's seq marker meaningful: the replay after the import queues exactly what it missed", async () => {
    const acme = await tenant("Marker");
    const nodeId = `node-${acme.accountId}`;
    const beforeDisable = [hit({ occurred_at: at(noon(2, 1)) }), hit({ occurred_at: at(noon(2, 2)) })];
    const afterDisable = [
      hit({ occurred_at: at(noon(1, 1)) }),
      incident({ occurred_at: at(noon(1, 2)) }),
      hit({ occurred_at: at(noon(1, 3)) }),
    ];
    let marker = 0;
    for (const event of beforeDisable) marker = await legacyEvent(acme.accountId, event, { nodeId });
    for (const event of afterDisable) await legacyEvent(acme.accountId, event, { nodeId });
    // Disabled in D1 days ago, after the first two events: D1 recorded their seq as its marker.
    const hook = await integration(acme.accountId, { hit: true }, "disabled");
    await env.DB.prepare("UPDATE integrations SET disabled_after_seq = ?1 WHERE id = ?2").bind(marker, hook).run();

    await importUntilDone(2);
    const node = await createNode(acme.admin);
    const afterImport = hit();
    expect((await postEvents(node.token, { events: [afterImport] })).status).toBe(202);

    const until = await lastSeq(acme.accountId);
    const outcome = await accountObject(acme.accountId).replay(hook, marker, until);
    const replayed = [...(await queued(hook)).values()].map((item) => item.eventId).sort();
    const missedHits = [afterDisable[0], afterDisable[2], afterImport].map((e) => String(e?.id)).sort();
    expect(replayed).toEqual(missedHits);
    expect(outcome).toEqual({ replayed: 3, truncated: false });
  });
});

/** What readers see of the account's imported rows; seqs as their order (D1 gave each corpus its own). */
async function endState(account: { accountId: string; admin: Parameters<typeof api>[0] }, ids: string[]) {
  const events = (await storedEvents(account.accountId))
    .filter((e) => ids.includes(e.id))
    .sort((a, b) => a.seq - b.seq)
    .map(({ seq: _seq, ...event }) => event);
  const counts = (await rollups(account.accountId)).map(
    (r) => `${r.hour}|${r.eventType}|${r.dimension}|${r.key}|${r.count}`,
  );
  const issues = (await json(await api(account.admin, "GET", "/api/security-issues?status=all"))).issues;
  const linked = await Promise.all(ids.map(async (id) => (await findById(account.accountId, id))?.occurredAt ?? null));
  return { events, counts: counts.sort(), issues, linked };
}
