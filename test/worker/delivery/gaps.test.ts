/**
 * Reviewer's gaps in the delivery engine: a manual enable starts a fresh failure window; the
 * missed-events replay (events posted by a node while the integration was disabled, replayed by the
 * account object) caps matching events (not rows read) and says when it stopped; a channel's
 * exception text is redacted before it is logged.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { getChannel } from "../../../worker/channels/catalog";
import { integrations } from "../../../worker/db/schema";
import type { IntegrationDO } from "../../../worker/delivery/integration-do";
import { type SendTarget, sendDelivery } from "../../../worker/delivery/send";
import { announceControlChange } from "../../../worker/ingest/control-change";
import { api, db, login, type SeededAccount, type Session, seedAccount } from "../helpers";
import { hubRequests, script } from "../hub";
import { createNode, hit, postEvents, securityIssue } from "../ingest/support";
import { deliveryTarget, fireAlarm, item, type stubFor, type TestClock } from "./fixtures";

let acme: SeededAccount;
let admin: Session;
beforeAll(async () => {
  acme = await seedAccount("Acme Gaps");
  admin = await login(acme.users.admin.email);
});

const integrationRow = async (id: string) =>
  (await db().select().from(integrations).where(eq(integrations.id, id)))[0]!;

/** Fires alarms against an always-failing receiver, queueing a new item whenever the last one died. */
async function failUntilDisabled(id: string, stub: ReturnType<typeof stubFor>, clock: TestClock) {
  for (let guard = 0; guard < 60; guard++) {
    if ((await integrationRow(id)).status === "disabled") return;
    if ((await stub.health()).pending_notifications === 0) await stub.enqueue(id, [item()]);
    await fireAlarm(stub, clock);
  }
  throw new Error("the integration was never disabled");
}

const setReplayCap = (stub: ReturnType<typeof stubFor>, cap: number) =>
  runInDurableObject(stub, (instance: IntegrationDO) => {
    instance.replayMaxEvents = cap;
  });

/** A node of each account the tests post from (created through the API on first use). */
const nodeTokens = new Map<string, Promise<string>>();
function nodeToken(accountId: string, session: Session): Promise<string> {
  let token = nodeTokens.get(accountId);
  if (!token) {
    token = createNode(session).then((node) => node.token);
    nodeTokens.set(accountId, token);
  }
  return token;
}

/** Posts events as a node of the account (hits, or security issues each of its own fingerprint). */
async function storeEvents(
  accountId: string,
  session: Session,
  specs: { type: "hit" | "security_issue"; title: string }[],
) {
  const events = specs.map((spec) =>
    spec.type === "security_issue"
      ? securityIssue({ title: spec.title, parameter: spec.title, host: "api.acme.test" })
      : hit({ payload: spec.title, host: "api.acme.test" }),
  );
  const res = await postEvents(await nodeToken(accountId, session), { events });
  expect(res.status).toBe(202);
  return events;
}

/**
 * Posts events the integration misses: it is disabled as the disable route does for ingest (D1
 * status, the account object told) while a node posts them, then enabled again in D1 (the resume
 * below is the rest of an enable). Returns the disable's seq marker and the events.
 */
async function missWhileDisabled(
  accountId: string,
  session: Session,
  integrationId: string,
  specs: { type: "hit" | "security_issue"; title: string }[],
) {
  const setStatus = async (status: "enabled" | "disabled") => {
    await db().update(integrations).set({ status }).where(eq(integrations.id, integrationId));
    return (await announceControlChange(env, accountId)).committedSeq;
  };
  const marker = await setStatus("disabled");
  const events = await storeEvents(accountId, session, specs);
  await setStatus("enabled");
  return { marker, events };
}

/** Titles of the security issues a webhook bucket received, in order. */
async function hubTitles(bucket: string): Promise<string[]> {
  return (await hubRequests(bucket)).flatMap((request) =>
    (JSON.parse(request.body) as { details: { security_issue: { title: string } } }[]).map(
      (n) => n.details.security_issue.title,
    ),
  );
}

const flood = (count: number) => Array.from({ length: count }, (_, i) => ({ type: "hit" as const, title: `hit ${i}` }));
const issues = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ type: "security_issue" as const, title: `issue ${i}` }));

describe("re-enabling an auto-disabled integration", () => {
  it("starts a fresh failure window: one failure after the enable does not disable it again", async () => {
    const { bucket, id, stub, clock } = await deliveryTarget(acme.accountId, { bucketPrefix: "gap-window" });
    await script(bucket, [], { status: 500 });
    await failUntilDisabled(id, stub, clock);
    expect(await integrationRow(id)).toMatchObject({ status: "disabled", disabledReason: "auto_failure_ratio" });

    const enabled = await api(admin, "POST", `/api/integrations/${id}/enable`, { pending: "drop" });
    expect(enabled.status).toBe(200);
    expect((await stub.health()).window).toMatchObject({ requests: 0, failed: 0 });

    await stub.enqueue(id, [item("after enable")]);
    await fireAlarm(stub, clock);
    expect((await stub.health()).window).toMatchObject({ requests: 1, failed: 1 });
    expect((await integrationRow(id)).status).toBe("enabled");

    // The rule applies again, to requests made after the enable only: 20 of 20 failed.
    await failUntilDisabled(id, stub, clock);
    expect((await integrationRow(id)).disabledDetails).toMatchObject({ requests: 20, failed: 20 });
  });
});

describe("re-enabling with the dead", () => {
  it("replays the deliveries that died leading up to an auto-disable in the same step as the resume", async () => {
    const { bucket, id, stub, clock } = await deliveryTarget(acme.accountId, { bucketPrefix: "gap-dead" });
    await script(bucket, [], { status: 500 });
    await failUntilDisabled(id, stub, clock);
    const [dead] = (await stub.listDeliveries({ state: "dead", limit: 5 })).deliveries;
    const [paused] = (await stub.listDeliveries({ state: "pending", limit: 5 })).deliveries;
    expect(dead && paused).toBeTruthy();

    await script(bucket, [], { status: 200 });
    const enabled = await api(admin, "POST", `/api/integrations/${id}/enable`, {
      pending: "resume",
      replay_dead: true,
    });
    expect(await enabled.json()).toMatchObject({ resumed: 1, replayed_dead: 1, replayed: 0 });
    const sentBefore = (await hubRequests(bucket)).length;
    await fireAlarm(stub, clock);
    await fireAlarm(stub, clock);
    const after = (await hubRequests(bucket)).slice(sentBefore);
    expect(after.map((r) => (JSON.parse(r.body) as { id: string }[]).map((n) => n.id))).toEqual([
      paused!.notifications.map((n) => n.id),
      dead!.notifications.map((n) => n.id),
    ]);
    expect((await stub.health()).pending_notifications).toBe(0);
    const delivered = (await stub.listDeliveries({ state: "delivered", limit: 5 })).deliveries;
    expect(delivered.find((d) => d.replay_of === dead!.id)).toBeDefined();
  });
});

describe("replaying the events missed while disabled", () => {
  it("counts only matching events towards the cap, so a flood of others cannot hide them", async () => {
    const ready = await deliveryTarget(acme.accountId, {
      bucketPrefix: "gap-replay",
      events: { security_issue: ["high"] },
    });
    const { bucket, id, stub, clock } = ready;
    await setReplayCap(stub, 10);
    await stub.pause();
    const { marker } = await missWhileDisabled(acme.accountId, admin, id, [...flood(30), ...issues(10)]);

    // Exactly the cap: everything queued, nothing reported missing.
    expect(await stub.resume({ pending: "resume", replayMissedAfterSeq: marker })).toEqual({
      resumed: 0,
      dropped: 0,
      replayed: 10,
    });
    await fireAlarm(stub, clock);
    expect(await hubTitles(bucket)).toEqual(issues(10).map((spec) => spec.title));
  });

  it("sends replayed hits with a link that finds them: their id and time, no per-hit record", async () => {
    const {
      bucket,
      id: hookId,
      stub,
      clock,
    } = await deliveryTarget(acme.accountId, {
      bucketPrefix: "gap-links",
      events: { hit: true },
    });
    await stub.pause();
    // Posted while the integration was disabled: no enabled integration wanted the hit.
    const {
      marker,
      events: [missed],
    } = await missWhileDisabled(acme.accountId, admin, hookId, flood(1));
    const id = String(missed?.id);
    expect(await stub.resume({ pending: "resume", replayMissedAfterSeq: marker })).toMatchObject({ replayed: 1 });
    await fireAlarm(stub, clock);
    const [sent] = JSON.parse((await hubRequests(bucket))[0]?.body ?? "[]") as {
      id: string;
      details: { link: string };
    }[];
    expect(sent?.id).toBe(id);
    const link = new URL(String(sent?.details.link));
    expect(link.pathname).toBe(`/events/${id}`);
    const found = await api(admin, "GET", `/api${link.pathname}${link.search}`);
    expect(found.status).toBe(200);
    expect(await found.json()).toMatchObject({ event: { id } });
    // Without its time a hit is not found: nothing was recorded per hit.
    expect((await api(admin, "GET", `/api/events/${id}`)).status).toBe(404);
  });

  it("stops at the cap, oldest first, and says it was truncated", async () => {
    const { bucket, id, stub, clock } = await deliveryTarget(acme.accountId, {
      bucketPrefix: "gap-cap",
      events: { security_issue: ["high"] },
    });
    await setReplayCap(stub, 10);
    await stub.pause();
    // After the previous tests' events.
    const { marker } = await missWhileDisabled(acme.accountId, admin, id, [...flood(30), ...issues(12)]);
    expect(await stub.resume({ pending: "resume", replayMissedAfterSeq: marker })).toEqual({
      resumed: 0,
      dropped: 0,
      replayed: 10,
      truncated: true,
    });
    await fireAlarm(stub, clock);
    expect(await hubTitles(bucket)).toEqual(issues(10).map((spec) => spec.title));
  });

  it("the enable route answers replay_truncated", async () => {
    // An account of its own: the other tests' events must not fall into this replay.
    const globex = await seedAccount("Globex Gaps");
    const globexAdmin = await login(globex.users.admin.email);
    const { id, stub } = await deliveryTarget(globex.accountId, {
      bucketPrefix: "gap-route",
      events: { security_issue: ["high"] },
    });
    const enableWithReplay = async () => {
      expect((await api(globexAdmin, "POST", `/api/integrations/${id}/disable`)).status).toBe(200);
      await storeEvents(globex.accountId, globexAdmin, issues(3));
      const res = await api(globexAdmin, "POST", `/api/integrations/${id}/enable`, {
        pending: "resume",
        replay_missed: true,
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { replayed: number; replay_truncated: boolean };
    };
    await setReplayCap(stub, 5);
    expect(await enableWithReplay()).toMatchObject({ replayed: 3, replay_truncated: false });
    await setReplayCap(stub, 2);
    expect(await enableWithReplay()).toMatchObject({ replayed: 2, replay_truncated: true });
  });
});

describe("a channel that throws", () => {
  afterEach(() => vi.restoreAllMocks());

  it("has its exception text redacted in the log and the recorded outcome", async () => {
    const secret = "xoxb-4242-very-secret-token";
    const webhook = getChannel("webhook")!;
    const target: SendTarget = {
      integrationId: "throwing",
      accountId: acme.accountId,
      accountName: "Acme Gaps",
      type: "webhook",
      name: "throws",
      status: "enabled",
      events: {},
      channel: {
        ...webhook,
        send: () => Promise.reject(new Error(`cannot connect to https://hooks.example.test/${secret}/x`)),
      },
      settings: {},
      secrets: [secret],
    };
    const logged: unknown[][] = [];
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
      logged.push(args);
    });
    const outcome = await sendDelivery(env, target, "delivery-1", [item()], {});
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error).toContain("https://hooks.example.test/[redacted]/x");
    expect(outcome.error).not.toContain(secret);
    expect(JSON.stringify(logged)).toContain("[redacted]");
    expect(JSON.stringify(logged)).not.toContain(secret);
  });
});
