import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { accountIngestObject } from "../../../worker/ingest/account-object";
import { createIntegration } from "../delivery/fixtures";
import { api, json, type Session } from "../helpers";
import { bucketName, hubRequests, hubUrl, waitForRequests } from "../hub";
import {
  createNode,
  hit,
  integration,
  OUTBOX_TABLE,
  postEvents,
  queued,
  securityIssue,
  storedIds,
  stub,
  tenant,
} from "../ingest/support";

/**
 * Triggers and silences on the real ingest path (docs/triggers.md#evaluation): events posted to
 * POST /v1/events, the account object's evaluator, the integrations' outboxes and the receivers.
 */

const MINUTE = 60_000;

async function createTrigger(admin: Session, body: Record<string, unknown>) {
  const res = await api(admin, "POST", "/api/triggers", {
    name: "Test trigger",
    condition: { kind: "each_event" },
    ...body,
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await json(res)).trigger as { id: string; integration_ids: string[] };
}

async function post(token: string, events: Record<string, unknown>[]) {
  const res = await postEvents(token, { events });
  expect(res.status).toBe(202);
}

/** The notification types an integration's outbox holds, by the event or notice they came from. */
async function outboxTypes(integrationId: string) {
  return [...(await queued(integrationId)).values()].map((item) => ({
    type: item.notification.details.notification_type as string,
    eventId: item.eventId,
    details: item.notification.details,
  }));
}

const accountObject = (accountId: string) => accountIngestObject(env, accountId);

/** Breaks (or repairs) an integration's outbox the way a storage fault would. */
async function renameOutbox(integrationId: string, from: string, to: string) {
  await runInDurableObject(stub(integrationId), (_instance, state) => {
    state.storage.sql.exec(`ALTER TABLE ${from} RENAME TO ${to}`);
  });
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A live silence of 198.51.100.0/24, from an hour ago to an hour from now. */
function createPentestSilence(admin: Parameters<typeof api>[0]) {
  return api(admin, "POST", "/api/silences", {
    name: "Pentest",
    filters: { source_ips: ["198.51.100.0/24"] },
    starts_at: new Date(Date.now() - 60 * MINUTE).toISOString(),
    ends_at: new Date(Date.now() + 60 * MINUTE).toISOString(),
  });
}

describe("triggers on the ingest path", () => {
  it("a threshold fires once when N events arrive within the window; the notice reaches the receiver", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const bucket = bucketName("threshold");
    // Subscribed to nothing: only the trigger sends to it.
    const receiver = await createIntegration(acme.accountId, { settings: { url: hubUrl(bucket) }, events: {} });
    await createTrigger(acme.admin, {
      name: "SQLi burst",
      condition: { kind: "threshold", count: 3, window_minutes: 5 },
      filters: { attack_types: ["sqli"] },
      integration_ids: [receiver],
    });

    await post(node.token, [hit(), hit(), hit({ attack_type: "xss" })]);
    expect(await outboxTypes(receiver)).toEqual([]);
    await post(node.token, [hit()]);
    const [request] = await waitForRequests(bucket, 1);
    const [notice] = JSON.parse(request!.body);
    expect(notice.details).toMatchObject({
      notification_type: "trigger_threshold",
      trigger: { name: "SQLi burst" },
      threshold: { count: 3, threshold: 3, window_seconds: 300, top_attack_types: [{ key: "sqli", count: 3 }] },
    });
    // The throttle defaults to the window: more hits within it make no second notice.
    await post(node.token, [hit(), hit(), hit()]);
    expect((await outboxTypes(receiver)).map((o) => o.type)).toEqual(["trigger_threshold"]);
  });

  it("group-by counts and fires per group; the throttle holds a group's second crossing", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const receiver = await integration(acme.accountId, {});
    await createTrigger(acme.admin, {
      condition: { kind: "threshold", count: 2, window_minutes: 10 },
      group_by: ["host"],
      throttle_minutes: 30,
      integration_ids: [receiver],
    });
    await post(node.token, [hit({ host: "a.example.com" }), hit({ host: "b.example.com" })]);
    expect(await outboxTypes(receiver)).toEqual([]);
    await post(node.token, [hit({ host: "a.example.com" })]);
    await post(node.token, [hit({ host: "b.example.com" })]);
    // Throttled: the counts restarted at the crossing and cross again, but within 30 minutes.
    await post(node.token, [hit({ host: "a.example.com" }), hit({ host: "a.example.com" })]);
    const notices = (await outboxTypes(receiver)).filter((o) => o.type === "trigger_threshold");
    expect(notices.map((n) => n.details.threshold.group).sort((x, y) => (x.host < y.host ? -1 : 1))).toEqual([
      { host: "a.example.com" },
      { host: "b.example.com" },
    ]);
  });

  it("an event that both a subscription and an each_event trigger send reaches the integration once", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const receiver = await integration(acme.accountId, { hit: true });
    await createTrigger(acme.admin, { filters: { attack_types: ["sqli"] }, integration_ids: [receiver] });
    const sqli = hit();
    const xss = hit({ attack_type: "xss" });
    await post(node.token, [sqli, xss]);
    const outbox = await outboxTypes(receiver);
    expect(outbox.map((o) => [o.eventId, o.type]).sort()).toEqual(
      [
        [sqli.id, "trigger_event"],
        [xss.id, "new_hits"],
      ].sort(),
    );
  });

  it("a silence mutes subscription and trigger notifications, stores the events and counts them", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const receiver = await integration(acme.accountId, { hit: true });
    await createTrigger(acme.admin, { integration_ids: [receiver] });
    const res = await createPentestSilence(acme.admin);
    expect(res.status).toBe(201);
    const { silence } = await json(res);
    const pentest = [hit({ remote_addr: "198.51.100.7" }), hit({ remote_addr: "198.51.100.8" })];
    const real = hit({ remote_addr: "203.0.113.9" });
    await post(node.token, [...pentest, real]);

    expect((await outboxTypes(receiver)).map((o) => o.eventId)).toEqual([real.id]);
    expect(await storedIds(acme.accountId)).toEqual([...pentest, real].map((e) => String(e.id)).sort());
    // The object's alarm copies the counts to D1 (at most once a minute), where the API reads them.
    await runDurableObjectAlarm(accountObject(acme.accountId));
    const read = await json(await api(acme.admin, "GET", `/api/silences/${silence.id}`));
    expect(read.silence.silenced_count).toBe(2);
  });

  it("a silence also mutes stored events finished later: a re-send after a 503 and the alarm's sweep", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const receiver = await integration(acme.accountId, { hit: true });
    await stub(receiver).enqueue(receiver, []); // builds the outbox's tables
    await renameOutbox(receiver, OUTBOX_TABLE, `${OUTBOX_TABLE}_broken`);
    const resent = hit({ remote_addr: "198.51.100.7" });
    const swept = hit({ remote_addr: "198.51.100.8" });
    // Stored, not queued: the node is told to re-send.
    expect((await postEvents(node.token, { events: [resent] })).status).toBe(503);
    expect((await postEvents(node.token, { events: [swept] })).status).toBe(503);
    await renameOutbox(receiver, `${OUTBOX_TABLE}_broken`, OUTBOX_TABLE);
    // A silence over the time both occurred, made before they are finished.
    const res = await createPentestSilence(acme.admin);
    expect(res.status).toBe(201);

    await post(node.token, [resent]);
    const account = accountObject(acme.accountId);
    await runInDurableObject(account, (instance) => {
      instance.clock = () => Date.now() + 2 * MINUTE;
    });
    await runDurableObjectAlarm(account);
    expect(await outboxTypes(receiver)).toEqual([]);
    expect(await storedIds(acme.accountId)).toEqual([resent, swept].map((e) => String(e.id)).sort());
  });

  it("a trigger skips a disabled integration; deleting an integration takes it out of the trigger", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const live = await integration(acme.accountId, {});
    const paused = await integration(acme.accountId, {}, "disabled");
    const trigger = await createTrigger(acme.admin, { integration_ids: [live, paused] });
    const event = hit();
    await post(node.token, [event]);
    expect((await outboxTypes(live)).map((o) => o.eventId)).toEqual([event.id]);
    expect(await outboxTypes(paused)).toEqual([]);

    expect((await api(acme.admin, "DELETE", `/api/integrations/${live}`)).status).toBe(204);
    const read = await json(await api(acme.admin, "GET", `/api/triggers/${trigger.id}`));
    expect(read.trigger.integration_ids).toEqual([paused]);
  });

  it("a trigger notice whose enqueue failed is queued again by the account object's alarm", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const receiver = await integration(acme.accountId, {});
    await createTrigger(acme.admin, { integration_ids: [receiver] });
    await stub(receiver).enqueue(receiver, []); // builds the outbox's tables
    await renameOutbox(receiver, OUTBOX_TABLE, `${OUTBOX_TABLE}_broken`);
    const event = hit();
    // Only a trigger wants it: the node's request is answered (a re-send would not fire again).
    await post(node.token, [event]);
    await renameOutbox(receiver, `${OUTBOX_TABLE}_broken`, OUTBOX_TABLE);
    expect(await outboxTypes(receiver)).toEqual([]);
    await runDurableObjectAlarm(accountObject(acme.accountId));
    expect((await outboxTypes(receiver)).map((o) => [o.eventId, o.type])).toEqual([[event.id, "trigger_event"]]);
  });

  it("a system-event trigger notifies on the account's system events", async () => {
    const acme = await tenant();
    const receiver = await integration(acme.accountId, {});
    await createTrigger(acme.admin, {
      condition: { kind: "system_event", system_types: ["node_created"] },
      integration_ids: [receiver],
    });
    await createNode(acme.admin, "waf-new");
    const outbox = await until(
      () => outboxTypes(receiver),
      (o) => o.length > 0,
    );
    expect(outbox.map((o) => [o.type, o.details.event_notification_type])).toEqual([["trigger_event", "node_created"]]);
  });
});

describe("node silence through the account object's alarm", () => {
  it("the alarm is set for the deadline, sends node_silent once, and the next post sends node_recovered", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const receiver = await integration(acme.accountId, {});
    await createTrigger(acme.admin, {
      condition: { kind: "node_silence", node_id: node.id, silence_minutes: 5 },
      integration_ids: [receiver],
    });
    const object = accountObject(acme.accountId);
    const postedAt = Date.now();
    await post(node.token, [hit()]);
    const alarm = await runInDurableObject(object, (_instance, state) => state.storage.getAlarm());
    // Never later than the deadline: the notice comes within the alarm's run of it.
    expect(alarm).not.toBeNull();
    expect(alarm as number).toBeLessThanOrEqual(Date.now() + 5 * MINUTE);

    // Six minutes on, the alarm finds the node silent.
    await runInDurableObject(object, (instance) => {
      instance.clock = () => postedAt + 6 * MINUTE;
    });
    await runDurableObjectAlarm(object);
    expect((await outboxTypes(receiver)).map((o) => o.type)).toEqual(["node_silent"]);
    // Once per episode.
    await runInDurableObject(object, (instance) => {
      instance.clock = () => postedAt + 9 * MINUTE;
      return instance.scheduleAlarm();
    });
    await runDurableObjectAlarm(object);
    expect((await outboxTypes(receiver)).map((o) => o.type)).toEqual(["node_silent"]);

    await post(node.token, [hit()]);
    const outbox = await outboxTypes(receiver);
    expect(outbox.map((o) => o.type).sort()).toEqual(["node_recovered", "node_silent"]);
    const [silent, recovered] = ["node_silent", "node_recovered"].map((t) => outbox.find((o) => o.type === t)!);
    expect(recovered!.details.incident_key).toBe(silent!.details.incident_key);
    expect(recovered!.details.incident_action).toBe("resolve");
  });
});

describe("security issues closed and reopened", () => {
  it("closing an issue resolves its PagerDuty incident (same dedup_key); reopening triggers it again", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const routingKey = crypto.randomUUID().replaceAll("-", "");
    await createIntegration(acme.accountId, {
      type: "pagerduty",
      settings: { routing_key: routingKey },
      events: { security_issue: ["high"] },
    });
    const issue = securityIssue({ risk: "high", path: `/checkout-${crypto.randomUUID()}` });
    await post(node.token, [issue]);
    const mine = async () =>
      (await hubRequests("pagerduty")).map((r) => JSON.parse(r.body)).filter((body) => body.routing_key === routingKey);
    const [opened] = await until(mine, (r) => r.length >= 1);
    expect(opened).toMatchObject({ event_action: "trigger" });

    const closed = await api(acme.admin, "PATCH", `/api/security-issues/${issue.id}`, { status: "closed" });
    expect(closed.status).toBe(200);
    const afterClose = await until(mine, (r) => r.length >= 2);
    expect(afterClose[1]).toEqual({ routing_key: routingKey, event_action: "resolve", dedup_key: opened.dedup_key });

    await api(acme.admin, "PATCH", `/api/security-issues/${issue.id}`, { status: "open" });
    const afterReopen = await until(mine, (r) => r.length >= 3);
    expect(afterReopen[2]).toMatchObject({ event_action: "trigger", dedup_key: opened.dedup_key });
  });
});
