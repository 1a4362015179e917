import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { auditLog, integrations } from "../../../worker/db/schema";
import type { IntegrationDO } from "../../../worker/delivery/integration-do";
import type { EventSubscriptions } from "../../../worker/domain/subscriptions";
import { announceControlChange } from "../../../worker/ingest/control-change";
import { db, login, type SeededAccount, seedAccount } from "../helpers";
import { bucketName, hubRequests, hubUrl, mailTo, script, waitForRequests } from "../hub";
import { createNode, postEvents, securityIssue, storedEvents } from "../ingest/support";
import {
  alarmOf,
  createIntegration,
  deliveryTarget,
  fireAlarm,
  idsIn,
  item,
  items,
  type stubFor,
  T0,
  type TestClock,
} from "./fixtures";

let acme: SeededAccount;
beforeAll(async () => {
  acme = await seedAccount("Acme Lifecycle");
});

const webhookTarget = (events?: EventSubscriptions) => deliveryTarget(acme.accountId, { bucketPrefix: "life", events });

/** Fires alarms until no delivery is pending or queued (dead or delivered). */
async function runUntilSettled(stub: ReturnType<typeof stubFor>, clock: TestClock) {
  for (let guard = 0; guard < 40; guard++) {
    if ((await stub.health()).pending_notifications === 0) return;
    await fireAlarm(stub, clock);
  }
  throw new Error("deliveries did not settle");
}

const integrationRow = async (id: string) =>
  (await db().select().from(integrations).where(eq(integrations.id, id)))[0]!;

describe("pause, resume and replay", () => {
  it("a paused object sends nothing and keeps what arrives; resume sends it in order", async () => {
    const { bucket, id, stub, clock } = await webhookTarget();
    await stub.pause();
    const first = items(3, "paused");
    await stub.enqueue(id, first);
    // No alarm for sending while paused (nothing else is due yet).
    expect(await alarmOf(stub)).toBeNull();
    await runInDurableObject(stub, (instance: IntegrationDO) => instance.alarm());
    expect(await hubRequests(bucket)).toHaveLength(0);
    expect((await stub.health()).paused).toBe(true);

    const result = await stub.resume({ pending: "resume" });
    expect(result).toEqual({ resumed: 3, dropped: 0, replayed: 0 });
    await fireAlarm(stub, clock);
    expect((await hubRequests(bucket)).flatMap(idsIn)).toEqual(first.map((n) => n.notification.id));
  });

  it("resume with drop forgets pending deliveries (kept in the log as dropped) and sends only new ones", async () => {
    const { bucket, id, stub, clock } = await webhookTarget();
    await script(bucket, [{ status: 500 }]);
    await stub.enqueue(id, [item("will-drop")]);
    await fireAlarm(stub, clock); // fails, waits for its retry
    await stub.pause();
    await stub.enqueue(id, items(2, "queued-drop"));
    const result = await stub.resume({ pending: "drop" });
    expect(result).toEqual({ resumed: 0, dropped: 3, replayed: 0 });
    expect((await stub.listDeliveries({ state: "dropped", limit: 5 })).deliveries).toHaveLength(1);
    const fresh = item("after-drop");
    await stub.enqueue(id, [fresh]);
    await fireAlarm(stub, clock);
    const requests = await hubRequests(bucket);
    expect(requests).toHaveLength(2);
    expect(idsIn(requests[1]!)).toEqual([fresh.notification.id]);
  });

  it("resume restarts a paused delivery's retry cycle from now", async () => {
    const { bucket, id, stub, clock } = await webhookTarget();
    await script(bucket, [{ status: 500 }, { status: 500 }, { status: 500 }]);
    await stub.enqueue(id, [item()]);
    for (let i = 0; i < 3; i++) await fireAlarm(stub, clock);
    await stub.pause();
    clock.now += 3_600_000;
    await stub.resume({ pending: "resume" });
    expect(await alarmOf(stub)).toBe(clock.now);
    await fireAlarm(stub, clock);
    const [delivery] = (await stub.listDeliveries({ limit: 1 })).deliveries;
    expect(delivery?.state).toBe("delivered");
    expect(delivery?.requests).toBe(4);
  });

  it("replays the account's events that arrived while disabled and match the subscriptions", async () => {
    const { bucket, id, stub, clock } = await webhookTarget({ security_issue: ["critical", "high"] });
    const node = await createNode(await login(acme.users.admin.email));
    const issue = (risk: string, title: string, eventId?: string) =>
      securityIssue({ risk, title, parameter: title, host: "api.acme.test", ...(eventId ? { id: eventId } : {}) });
    const already = item("already-notified");
    await stub.enqueue(id, [already]);
    // Posted before the disable: not missed (ingest queued it; it goes out with the first delivery).
    expect((await postEvents(node.token, { events: [issue("high", "before the disable")] })).status).toBe(202);
    await fireAlarm(stub, clock);
    await stub.pause();
    // Disabled as the disable route does it for ingest; the seq it answers is the marker.
    await db().update(integrations).set({ status: "disabled" }).where(eq(integrations.id, id));
    const { committedSeq: marker } = await announceControlChange(env, acme.accountId);
    const missed = [
      issue("critical", "missed critical"),
      issue("low", "not subscribed"),
      issue("high", "missed high"),
      // Posted while disabled but already in the outbox from before: not sent twice.
      issue("high", "dup", already.notification.id),
    ];
    expect((await postEvents(node.token, { events: missed })).status).toBe(202);
    await db().update(integrations).set({ status: "enabled" }).where(eq(integrations.id, id));
    const result = await stub.resume({ pending: "resume", replayMissedAfterSeq: marker });
    // Three matching events are queued again; the outbox keeps the one it held already once.
    expect(result).toEqual({ resumed: 0, dropped: 0, replayed: 3 });
    await fireAlarm(stub, clock);
    const requests = await hubRequests(bucket);
    expect(requests).toHaveLength(2);
    const replayed = JSON.parse(requests[1]!.body) as {
      summary: string;
      details: { security_issue: { title: string } };
    }[];
    expect(replayed.map((n) => n.details.security_issue.title)).toEqual(["missed critical", "missed high"]);
    expect(replayed[0]?.details).toMatchObject({ client_name: "Acme Lifecycle", notification_type: "security_issue" });
  });

  it("replays a dead delivery, then all dead ones, as new deliveries that point at the original", async () => {
    const { bucket, id, stub, clock } = await webhookTarget();
    await script(bucket, Array(17).fill({ status: 500 }));
    const doomed = item("doomed");
    await stub.enqueue(id, [doomed]);
    await runUntilSettled(stub, clock);
    const [dead] = (await stub.listDeliveries({ state: "dead", limit: 1 })).deliveries;
    expect(dead).toBeDefined();

    expect(await stub.replayDelivery("no-such-delivery")).toBe("not_found");
    const replay = await stub.replayDelivery(dead!.id);
    if (typeof replay === "string") throw new Error(replay);
    expect(await stub.replayDelivery(replay.delivery_ids[0]!)).toBe("pending");
    await fireAlarm(stub, clock);
    const requests = await hubRequests(bucket);
    expect(requests).toHaveLength(18);
    expect(idsIn(requests[17]!)).toEqual([doomed.notification.id]);
    expect(requests[17]!.headers["webhook-id"]).toBe(replay.delivery_ids[0]);
    const [again] = (await stub.listDeliveries({ state: "delivered", limit: 1 })).deliveries;
    expect(again).toMatchObject({ id: replay.delivery_ids[0], replay_of: dead!.id });

    const all = await stub.replayDead();
    expect(all.delivery_ids).toHaveLength(1);
    await fireAlarm(stub, clock);
    expect(await hubRequests(bucket)).toHaveLength(19);
  });

  it("resume replays, in the same step, the deliveries that died since the given time — each once", async () => {
    const { bucket, id, stub, clock } = await webhookTarget();
    await script(bucket, Array(17).fill({ status: 500 }));
    await stub.enqueue(id, [item("died long before")]);
    await runUntilSettled(stub, clock);
    // Past the failure window: the next 17 failures alone stay under the auto-disable minimum.
    clock.now += 13 * 3_600_000;
    const since = clock.now;
    await script(bucket, Array(17).fill({ status: 500 }));
    const doomed = item("died in the outage");
    await stub.enqueue(id, [doomed]);
    await runUntilSettled(stub, clock);
    expect((await stub.health()).dead_deliveries).toBe(2);
    await stub.pause();
    const waiting = item("queued while paused");
    await stub.enqueue(id, [waiting]);

    expect(await stub.resume({ pending: "resume", replayDeadSince: since })).toEqual({
      resumed: 1,
      dropped: 0,
      replayed: 0,
      replayedDead: 1,
    });
    await runUntilSettled(stub, clock);
    const requests = await hubRequests(bucket);
    expect(requests.slice(34).map(idsIn)).toEqual([[doomed.notification.id], [waiting.notification.id]]);
    const [replay] = (await stub.listDeliveries({ state: "delivered", limit: 2 })).deliveries.filter(
      (d) => d.replay_of,
    );
    expect(replay?.notifications.map((n) => n.id)).toEqual([doomed.notification.id]);

    // A second re-enable does not replay it again.
    await stub.pause();
    expect(await stub.resume({ pending: "resume", replayDeadSince: since })).toEqual({
      resumed: 0,
      dropped: 0,
      replayed: 0,
    });
  });

  it("destroy forgets everything, the alarm included", async () => {
    const { id, stub, clock } = await webhookTarget();
    await stub.enqueue(id, [item()]);
    await fireAlarm(stub, clock);
    expect(await alarmOf(stub)).not.toBeNull();
    await stub.destroy();
    expect(await alarmOf(stub)).toBeNull();
    const page = await stub.listDeliveries({ limit: 10 });
    expect(page.deliveries).toHaveLength(0);
    expect((await stub.health()).window.requests).toBe(0);
  });

  it("prunes attempts and finished deliveries after 30 days", async () => {
    const { id, stub, clock } = await webhookTarget();
    const old = item("old");
    await stub.enqueue(id, [old]);
    await fireAlarm(stub, clock);
    clock.now += 29 * 86_400_000;
    await stub.enqueue(id, [item("recent")]);
    await fireAlarm(stub, clock);
    expect((await stub.listDeliveries({ limit: 10 })).deliveries).toHaveLength(2);
    // The alarm wakes when the oldest record turns 30 days old.
    expect(await alarmOf(stub)).toBe(T0 + 30 * 86_400_000);
    await fireAlarm(stub, clock);
    const left = (await stub.listDeliveries({ limit: 10 })).deliveries;
    expect(left.map((d) => d.notifications[0]?.summary)).toEqual([expect.stringContaining("recent")]);
  });
});

describe("history within its budget (DELIVERY_LOG_MAX_NOTIFICATIONS)", () => {
  /** Sets the object's notification budget (and the notification seqs one prune goes through). */
  const budget = (stub: ReturnType<typeof stubFor>, keep: number, chunk?: number) =>
    runInDurableObject(stub, (instance: IntegrationDO) => {
      instance.config = { ...instance.config, maxLogNotifications: keep };
      if (chunk) instance.budgetPruneChunk = chunk;
    });
  const storedNotifications = (stub: ReturnType<typeof stubFor>) =>
    runInDurableObject(stub, (_instance: IntegrationDO, state) => ({
      notifications: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM notifications").one().n,
      attempts: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM attempts").one().n,
    }));

  it("forgets the oldest finished deliveries, their attempts and notifications beyond the newest it keeps", async () => {
    const { id, stub, clock } = await webhookTarget();
    await budget(stub, 30);
    for (let batch = 0; batch < 10; batch++) {
      clock.now = T0 + batch * 1_000;
      await stub.enqueue(id, items(10, `b${batch}-`));
      await fireAlarm(stub, clock);
    }
    // Each alarm forgets what lies beyond the newest 30 before it sends: batches 0–6 are gone.
    const left = (await stub.listDeliveries({ limit: 20 })).deliveries;
    expect(left.map((d) => d.notifications[0]?.summary)).toEqual([
      expect.stringContaining("b9-0"),
      expect.stringContaining("b8-0"),
      expect.stringContaining("b7-0"),
    ]);
    expect(await storedNotifications(stub)).toEqual({ notifications: 30, attempts: 3 });
    // A report's health of the integration covers only what the log still holds: from just after
    // the last forgotten request (batch 6's), and counts batches 7–9's three requests.
    expect(await stub.periodHealth(T0, clock.now + 1)).toEqual({
      from: T0 + 6_000 + 1,
      to: clock.now + 1,
      requests: 3,
      failed: 0,
    });
    // A kept notification is still recognised when it is queued again; nothing is sent twice.
    const kept = left[0]?.notifications[0];
    await stub.enqueue(id, [{ ...item(), notification: { ...item().notification, id: kept?.id as string } }]);
    expect((await stub.health()).pending_notifications).toBe(0);
  });

  it("goes through a large excess a chunk per alarm run, the next run a second later", async () => {
    const { id, stub, clock } = await webhookTarget();
    for (let batch = 0; batch < 5; batch++) {
      await stub.enqueue(id, items(10, `c${batch}-`));
      await fireAlarm(stub, clock);
    }
    await budget(stub, 10, 15);
    await runInDurableObject(stub, (instance: IntegrationDO) => instance.alarm());
    // 40 seqs lie beyond the newest 10. One run went through seqs 1–15: the two deliveries holding
    // them are forgotten whole, and the notifications up to 15 with them.
    expect(await storedNotifications(stub)).toEqual({ notifications: 35, attempts: 3 });
    expect(await alarmOf(stub)).toBe(clock.now + 1_000);
    for (let run = 0; run < 2; run++) await fireAlarm(stub, clock);
    expect(await storedNotifications(stub)).toEqual({ notifications: 10, attempts: 1 });
    // Within the budget, no early alarm is left.
    expect(await alarmOf(stub)).not.toBe(clock.now + 1_000);
  });

  it("never forgets a pending delivery or a queued notification, however far beyond the budget", async () => {
    const { bucket, id, stub, clock } = await webhookTarget();
    await script(bucket, [], { status: 500, body: "down" });
    await budget(stub, 5);
    await stub.enqueue(id, items(10, "p"));
    await fireAlarm(stub, clock);
    await stub.enqueue(id, items(30, "q"));
    for (let run = 0; run < 3; run++) await fireAlarm(stub, clock);
    expect((await storedNotifications(stub)).notifications).toBe(40);
    expect((await stub.health()).pending_notifications).toBe(40);
  });
});

describe("automatic disable", () => {
  it("410 Gone disables the integration at once, keeps the delivery pending and paused", async () => {
    const { bucket, id, stub, clock } = await webhookTarget();
    await script(bucket, [{ status: 410, body: "gone" }]);
    await stub.enqueue(id, [item()]);
    await fireAlarm(stub, clock);
    const row = await integrationRow(id);
    expect(row).toMatchObject({ status: "disabled", disabledReason: "destination_gone", disabledAt: clock.now });
    const health = await stub.health();
    expect(health).toMatchObject({ paused: true, paused_reason: "destination_gone", pending_deliveries: 1 });
    // Nothing more is sent while disabled, even for new notifications.
    await stub.enqueue(id, [item()]);
    await runInDurableObject(stub, (instance: IntegrationDO) => instance.alarm());
    expect(await hubRequests(bucket)).toHaveLength(1);
    const audit = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, id), eq(auditLog.action, "integration.auto_disabled")));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorType: "system", actorLabel: "Herald" });
  });

  it("disables at 60 % failed once the window holds 20 requests — not at 59 %, and tells the others", async () => {
    const { bucket, id, stub, clock } = await webhookTarget();
    // Another integration of the account, subscribed to system events (real clock: it sends by itself).
    const noticeBucket = bucketName("notice");
    await createIntegration(acme.accountId, {
      settings: { url: hubUrl(noticeBucket, "/hook") },
      events: { system: true },
    });
    // And one that is not subscribed to system events.
    const quietBucket = bucketName("quiet");
    await createIntegration(acme.accountId, {
      settings: { url: hubUrl(quietBucket, "/hook") },
      events: { security_issue: ["high"] },
    });

    // 9 successes first: one delivery each.
    for (let i = 0; i < 9; i++) {
      await stub.enqueue(id, [item(`ok${i}`)]);
      await fireAlarm(stub, clock);
    }
    await script(bucket, [], { status: 500 });
    await stub.enqueue(id, [item("failing")]);
    // Fire the retries one alarm at a time (the 0 s retry rides along with the one before it) and
    // watch the window: enabled while under 60 %, disabled by the request that reaches it.
    const seen: { requests: number; failed: number; status: string }[] = [];
    for (let guard = 0; guard < 20; guard++) {
      await fireAlarm(stub, clock);
      const { window } = await stub.health();
      const status = (await integrationRow(id)).status;
      seen.push({ requests: window.requests, failed: window.failed, status });
      if (status === "disabled") break;
    }
    const enabled = seen.filter((s) => s.status === "enabled");
    expect(enabled.every((s) => s.failed / s.requests < 0.6)).toBe(true);
    // 11/20 = 55 % with the minimum reached, ..., 13/22 = 59.09 %: still enabled.
    expect(enabled.map((s) => `${s.failed}/${s.requests}`)).toEqual(
      expect.arrayContaining(["11/20", "12/21", "13/22"]),
    );
    expect(seen.at(-1)).toEqual({ requests: 23, failed: 14, status: "disabled" }); // 60.87 %

    const row = await integrationRow(id);
    expect(row).toMatchObject({ status: "disabled", disabledReason: "auto_failure_ratio" });
    expect(row.disabledDetails).toMatchObject({
      requests: 23,
      failed: 14,
      failure_ratio: 0.6087,
      threshold_ratio: 0.6,
    });
    expect((await stub.health()).paused_reason).toBe("auto_failure_ratio");

    const [systemEvent] = (await storedEvents(acme.accountId)).filter(
      (e) => e.systemType === "integration_auto_disabled",
    );
    expect(systemEvent).toBeDefined();

    // The other integration subscribed to system events gets the notice; the disabled one does not.
    const [notice] = await waitForRequests(noticeBucket, 1);
    const [noticeBody] = JSON.parse(notice!.body) as {
      details: { notification_type: string; system: { message: string } };
    }[];
    expect(noticeBody?.details.notification_type).toBe("integration_auto_disabled");
    expect(noticeBody?.details.system.message).toContain("14 of 23 requests");
    expect(await hubRequests(quietBucket)).toHaveLength(0);

    // Every admin is emailed.
    const deadline = Date.now() + 10_000;
    const aboutThis = async () => (await mailTo(acme.users.admin.email)).filter((m) => m.subject.includes(row.name));
    let mails = await aboutThis();
    while (mails.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      mails = await aboutThis();
    }
    expect(mails.map((m) => m.subject)).toEqual([expect.stringContaining("disabled automatically")]);
    expect(mails[0]?.text).toContain("14 of 23 requests");
    expect(await mailTo(acme.users.analyst.email)).toHaveLength(0);

    // Paused: the failing delivery is kept and nothing more is sent.
    const sent = (await hubRequests(bucket)).length;
    await runInDurableObject(stub, (instance: IntegrationDO) => instance.alarm());
    expect(await hubRequests(bucket)).toHaveLength(sent);
    expect((await stub.health()).pending_deliveries).toBe(1);
  });

  it("does not disable below the minimum number of requests, even at 100 % failed", async () => {
    const { bucket, id, stub, clock } = await webhookTarget();
    await script(bucket, [], { status: 500 });
    await stub.enqueue(id, [item()]);
    await runUntilSettled(stub, clock);
    expect((await stub.health()).window).toMatchObject({ requests: 17, failed: 17 });
    expect((await integrationRow(id)).status).toBe("enabled");
  });

  it("lets failures age out of the 12-hour window", async () => {
    const { bucket, id, stub, clock } = await webhookTarget();
    await script(bucket, [], { status: 500 });
    await stub.enqueue(id, [item()]);
    await runUntilSettled(stub, clock);
    clock.now += 12 * 3_600_000;
    // 12 hours later, 17 old failures no longer count: 3 new failures are 3 of 3, under the minimum.
    await script(bucket, [{ status: 500 }, { status: 500 }, { status: 500 }], { status: 200 });
    await stub.enqueue(id, [item()]);
    for (let i = 0; i < 4; i++) await fireAlarm(stub, clock);
    expect((await stub.health()).window).toMatchObject({ requests: 4, failed: 3 });
    expect((await integrationRow(id)).status).toBe("enabled");
  });
});
