/**
 * A runtime that dies mid-request must not leave the integration waiting for its lease to end: while
 * a request is in flight the stored alarm stays a few seconds ahead, so a restart finds it due and
 * retries the request (the end-to-end kill and restart is test/e2e/crash-recovery.test.ts).
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { IntegrationDO } from "../../../worker/delivery/integration-do";
import type { DeliveryStore } from "../../../worker/delivery/store";
import { seedAccount } from "../helpers";
import { hubRequests, script, waitForRequests } from "../hub";
import { alarmOf, deliveryTarget, fireAlarm, item } from "./fixtures";

/** How soon a restarted runtime must resume sending (README, Delivery). */
const RESUME_WITHIN_MS = 15_000;

let accountId: string;
beforeAll(async () => {
  accountId = (await seedAccount("Acme Crash")).accountId;
});

describe("an alarm that a restart finds", () => {
  it("stays within seconds while a request is in flight, also when more is queued meanwhile", async () => {
    const { bucket, id, stub, clock } = await deliveryTarget(accountId, { bucketPrefix: "in-flight" });
    await script(bucket, [{ status: 200, body: "{}", delayMs: 1500 }], { status: 200, body: "{}" });
    await stub.enqueue(id, [item("slow")]);
    clock.now = (await alarmOf(stub))!;
    const run = runDurableObjectAlarm(stub);
    await waitForRequests(bucket, 1);

    // The request is open: the stored alarm is what a runtime killed now would wake up with.
    const during = await alarmOf(stub);
    expect(during).not.toBeNull();
    expect(during! - clock.now).toBeLessThanOrEqual(RESUME_WITHIN_MS);
    await stub.enqueue(id, [item("queued meanwhile")]);
    expect((await alarmOf(stub))! - clock.now).toBeLessThanOrEqual(RESUME_WITHIN_MS);

    expect(await run).toBe(true);
    // The same run sent what was queued meanwhile; then the alarm is the real next due time again
    // (nothing to send: the retention prune, 30 days on).
    expect(await hubRequests(bucket)).toHaveLength(2);
    expect(await alarmOf(stub)).toBe(clock.now + 30 * 86_400_000);
  });

  it("recovers at once a lease that no running request holds, not when the lease would end", async () => {
    const { bucket, id, stub, clock } = await deliveryTarget(accountId, { bucketPrefix: "orphan" });
    await stub.enqueue(id, [item()]);
    // A lease taken by a run that is gone (its outcome never recorded), in this same instance.
    await runInDurableObject(stub, (instance: IntegrationDO) => {
      (instance as unknown as { store: DeliveryStore }).store.claimNext(clock.now, 100, 90_000, () =>
        crypto.randomUUID(),
      );
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const [delivery] = (await stub.listDeliveries({ limit: 1 })).deliveries;
    expect(delivery?.attempts).toMatchObject([{ ok: false, error_kind: "interrupted" }]);
    expect(delivery?.in_flight).toBe(false);
    // Made again after 1 s, not after the 90 s lease.
    expect(await alarmOf(stub)).toBe(clock.now + 1000);
    await fireAlarm(stub, clock);
    expect(await hubRequests(bucket)).toHaveLength(1);
  });

  it("retries a cut-off request after 1 s even late in the schedule, using up none of its retries", async () => {
    const { id, stub, clock } = await deliveryTarget(accountId, { bucketPrefix: "late-cycle" });
    await stub.enqueue(id, [item()]);
    const failedInCycle = async () =>
      runInDurableObject(stub, (_instance: IntegrationDO, state) => {
        return state.storage.sql.exec<{ n: number }>("SELECT failed_in_cycle AS n FROM deliveries").one().n;
      });
    // Eleven failures in: the next scheduled wait would be 60 s. Its twelfth request is cut off.
    await runInDurableObject(stub, (instance: IntegrationDO, state) => {
      (instance as unknown as { store: DeliveryStore }).store.claimNext(clock.now, 100, 90_000, () =>
        crypto.randomUUID(),
      );
      state.storage.sql.exec("UPDATE deliveries SET failed_in_cycle = 11");
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const [delivery] = (await stub.listDeliveries({ limit: 1 })).deliveries;
    expect(delivery?.attempts).toMatchObject([{ error_kind: "interrupted" }]);
    expect(await alarmOf(stub)).toBe(clock.now + 1000);
    expect(await failedInCycle()).toBe(11);
  });
});
