/**
 * What follows a delivery that died after its last retry (docs/delivery.md#dead-deliveries): one
 * `delivery_dead` notice, raised like the auto-disable notice (system subscribers but the dying
 * integration, admins by email), coalesced per 15 minutes, never about its own kind; and the
 * notifications handed to the integration's fallback once, in the fallback's format.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { integrations } from "../../../worker/db/schema";
import {
  DEAD_NOTICE_SPACING_MS,
  fallbackItems,
  fallbackNotificationId,
  raiseDeadNotice,
} from "../../../worker/delivery/dead-deliveries";
import type { IntegrationDO } from "../../../worker/delivery/integration-do";
import type { OutboxItem } from "../../../worker/domain/notification";
import { buildSystemEvent, type SystemEventData, systemEventOutboxInsert } from "../../../worker/domain/system-events";
import type { Env } from "../../../worker/env";
import { eventOutboxItem } from "../../../worker/outbox/fan-out";
import { db, seedAccount } from "../helpers";
import { bucketName, hubRequests, hubUrl, mailTo, script } from "../hub";
import { storedEvents } from "../ingest/support";
import {
  alarmOf,
  createIntegration,
  deliveryTarget,
  fireAlarm,
  idsIn,
  item,
  items,
  stubFor,
  type TestClock,
} from "./fixtures";

type Stub = ReturnType<typeof stubFor>;

/** One retry, 1 s after the first request: a delivery dies after two requests (RETRY_SCHEDULE may be this short). */
async function shortSchedule(stub: Stub) {
  await runInDurableObject(stub, (instance: IntegrationDO) => {
    instance.config = { ...instance.config, retryScheduleSeconds: [1] };
  });
}

/** An integration whose receiver always answers 500, with a short retry schedule. */
async function failingTarget(accountId: string, options: Parameters<typeof deliveryTarget>[1]) {
  const target = await deliveryTarget(accountId, options);
  await script(target.bucket, [], { status: 500, body: "receiver down" });
  await shortSchedule(target.stub);
  return target;
}

/** Fires alarms until one more delivery is dead. */
async function untilNextDeath(stub: Stub, clock: TestClock) {
  const before = (await stub.health()).dead_deliveries;
  for (let guard = 0; guard < 10; guard++) {
    await fireAlarm(stub, clock);
    if ((await stub.health()).dead_deliveries > before) return;
  }
  throw new Error("no delivery died");
}

/** The account's delivery_dead events, oldest first. */
async function deadNotices(accountId: string) {
  const rows = (await storedEvents(accountId))
    .filter((row) => row.systemType === "delivery_dead")
    .sort((a, b) => a.seq - b.seq);
  return rows.map((row) => ({ id: row.id, ...(JSON.parse(row.data) as SystemEventData) }));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `read` yields at least `count` entries, then leaves room for a duplicate to show up. */
async function settle<T>(read: () => Promise<T[]>, count: number): Promise<T[]> {
  const deadline = Date.now() + 10_000;
  while ((await read()).length < count) {
    if (Date.now() > deadline) throw new Error(`expected ${count}, got ${(await read()).length}`);
    await sleep(100);
  }
  await sleep(400);
  return read();
}

/** D1 answers the object's sends (target reads) but not its dead-delivery follow-up. */
async function followUpCannotReachD1(stub: DurableObjectStub<IntegrationDO>) {
  await runInDurableObject(stub, (instance: IntegrationDO) => {
    const target = instance.resolveTarget;
    const real = (instance as unknown as { env: Env }).env;
    instance.resolveTarget = (_env, id) => target(real, id);
    (instance as unknown as { env: Env }).env = { ...real, DB: unavailableD1() };
  });
}

describe("delivery_dead", () => {
  it("raises exactly one notice to the system subscribers, never to the integration whose delivery died", async () => {
    const acme = await seedAccount("Acme Dead");
    const subscriberBucket = bucketName("dead-subscriber");
    await createIntegration(acme.accountId, { settings: { url: hubUrl(subscriberBucket) }, events: { system: true } });
    // The dying integration subscribes to system events too: the notice must not go to it.
    const failing = await failingTarget(acme.accountId, {
      bucketPrefix: "dead-failing",
      events: { system: true, security_issue: ["high"] },
    });
    const carried = items(2, "doomed");
    await failing.stub.enqueue(failing.id, carried);
    await untilNextDeath(failing.stub, failing.clock);

    const [dead] = (await failing.stub.listDeliveries({ state: "dead", limit: 1 })).deliveries;
    const notices = await deadNotices(acme.accountId);
    expect(notices).toHaveLength(1);
    expect(notices[0]!.subject).toMatchObject({
      integration_id: failing.id,
      integration_type: "webhook",
      delivery_id: dead!.id,
      deliveries_died: 1,
      notifications: 2,
      attempts: 2,
      last_error: expect.stringContaining("HTTP 500"),
      delivery_link: `https://herald.test/integrations/${failing.id}?delivery=${dead!.id}`,
      fallback_integration_id: null,
    });
    expect(notices[0]!.message).toContain("failed after its last retry: 2 notifications, 2 attempts");

    const received = await settle(async () => hubRequests(subscriberBucket), 1);
    expect(received).toHaveLength(1);
    expect(received[0]!.body).toContain("delivery_dead");
    expect(received[0]!.body).toContain(dead!.id);

    // The dying integration's outbox never held the notice; the dead delivery is kept for replay.
    const own = await failing.stub.listDeliveries({ limit: 10 });
    expect(own.deliveries.flatMap((d) => d.notifications.map((n) => n.id))).not.toContain(notices[0]!.id);
    expect(own.queued_notifications).toBe(0);
    expect(dead!.notifications.map((n) => n.id)).toEqual(carried.map((c) => c.notification.id));
    expect(dead!.attempts).toHaveLength(2);

    // Later alarms raise nothing more.
    await runDurableObjectAlarm(failing.stub);
    expect(await deadNotices(acme.accountId)).toHaveLength(1);
    expect(await hubRequests(subscriberBucket)).toHaveLength(1);
  });

  it("emails the admins when no integration subscribes to system events", async () => {
    const acme = await seedAccount("Acme Dead Mail");
    const failing = await failingTarget(acme.accountId, { bucketPrefix: "dead-mail" });
    await failing.stub.enqueue(failing.id, [item("unseen")]);
    await untilNextDeath(failing.stub, failing.clock);
    const [dead] = (await failing.stub.listDeliveries({ state: "dead", limit: 1 })).deliveries;

    const mails = await settle(() => mailTo(acme.users.admin.email), 1);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toMatch(/^\[Herald\] A delivery of ".+" failed after its last retry$/);
    expect(mails[0]!.text).toContain(`https://herald.test/integrations/${failing.id}?delivery=${dead!.id}`);
    expect(mails[0]!.text).toContain("HTTP 500");
    // Only admins are told.
    expect(await mailTo(acme.users.analyst.email)).toHaveLength(0);
  });

  it("does not announce the death of a delivery that carried only delivery_dead notices", async () => {
    const acme = await seedAccount("Acme Dead Loop");
    // The only system subscriber is down too: the notice about the first death dies in it.
    const subscriber = await failingTarget(acme.accountId, { bucketPrefix: "dead-loop-sub", events: { system: true } });
    const failing = await failingTarget(acme.accountId, { bucketPrefix: "dead-loop" });
    await failing.stub.enqueue(failing.id, [item("first")]);
    await untilNextDeath(failing.stub, failing.clock);
    expect(await deadNotices(acme.accountId)).toHaveLength(1);

    await untilNextDeath(subscriber.stub, subscriber.clock);
    const [deadNotice] = (await subscriber.stub.listDeliveries({ state: "dead", limit: 1 })).deliveries;
    expect(deadNotice!.notifications.map((n) => n.id)).toEqual([(await deadNotices(acme.accountId))[0]!.id]);
    await runDurableObjectAlarm(subscriber.stub);
    expect(await deadNotices(acme.accountId)).toHaveLength(1);
    // Its delivery is still kept, replayable.
    expect((await subscriber.stub.health()).dead_deliveries).toBe(1);
  });

  it("coalesces an outage: one notice at once, then one per 15 minutes with the count of deliveries that died", async () => {
    const acme = await seedAccount("Acme Dead Outage");
    // Slack sends one notification per delivery: four notifications are four deliveries.
    const failing = await failingTarget(acme.accountId, { bucketPrefix: "dead-outage", type: "slack" });
    await failing.stub.enqueue(failing.id, items(4, "outage"));
    await untilNextDeath(failing.stub, failing.clock);
    const firstAt = failing.clock.now;
    expect((await deadNotices(acme.accountId)).map((n) => n.subject.deliveries_died)).toEqual([1]);

    for (let i = 0; i < 3; i++) await untilNextDeath(failing.stub, failing.clock);
    expect((await failing.stub.health()).dead_deliveries).toBe(4);
    expect(await deadNotices(acme.accountId)).toHaveLength(1);
    // The next notice waits for the end of the spacing, not for anything else.
    expect(await alarmOf(failing.stub)).toBe(firstAt + DEAD_NOTICE_SPACING_MS);

    await fireAlarm(failing.stub, failing.clock);
    const notices = await deadNotices(acme.accountId);
    expect(notices.map((n) => n.subject.deliveries_died)).toEqual([1, 3]);
    expect(notices[1]!.message).toMatch(/^3 deliveries of integration ".+" \(Slack\) died after their last retry/);
    expect(notices[1]!.subject.notifications).toBe(3);
    const mails = await settle(() => mailTo(acme.users.admin.email), 2);
    expect(mails.map((m) => m.subject)).toEqual([
      expect.stringContaining("A delivery of"),
      expect.stringContaining("3 deliveries of"),
    ]);

    // Nothing left to announce: no alarm for it (only the retention prune of the first dead delivery).
    expect(await alarmOf(failing.stub)).toBe(firstAt + 30 * 86_400_000);
  });
});

describe("a follow-up that fails", () => {
  it("is retried 30 s later and raises the notice once", async () => {
    const acme = await seedAccount("Acme Dead Retry");
    const subscriberBucket = bucketName("dead-retry-subscriber");
    await createIntegration(acme.accountId, { settings: { url: hubUrl(subscriberBucket) }, events: { system: true } });
    const failing = await failingTarget(acme.accountId, { bucketPrefix: "dead-retry" });
    await failing.stub.enqueue(failing.id, [item("retry")]);
    // D1 answers the sends' reads (the target is resolved before) but not the follow-up's.
    await followUpCannotReachD1(failing.stub);
    await untilNextDeath(failing.stub, failing.clock);
    expect(await deadNotices(acme.accountId)).toHaveLength(0);
    const diedAt = failing.clock.now;
    expect(await alarmOf(failing.stub)).toBe(diedAt + 30_000);

    await runInDurableObject(failing.stub, (instance: IntegrationDO) => {
      (instance as unknown as { env: Env }).env = env;
    });
    await fireAlarm(failing.stub, failing.clock);
    expect(await deadNotices(acme.accountId)).toHaveLength(1);
    await runDurableObjectAlarm(failing.stub);
    expect(await deadNotices(acme.accountId)).toHaveLength(1);
    expect(await settle(() => hubRequests(subscriberBucket), 1)).toHaveLength(1);
  });

  it("raises a notice whose outbox row an earlier try stored (its answer lost) once, without failing", async () => {
    const acme = await seedAccount("Acme Dead Stored Twice");
    const event = buildSystemEvent(acme.accountId, "delivery_dead", "Herald", "A delivery died.", {
      integration_id: "gone",
    });
    await systemEventOutboxInsert(db(), event);
    await raiseDeadNotice(env, { event, mail: { subject: "[Herald] dead", text: "A delivery died." } });
    await raiseDeadNotice(env, { event, mail: { subject: "[Herald] dead", text: "A delivery died." } });
    expect((await deadNotices(acme.accountId)).map((notice) => notice.id)).toEqual([event.id]);
  });
});

/** The env with its IntegrationDO namespace watched: each enqueue into `integrationId`'s outbox adds its item count to `counts`. */
function countingEnqueues(real: Env, integrationId: string, counts: number[]): Env {
  const namespace = real.INTEGRATION_DO;
  const watched = {
    idFromName: (name: string) => namespace.idFromName(name),
    get: (id: DurableObjectId) => {
      const stub = namespace.get(id);
      return new Proxy(stub, {
        get: (target, key) => {
          if (key !== "enqueue") return Reflect.get(target, key);
          return (id: string, items: OutboxItem[]) => {
            if (id === integrationId) counts.push(items.length);
            return target.enqueue(id, items);
          };
        },
      });
    },
  };
  return { ...real, INTEGRATION_DO: watched as unknown as Env["INTEGRATION_DO"] };
}

/** A D1 binding whose every statement fails, as during an outage. */
function unavailableD1(): D1Database {
  const fail = () => Promise.reject(new Error("D1_ERROR: Network connection lost."));
  const statement = { bind: () => statement, all: fail, run: fail, first: fail, raw: fail };
  return { prepare: () => statement, batch: fail, exec: fail } as unknown as D1Database;
}

describe("the fallback integration", () => {
  it("receives a dead delivery's notifications once, in its own format, however often the hand-over runs", async () => {
    const acme = await seedAccount("Acme Fallback");
    const fallbackBucket = bucketName("fallback");
    const fallbackId = await createIntegration(acme.accountId, {
      type: "slack",
      name: "On-call Slack",
      settings: { webhook_url: hubUrl(fallbackBucket, "/services/T0/B0/fallback") },
      events: { security_issue: ["critical"] },
    });
    const failing = await failingTarget(acme.accountId, { bucketPrefix: "fallback-source" });
    await db().update(integrations).set({ fallbackIntegrationId: fallbackId }).where(eq(integrations.id, failing.id));
    const carried = items(2, "rescued");
    await failing.stub.enqueue(failing.id, carried);
    await untilNextDeath(failing.stub, failing.clock);

    // The fallback's own object (real clock) sends at once: Slack's format, one message each.
    const received = await settle(() => hubRequests(fallbackBucket), 2);
    expect(received).toHaveLength(2);
    const texts = received.map((r) => (JSON.parse(r.body) as { text: string; blocks: unknown[] }).text);
    expect(texts).toEqual([
      expect.stringContaining("New security issue detected (rescued0)"),
      expect.stringContaining("New security issue detected (rescued1)"),
    ]);
    expect(received.every((r) => Array.isArray((JSON.parse(r.body) as { blocks: unknown }).blocks))).toBe(true);

    // The copies' ids are derived from the originals, so a repeated hand-over is dropped.
    const copies = (await stubFor(fallbackId).listDeliveries({ limit: 10 })).deliveries;
    const expectedIds = await Promise.all(carried.map((c) => fallbackNotificationId(failing.id, c.notification.id)));
    expect(copies.flatMap((d) => d.notifications.map((n) => n.id)).sort()).toEqual([...expectedIds].sort());

    await runDurableObjectAlarm(failing.stub); // the alarm again
    // A replay of the dead delivery that dies too hands the same notifications over again.
    const [dead] = (await failing.stub.listDeliveries({ state: "dead", limit: 1 })).deliveries;
    expect(await failing.stub.replayDelivery(dead!.id)).toMatchObject({ paused: false });
    await untilNextDeath(failing.stub, failing.clock);
    expect((await failing.stub.health()).dead_deliveries).toBe(2);
    await sleep(600);
    expect(await hubRequests(fallbackBucket)).toHaveLength(2);

    // The notice says where the notifications went.
    const notices = await deadNotices(acme.accountId);
    expect(notices[0]!.subject).toMatchObject({
      fallback_integration_id: fallbackId,
      fallback_integration_name: "On-call Slack",
    });
    expect(notices[0]!.message).toContain('sent to the fallback integration "On-call Slack"');
  });

  it("hands the deliveries that died since the last follow-up over in one enqueue", async () => {
    const acme = await seedAccount("Acme Fallback Batch");
    const fallbackBucket = bucketName("fallback-batch");
    const fallbackId = await createIntegration(acme.accountId, {
      type: "slack",
      settings: { webhook_url: hubUrl(fallbackBucket, "/services/T0/B0/batch") },
    });
    // Slack sends one notification per delivery: two notifications are two deliveries dying.
    const failing = await failingTarget(acme.accountId, { bucketPrefix: "fallback-batch-source", type: "slack" });
    await db().update(integrations).set({ fallbackIntegrationId: fallbackId }).where(eq(integrations.id, failing.id));
    // D1 answers the sends' reads but not the follow-up's: both deaths wait for the next follow-up.
    await followUpCannotReachD1(failing.stub);
    await failing.stub.enqueue(failing.id, items(2, "together"));
    await untilNextDeath(failing.stub, failing.clock);
    if ((await failing.stub.health()).dead_deliveries < 2) await untilNextDeath(failing.stub, failing.clock);
    expect((await failing.stub.health()).dead_deliveries).toBe(2);

    const enqueued: number[] = [];
    await runInDurableObject(failing.stub, (instance: IntegrationDO) => {
      (instance as unknown as { env: Env }).env = countingEnqueues(env, fallbackId, enqueued);
    });
    await fireAlarm(failing.stub, failing.clock);
    expect(enqueued).toEqual([2]);
    expect(await settle(() => hubRequests(fallbackBucket), 2)).toHaveLength(2);
  });

  it("hands many dead deliveries over in enqueues of at most 500 notifications, a delivery never split", async () => {
    const acme = await seedAccount("Acme Fallback Batches");
    const fallbackBucket = bucketName("fallback-batches");
    const fallbackId = await createIntegration(acme.accountId, { settings: { url: hubUrl(fallbackBucket) } });
    // Webhook deliveries carry up to 100 notifications: 600 make six dying deliveries.
    const failing = await failingTarget(acme.accountId, { bucketPrefix: "fallback-batches-source" });
    await db().update(integrations).set({ fallbackIntegrationId: fallbackId }).where(eq(integrations.id, failing.id));
    await followUpCannotReachD1(failing.stub);
    await failing.stub.enqueue(failing.id, items(600, "many"));
    while ((await failing.stub.health()).dead_deliveries < 6) await untilNextDeath(failing.stub, failing.clock);

    const enqueued: number[] = [];
    await runInDurableObject(failing.stub, (instance: IntegrationDO) => {
      (instance as unknown as { env: Env }).env = countingEnqueues(env, fallbackId, enqueued);
    });
    await fireAlarm(failing.stub, failing.clock);
    expect(enqueued).toEqual([500, 100]);
    const received = (await settle(() => hubRequests(fallbackBucket), 6)).flatMap(idsIn);
    expect(new Set(received).size).toBe(600);
  });

  it("hands over only what the fallback's system carries, never copies or notices about the fallback itself", async () => {
    const fallback = { id: "fallback-integration", type: "slack" };
    const notice = (about: string) =>
      eventOutboxItem(
        {
          ...buildSystemEvent("acct", "delivery_dead", "Herald", "A delivery died.", { integration_id: about }),
          type: "system",
        },
        "Acme",
        "https://herald.test",
      );
    const issue = item("issue");
    const hit: OutboxItem = {
      ...item("hit"),
      notification: {
        ...item("hit").notification,
        details: { ...item("hit").notification.details, notification_type: "new_hits" },
      },
    };
    const alreadyCopied: OutboxItem = { ...item("copy"), fallbackFrom: "elsewhere" };
    const aboutOther = notice("other-integration");
    const aboutFallback = notice(fallback.id);

    const copies = await fallbackItems([issue, hit, alreadyCopied, aboutOther, aboutFallback], "source", fallback);
    expect(copies.map((c) => c.eventId)).toEqual([issue.eventId, aboutOther.eventId]);
    expect(copies.every((c) => c.fallbackFrom === "source")).toBe(true);
    expect(copies[0]!.notification).toEqual({
      ...issue.notification,
      id: await fallbackNotificationId("source", issue.notification.id),
    });
  });

  it("does not hand on the copies a fallback received when they die in it too", async () => {
    const acme = await seedAccount("Acme Fallback Chain");
    const lastBucket = bucketName("fallback-last");
    const last = await createIntegration(acme.accountId, { settings: { url: hubUrl(lastBucket) } });
    const fallback = await failingTarget(acme.accountId, { bucketPrefix: "fallback-mid" });
    const failing = await failingTarget(acme.accountId, { bucketPrefix: "fallback-first" });
    // A chain the API refuses, stored directly: the engine still hands over one step only.
    await db().update(integrations).set({ fallbackIntegrationId: fallback.id }).where(eq(integrations.id, failing.id));
    await db().update(integrations).set({ fallbackIntegrationId: last }).where(eq(integrations.id, fallback.id));

    await failing.stub.enqueue(failing.id, [item("hop")]);
    await untilNextDeath(failing.stub, failing.clock);
    expect((await fallback.stub.health()).pending_notifications).toBe(1);
    await untilNextDeath(fallback.stub, fallback.clock);
    await sleep(600);
    expect(await hubRequests(lastBucket)).toHaveLength(0);
  });
});
