import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { IntegrationDO } from "../../../worker/delivery/integration-do";
import { DEFAULT_RETRY_SCHEDULE_SECONDS, parseRetrySchedule } from "../../../worker/domain/retry-schedule";
import { seedAccount } from "../helpers";
import { bucketName, hubRequests, hubUrl, script, waitForRequests } from "../hub";
import { alarmOf, createIntegration, deliveryTarget, fireAlarm, idsIn, item, stubFor, TestClock } from "./fixtures";

let accountId: string;
beforeAll(async () => {
  accountId = (await seedAccount()).accountId;
});

/** A webhook integration aimed at a fresh hub bucket, its object, and the object's clock. */
const webhookTarget = () => deliveryTarget(accountId, { bucketPrefix: "retry" });

describe("delivery and the retry schedule", () => {
  it("uses the seed's schedule from wrangler.toml", () => {
    expect(parseRetrySchedule(env.RETRY_SCHEDULE)).toEqual([...DEFAULT_RETRY_SCHEDULE_SECONDS]);
  });

  it("stores before enqueue returns, sends at once, and keeps one delivery id in webhook-id", async () => {
    const { bucket, id, stub, clock } = await webhookTarget();
    const notification = item("first");
    await stub.enqueue(id, [notification]);
    // Durable before the alarm ran: the object already lists it as queued.
    expect((await stub.listDeliveries({ limit: 10 })).queued_notifications).toBe(1);
    expect(await alarmOf(stub)).toBe(clock.now);

    await fireAlarm(stub, clock);
    const requests = await hubRequests(bucket);
    expect(requests).toHaveLength(1);
    expect(idsIn(requests[0]!)).toEqual([notification.notification.id]);

    const page = await stub.listDeliveries({ state: "delivered", limit: 10 });
    expect(page.deliveries).toHaveLength(1);
    const delivery = page.deliveries[0]!;
    expect(requests[0]!.headers["webhook-id"]).toBe(delivery.id);
    expect(delivery.notifications.map((n) => n.id)).toEqual([notification.notification.id]);
    expect(delivery.attempts).toMatchObject([{ number: 1, ok: true, status: 200, error: null }]);
    expect(delivery.attempts[0]!.request_body).toContain(notification.notification.id);
    // Nothing is due any more: the only alarm left is the retention prune 30 days on.
    expect(await alarmOf(stub)).toBe(clock.now + 30 * 86_400_000);
  });

  it("waits exactly the schedule before each of the 16 retries, then the delivery is dead and kept", async () => {
    const { bucket, id, stub, clock } = await webhookTarget();
    await script(bucket, [], { status: 500, body: "boom" });
    await stub.enqueue(id, [item("doomed")]);
    await fireAlarm(stub, clock); // request 1

    // Each alarm is set exactly one scheduled delay after the failure it follows; the clock jumps
    // to it. (A 0 s retry is made at once, inside the same alarm run.)
    const alarmWaits: number[] = [];
    for (let guard = 0; guard < 20; guard++) {
      const [pending] = (await stub.listDeliveries({ state: "pending", limit: 1 })).deliveries;
      if (!pending) break;
      const before = clock.now;
      const at = await fireAlarm(stub, clock);
      alarmWaits.push((at - before) / 1000);
    }
    expect(alarmWaits).toEqual(DEFAULT_RETRY_SCHEDULE_SECONDS.filter((s) => s > 0));

    const [deadDelivery] = (await stub.listDeliveries({ state: "dead", limit: 1 })).deliveries;
    const times = deadDelivery!.attempts.map((a) => a.at);
    const waits = times.slice(1).map((t, i) => (t - times[i]!) / 1000);
    expect(waits).toEqual([...DEFAULT_RETRY_SCHEDULE_SECONDS]);
    // Each request was made at the time planned for it.
    expect(deadDelivery!.attempts.every((a) => a.planned_at === a.at)).toBe(true);

    const requests = await hubRequests(bucket);
    expect(requests).toHaveLength(17);
    expect(new Set(requests.map((r) => r.headers["webhook-id"])).size).toBe(1);

    const dead = (await stub.listDeliveries({ state: "dead", limit: 10 })).deliveries;
    expect(dead).toHaveLength(1);
    expect(dead[0]!.requests).toBe(17);
    expect(dead[0]!.attempts.map((a) => a.status)).toEqual(Array(17).fill(500));
    expect(dead[0]!.attempts[16]!.error).toContain("HTTP 500");
    expect(dead[0]!.notifications).toHaveLength(1);
    // Dead means nothing else is due: no further request is planned.
    expect(await runDurableObjectAlarm(stub)).toBe(true); // the prune wake-up, 30 days on
    expect(await hubRequests(bucket)).toHaveLength(17);
    const health = await stub.health();
    expect(health.dead_deliveries).toBe(1);
    expect(health.pending_notifications).toBe(0);
  });

  it("stops retrying when a retry succeeds mid-cycle", async () => {
    const { bucket, id, stub, clock } = await webhookTarget();
    await script(bucket, [
      { status: 500 },
      { status: 502 },
      { status: 503 },
      { status: 302, headers: { Location: "/elsewhere" } },
    ]);
    await stub.enqueue(id, [item()]);
    for (let i = 0; i < 5; i++) await fireAlarm(stub, clock);
    const requests = await hubRequests(bucket);
    expect(requests).toHaveLength(5);
    const delivered = (await stub.listDeliveries({ state: "delivered", limit: 5 })).deliveries;
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.attempts.map((a) => [a.status, a.ok])).toEqual([
      [500, false],
      [502, false],
      [503, false],
      [302, false], // a redirect is a failure, not followed
      [200, true],
    ]);
    expect(await alarmOf(stub)).toBe(clock.now + 30 * 86_400_000);
  });

  it("lets Retry-After lengthen a wait but never shorten it", async () => {
    const { bucket, id, stub, clock } = await webhookTarget();
    await script(bucket, [
      { status: 429, headers: { "Retry-After": "7" } }, // planned 1 s → 7 s
      { status: 503, headers: { "Retry-After": "1" } }, // planned 3 s → stays 3 s
    ]);
    await stub.enqueue(id, [item()]);
    await fireAlarm(stub, clock);
    expect((await alarmOf(stub))! - clock.now).toBe(7000);
    await fireAlarm(stub, clock);
    expect((await alarmOf(stub))! - clock.now).toBe(3000);
    await fireAlarm(stub, clock);
    const [delivery] = (await stub.listDeliveries({ limit: 1 })).deliveries;
    expect(delivery?.state).toBe("delivered");
    expect(delivery?.attempts.map((a) => a.retry_after_seconds)).toEqual([7, 1, null]);
  });

  it("retries a network error on schedule like any failure", async () => {
    const id = await createIntegration(accountId, { settings: { url: "http://127.0.0.1:9/closed" } });
    const stub = stubFor(id);
    const clock = new TestClock();
    await clock.install(stub);
    await stub.enqueue(id, [item()]);
    await fireAlarm(stub, clock);
    expect((await alarmOf(stub))! - clock.now).toBe(1000);
    const [delivery] = (await stub.listDeliveries({ state: "pending", limit: 1 })).deliveries;
    expect(delivery?.attempts[0]).toMatchObject({ ok: false, status: null, error_kind: "network" });
  });

  it("records nothing twice when two alarms run at once, or an alarm runs again", async () => {
    const { bucket, id, stub } = await webhookTarget();
    // A slow receiver keeps the first alarm inside `await fetch` while the second one runs.
    await script(bucket, [{ status: 200, delayMs: 300 }]);
    await stub.enqueue(id, [item()]);
    await runInDurableObject(stub, (instance: IntegrationDO) => Promise.all([instance.alarm(), instance.alarm()]));
    await runInDurableObject(stub, (instance: IntegrationDO) => instance.alarm());
    expect(await hubRequests(bucket)).toHaveLength(1);
    const page = await stub.listDeliveries({ limit: 10 });
    expect(page.deliveries).toHaveLength(1);
    expect(page.deliveries[0]!.attempts).toHaveLength(1);
  });

  it("notifies a re-sent notification once", async () => {
    const { bucket, id, stub, clock } = await webhookTarget();
    const same = item("dup");
    await stub.enqueue(id, [same, same]);
    await stub.enqueue(id, [same]);
    await fireAlarm(stub, clock);
    await stub.enqueue(id, [same]); // after it was delivered, too
    expect(await alarmOf(stub)).toBe(clock.now + 30 * 86_400_000);
    const requests = await hubRequests(bucket);
    expect(requests.flatMap(idsIn)).toEqual([same.notification.id]);
  });

  it("retries a request cut off by a restart after its lease, without counting it as the receiver's failure", async () => {
    const { bucket, id, stub, clock } = await webhookTarget();
    await stub.enqueue(id, [item()]);
    // Claim as the alarm does, then "crash": the outcome is never recorded.
    await runInDurableObject(stub, (instance: IntegrationDO) => {
      const store = (instance as unknown as { store: import("../../../worker/delivery/store").DeliveryStore }).store;
      store.claimNext(clock.now, 100, 90_000, () => crypto.randomUUID());
    });
    expect((await stub.listDeliveries({ limit: 1 })).deliveries[0]?.in_flight).toBe(true);
    clock.now += 90_000; // the lease ends
    await runInDurableObject(stub, (instance: IntegrationDO) => instance.alarm());
    let [delivery] = (await stub.listDeliveries({ limit: 1 })).deliveries;
    expect(delivery?.attempts[0]).toMatchObject({ ok: false, error_kind: "interrupted" });
    expect(delivery?.next_attempt_at).toBe(clock.now + 1000);
    expect((await stub.health()).window.requests).toBe(0);

    await fireAlarm(stub, clock);
    [delivery] = (await stub.listDeliveries({ limit: 1 })).deliveries;
    expect(delivery?.state).toBe("delivered");
    expect(await hubRequests(bucket)).toHaveLength(1);
  });

  it("after a restart, retries at once a request whose outcome was lost, instead of waiting for the lease", async () => {
    const bucket = bucketName("evict");
    const id = await createIntegration(accountId, { settings: { url: hubUrl(bucket, "/hook") } });
    const stub = stubFor(id);
    await stub.pause(); // keeps the real-clock alarm from sending while the test sets the scene
    await stub.enqueue(id, [item()]);
    await runInDurableObject(stub, (instance: IntegrationDO) => {
      const store = (instance as unknown as { store: import("../../../worker/delivery/store").DeliveryStore }).store;
      store.claimNext(Date.now(), 100, 90_000, () => crypto.randomUUID());
    });
    expect((await stub.listDeliveries({ limit: 1 })).deliveries[0]?.in_flight).toBe(true);
    await evictDurableObject(stub); // the instance that held the lease is gone
    const [delivery] = (await stub.listDeliveries({ limit: 1 })).deliveries;
    expect(delivery?.in_flight).toBe(false);
    expect(delivery?.attempts).toMatchObject([{ number: 1, ok: false, error_kind: "interrupted" }]);
    expect(delivery!.next_attempt_at! - Date.now()).toBeLessThanOrEqual(1000);
    await stub.resume({ pending: "resume" });
    const requests = await waitForRequests(bucket, 1);
    expect(requests).toHaveLength(1);
  });
});

describe("requests in a period (a report's integration health)", () => {
  it("counts the requests made in the period, failed ones apart, as far back as the log reaches", async () => {
    const { bucket, id, stub, clock } = await webhookTarget();
    await script(bucket, [{ status: 500, body: "boom" }], { status: 200, body: "{}" });
    const start = clock.now;
    await stub.enqueue(id, [item("a")]);
    await fireAlarm(stub, clock); // fails
    await fireAlarm(stub, clock); // the first retry, 1 s later, succeeds
    clock.now = start + 3_600_000;
    await stub.enqueue(id, [item("b")]);
    await fireAlarm(stub, clock); // succeeds, an hour later

    expect(await stub.periodHealth(start, start + 3_600_000)).toEqual({
      from: start,
      to: start + 3_600_000,
      requests: 2,
      failed: 1,
    });
    expect(await stub.periodHealth(start, start + 7_200_000)).toMatchObject({ requests: 3, failed: 1 });
    expect(await stub.periodHealth(start + 7_200_000, start + 86_400_000)).toMatchObject({ requests: 0, failed: 0 });

    // 31 days on, a month asked for starts before the log's 30-day horizon: the answer says so.
    clock.now = start + 31 * 86_400_000;
    const month = await stub.periodHealth(start - 86_400_000, clock.now);
    expect(month.from).toBe(clock.now - 30 * 86_400_000);
    expect(month).toMatchObject({ to: clock.now, requests: 0 });
  });
});
