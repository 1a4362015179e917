import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { integrations, nodes } from "../../../worker/db/schema";
import { eventShardObject } from "../../../worker/events/objects";
import { periodOf, shardName } from "../../../worker/events/shard-names";
import { announceControlChange } from "../../../worker/ingest/control-change";
import { enqueueItems, OutboxUnavailableError } from "../../../worker/outbox/enqueue";
import { item } from "../delivery/fixtures";
import { db } from "../helpers";
import {
  createNode,
  hit,
  incident,
  integration,
  json,
  OUTBOX_TABLE,
  postEvents,
  queued,
  rollups,
  scopeChange,
  securityIssue,
  storedEvents,
  storedIds,
  stub,
  tenant,
} from "./support";

/** Breaks (or repairs) the DO's outbox so that enqueue fails the way a storage fault would. */
async function breakOutbox(integrationId: string, broken: boolean) {
  const [from, to] = broken ? [OUTBOX_TABLE, `${OUTBOX_TABLE}_broken`] : [`${OUTBOX_TABLE}_broken`, OUTBOX_TABLE];
  await runInDurableObject(stub(integrationId), async (_instance, state) => {
    state.storage.sql.exec(`ALTER TABLE ${from} RENAME TO ${to}`);
  });
}

async function ensureOutbox(integrationId: string) {
  // Any RPC builds the DO's tables; enqueue of nothing does not send anything.
  await stub(integrationId).enqueue(integrationId, []);
}

/** Whether each event is marked processed in its shard (its notifications were queued). */
async function processed(accountId: string, ids: string[]) {
  const rows = await storedEvents(accountId);
  return ids.map((id) => rows.find((r) => r.id === id)?.processed);
}

const nodeEventIds = storedIds;

describe("fan-out to integrations", () => {
  it("queues each event in exactly the enabled integrations that subscribe to it", async () => {
    const acme = await tenant();
    const globex = await tenant("Globex");
    const node = await createNode(acme.admin);
    const hitsOnly = await integration(acme.accountId, { hit: true });
    const severe = await integration(acme.accountId, { security_issue: ["critical", "high"], incident: true });
    const perimeter = await integration(acme.accountId, { scope_change: true, system: true });
    const disabled = await integration(
      acme.accountId,
      { hit: true, incident: true, scope_change: true, security_issue: ["high", "low"] },
      "disabled",
    );
    const otherTenant = await integration(globex.accountId, {
      hit: true,
      incident: true,
      scope_change: true,
      security_issue: ["critical", "high", "medium", "low", "info"],
    });

    const hits = [hit(), hit({ attack_type: "xss" })];
    const high = securityIssue({ risk: "high" });
    const low = securityIssue({ risk: "low", path: "/other" });
    const inc = incident();
    const scope = scopeChange();
    const res = await postEvents(node.token, { events: [...hits, high, low, inc, scope] });
    expect(res.status).toBe(202);

    const ids = (...list: Record<string, unknown>[]) => list.map((e) => String(e.id)).sort();
    expect([...(await queued(hitsOnly)).keys()].sort()).toEqual(ids(...hits));
    expect([...(await queued(severe)).keys()].sort()).toEqual(ids(high, inc));
    expect([...(await queued(perimeter)).keys()].sort()).toEqual(ids(scope));
    expect((await queued(disabled)).size).toBe(0);
    expect((await queued(otherTenant)).size).toBe(0);

    // The queued item is the canonical notification, linking back to the event.
    const item = (await queued(severe)).get(String(high.id));
    expect(item?.eventId).toBe(high.id);
    expect(item?.notification).toMatchObject({
      id: high.id,
      summary: "[Herald] New security issue detected",
      details: {
        client_name: "Acme",
        notification_type: "security_issue",
        link: `${env.PUBLIC_URL}/events/${high.id}?occurred_at=${encodeURIComponent(new Date(String(high.occurred_at)).toISOString())}`,
        security_issue: { id: high.id, risk: "high", title: high.title, path: "/api/login" },
      },
    });
    expect((await queued(hitsOnly)).get(String(hits[0]?.id))?.notification.details.notification_type).toBe("new_hits");
  });

  it("a replayed batch notifies nothing twice", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const hook = await integration(acme.accountId, { hit: true });
    const batch = [hit(), hit()];
    await postEvents(node.token, { events: batch });
    const ids = batch.map((e) => String(e.id));
    // Queued, not yet marked: the mark rides along with the next insert into the shard.
    expect(await processed(acme.accountId, ids)).toEqual([false, false]);
    // If the replay queued again, a broken outbox would make it fail: it must not even try.
    await breakOutbox(hook, true);
    const replay = await postEvents(node.token, { events: batch });
    await breakOutbox(hook, false);
    expect(replay.status).toBe(202);
    expect(await json(replay)).toEqual({ accepted: 0, duplicates: 2 });
    expect((await queued(hook)).size).toBe(2);
    expect(await processed(acme.accountId, ids)).toEqual([true, true]);
  });

  it("answers 503 when queueing fails; the re-sent batch is stored once and notified then", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const healthy = await integration(acme.accountId, { hit: true });
    const failing = await integration(acme.accountId, { hit: true, scope_change: true });
    await ensureOutbox(failing);
    await breakOutbox(failing, true);

    const batch = [hit(), scopeChange()];
    const res = await postEvents(node.token, { events: batch });
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBeTruthy();
    expect((await json(res)).error.message).toMatch(/re-send/i);
    // Stored in the shard but not marked processed, so the re-send fans out again.
    expect((await nodeEventIds(acme.accountId)).sort()).toEqual(batch.map((e) => String(e.id)).sort());
    expect((await queued(failing).catch(() => new Map())).size).toBe(0);

    await breakOutbox(failing, false);
    const resend = await postEvents(node.token, { events: batch });
    expect(resend.status).toBe(202);
    expect(await json(resend)).toEqual({ accepted: 0, duplicates: 2 });
    expect([...(await queued(failing)).keys()].sort()).toEqual(batch.map((e) => String(e.id)).sort());
    expect([...(await queued(healthy)).keys()]).toEqual([batch[0]?.id]);
    expect(await nodeEventIds(acme.accountId)).toHaveLength(2);
  });

  it("the object answers a storage failure instead of throwing it across RPC; nothing is stored", async () => {
    const acme = await tenant();
    const failing = await integration(acme.accountId, { hit: true });
    await ensureOutbox(failing);
    await breakOutbox(failing, true);
    const queuedItem = item("storage fault");
    const answer = await stub(failing).enqueue(failing, [queuedItem]);
    expect(answer).toEqual({ stored: false, error: expect.stringMatching(/no such table/) });
    // The outbox home turns the answer into the error its callers map (ingest: 503).
    await expect(enqueueItems(env, failing, [queuedItem])).rejects.toBeInstanceOf(OutboxUnavailableError);
    await breakOutbox(failing, false);
    expect((await queued(failing)).size).toBe(0);
    expect(await stub(failing).enqueue(failing, [queuedItem])).toEqual({ stored: true });
    expect([...(await queued(failing)).keys()]).toEqual([queuedItem.notification.id]);
  });

  it("a shard that fails the insert answers 503; nothing of the batch is stored; the re-send is", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const hook = await integration(acme.accountId, { hit: true, security_issue: ["high"] });
    const batch = [hit(), hit(), securityIssue()];
    // A new account's period has one shard (fanout 1): break its events table.
    const shard = eventShardObject(
      env,
      shardName(acme.accountId, periodOf(Date.parse(String(batch[0]?.occurred_at)), 24).start, 0),
    );
    const rename = (from: string, to: string) =>
      runInDurableObject(shard, async (_instance, state) => {
        state.storage.sql.exec(`ALTER TABLE ${from} RENAME TO ${to}`);
      });
    await shard.stats();
    await rename("events", "events_broken");
    const res = await postEvents(node.token, { events: batch });
    await rename("events_broken", "events");

    expect(res.status).toBe(503);
    expect((await json(res)).error.message).toMatch(/nothing was stored/i);
    expect(await nodeEventIds(acme.accountId)).toEqual([]);
    expect(await rollups(acme.accountId)).toEqual([]);
    expect((await db().query.nodes.findFirst({ where: eq(nodes.id, node.id) }))?.eventsCount).toBe(0);
    expect((await queued(hook)).size).toBe(0);

    const resend = await postEvents(node.token, { events: batch });
    expect(await json(resend)).toEqual({ accepted: 3, duplicates: 0 });
    expect((await queued(hook)).size).toBe(3);
  });

  it("raises node_created and node_revoked system events to integrations subscribed to system", async () => {
    const acme = await tenant();
    const systemHook = await integration(acme.accountId, { system: true });
    const hitsHook = await integration(acme.accountId, { hit: true });
    const node = await createNode(acme.admin, "edge-7");
    const { api } = await import("../helpers");
    await api(acme.admin, "DELETE", `/api/nodes/${node.id}`);
    const types = [...(await queued(systemHook)).values()].map((item) => item.notification.details.notification_type);
    expect(types.sort()).toEqual(["node_created", "node_revoked"]);
    expect((await queued(hitsHook)).size).toBe(0);
  });
});

describe("fan-out follows integration changes at the next request", () => {
  // The account object keeps its targets between requests (worker/ingest/control-snapshot.ts); each
  // of these posts once first so that the copy exists, then changes the integrations and announces
  // it as the routes do (worker/ingest/control-change.ts).
  it("an integration created after the node's last request receives the very next events", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    expect((await postEvents(node.token, { events: [hit()] })).status).toBe(202);
    const hook = await integration(acme.accountId, { hit: true });
    const next = hit();
    const res = await postEvents(node.token, { events: [next] });
    expect(await json(res)).toEqual({ accepted: 1, duplicates: 0 });
    expect([...(await queued(hook)).keys()]).toEqual([next.id]);
  });

  it("an integration unsubscribed or disabled after the last request receives nothing more", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const unsubscribed = await integration(acme.accountId, { hit: true, scope_change: true });
    const disabled = await integration(acme.accountId, { hit: true });
    const first = hit();
    expect((await postEvents(node.token, { events: [first] })).status).toBe(202);

    await db()
      .update(integrations)
      .set({ events: { scope_change: true } })
      .where(eq(integrations.id, unsubscribed));
    await db().update(integrations).set({ status: "disabled" }).where(eq(integrations.id, disabled));
    await announceControlChange(env, acme.accountId);
    const [second, scope] = [hit(), scopeChange()];
    const res = await postEvents(node.token, { events: [second, scope] });
    expect(await json(res)).toEqual({ accepted: 2, duplicates: 0 });

    expect([...(await queued(unsubscribed)).keys()].sort()).toEqual([first.id, scope.id].sort());
    expect([...(await queued(disabled)).keys()]).toEqual([first.id]);
    expect((await nodeEventIds(acme.accountId)).sort()).toEqual([first.id, second.id, scope.id].map(String).sort());
  });
});
