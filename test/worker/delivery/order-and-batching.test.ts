import { runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { IntegrationDO } from "../../../worker/delivery/integration-do";
import { seedAccount } from "../helpers";
import { hubRequests, script } from "../hub";
import { alarmOf, deliveryTarget, fireAlarm, idsIn, item, items } from "./fixtures";

let accountId: string;
beforeAll(async () => {
  accountId = (await seedAccount()).accountId;
});

const target = (type: "webhook" | "slack") => deliveryTarget(accountId, { bucketPrefix: type, type });

describe("order and batching", () => {
  it("holds newer notifications behind a delivery in backoff, then sends them oldest first in full batches", async () => {
    const { bucket, id, stub, clock } = await target("webhook");
    await script(bucket, [{ status: 500 }]);
    const head = item("head");
    await stub.enqueue(id, [head]);
    await fireAlarm(stub, clock); // the head fails; its retry is due in 1 s

    // A burst arrives while the head waits: nothing of it may overtake the head.
    const burst = items(250, "burst");
    for (let i = 0; i < burst.length; i += 50) await stub.enqueue(id, burst.slice(i, i + 50));
    expect(await alarmOf(stub)).toBe(clock.now + 1000);
    expect(await hubRequests(bucket)).toHaveLength(1);

    await fireAlarm(stub, clock); // the head's retry succeeds, then the queue drains in the same run
    const requests = await hubRequests(bucket);
    expect(requests.map((r) => idsIn(r).length)).toEqual([1, 1, 100, 100, 50]);
    // The head's retry carries exactly what its first request carried (same id, same content).
    expect(idsIn(requests[1]!)).toEqual([head.notification.id]);
    expect(requests[1]!.headers["webhook-id"]).toBe(requests[0]!.headers["webhook-id"]);
    // Every notification delivered exactly once, in the order it was enqueued.
    const delivered = requests.slice(1).flatMap(idsIn);
    expect(delivered).toEqual([head, ...burst].map((n) => n.notification.id));
    expect(new Set(requests.slice(2).map((r) => r.headers["webhook-id"])).size).toBe(3);
    expect((await stub.health()).pending_notifications).toBe(0);
  });

  it("stores an enqueue larger than one statement's parameter whole and once, and sends it in order", async () => {
    const { id, stub, clock, bucket } = await target("webhook");
    // 300 items of ~4 KB: about 1.2 MB of JSON, more than two of the store's 512 KB statements.
    const burst = items(300, "big").map((n) => ({
      ...n,
      notification: { ...n.notification, description: `${n.notification.description}\n${"x".repeat(4000)}` },
    }));
    await stub.enqueue(id, burst);
    await stub.enqueue(id, burst.slice(100, 250)); // a re-send of part of it adds nothing
    expect((await stub.health()).pending_notifications).toBe(300);
    await fireAlarm(stub, clock);
    const requests = await hubRequests(bucket);
    expect(requests.map((r) => idsIn(r).length)).toEqual([100, 100, 100]);
    expect(requests.flatMap(idsIn)).toEqual(burst.map((n) => n.notification.id));
    const page = await stub.listDeliveries({ state: "delivered", limit: 10 });
    // Each delivery lists its own notifications in position order.
    for (const delivery of page.deliveries) {
      const request = requests.find((r) => r.headers["webhook-id"] === delivery.id);
      expect(delivery.notifications.map((n) => n.event_id)).toEqual(request ? idsIn(request) : []);
    }
  });

  it("drains a one-per-request system (Slack) in order once the head succeeds", async () => {
    const { bucket, id, stub, clock } = await target("slack");
    await script(bucket, [{ status: 503 }, { status: 503 }]);
    const burst = items(6, "slack");
    await stub.enqueue(id, burst);
    await fireAlarm(stub, clock); // request 1 fails
    await fireAlarm(stub, clock); // retry 1 fails
    expect(await hubRequests(bucket)).toHaveLength(2);
    await fireAlarm(stub, clock); // retry 2 succeeds, the other five follow in order
    const requests = await hubRequests(bucket);
    expect(requests).toHaveLength(8);
    const titles = requests.map((r) => /\((slack\d)\)/.exec(r.body)?.[1]);
    expect(titles).toEqual(["slack0", "slack0", "slack0", "slack1", "slack2", "slack3", "slack4", "slack5"]);
    const page = await stub.listDeliveries({ state: "delivered", limit: 10 });
    expect(page.deliveries).toHaveLength(6);
    expect(page.deliveries.every((d) => d.notifications.length === 1)).toBe(true);
  });

  it("never lets a slow receiver's queue run two requests at once", async () => {
    const { bucket, id, stub } = await target("webhook");
    await script(bucket, [], { status: 200, delayMs: 50 });
    await stub.enqueue(id, items(3));
    // Three alarm runs racing: only one request is on the wire at any moment.
    await runInDurableObject(stub, (instance: IntegrationDO) =>
      Promise.all([instance.alarm(), instance.alarm(), instance.alarm()]),
    );
    const requests = await hubRequests(bucket);
    expect(requests.flatMap(idsIn)).toHaveLength(3);
    expect(requests).toHaveLength(1);
  });

  it("sends a report notification alone, never merged with event notifications", async () => {
    const { bucket, id, stub, clock } = await target("webhook");
    const report = { ...item("report"), reportId: "report-that-was-purged" };
    const [before, after] = [item("before"), item("after")];
    await stub.enqueue(id, [before, report, after]);
    await fireAlarm(stub, clock);
    const requests = await hubRequests(bucket);
    expect(requests.map(idsIn)).toEqual([[before.notification.id], [report.notification.id], [after.notification.id]]);
  });
});
