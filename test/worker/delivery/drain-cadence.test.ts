/**
 * What a delivery costs the object under steady ingest (docs/delivery.md, "The alarm"): a drain
 * that ran empty waits a moment for the next enqueue instead of ending its run (a new alarm per
 * delivery otherwise), and reuses the send target an earlier drain loaded less than a second
 * before instead of reading D1 (and decrypting the settings) once per delivery; pause and resume
 * drop it at once.
 */
import { runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { IntegrationDO } from "../../../worker/delivery/integration-do";
import { seedAccount } from "../helpers";
import { hubRequests } from "../hub";
import { alarmOf, deliveryTarget, fireAlarm, item } from "./fixtures";

let accountId: string;
beforeAll(async () => {
  accountId = (await seedAccount("Acme Target Reuse")).accountId;
});

/** Counts the object's target loads (its D1 reads for sending). */
async function countLoads(stub: DurableObjectStub<IntegrationDO>): Promise<() => Promise<number>> {
  await runInDurableObject(stub, (instance: IntegrationDO) => {
    const load = instance.resolveTarget;
    const counted = instance as unknown as { targetLoads: number };
    counted.targetLoads = 0;
    instance.resolveTarget = (env, id) => {
      counted.targetLoads++;
      return load(env, id);
    };
  });
  return () =>
    runInDurableObject(stub, (instance: IntegrationDO) => (instance as unknown as { targetLoads: number }).targetLoads);
}

describe("the send target", () => {
  it("is loaded once for the deliveries of the next second, then again", async () => {
    const { bucket, id, stub, clock } = await deliveryTarget(accountId, { bucketPrefix: "reuse" });
    const loads = await countLoads(stub);
    for (let i = 0; i < 3; i++) {
      await stub.enqueue(id, [item(`reuse-${i}`)]);
      await fireAlarm(stub, clock);
      clock.now += 300;
    }
    expect(await hubRequests(bucket)).toHaveLength(3);
    expect(await loads()).toBe(1);
    clock.now += 1_000;
    await stub.enqueue(id, [item("reuse-later")]);
    await fireAlarm(stub, clock);
    expect(await hubRequests(bucket)).toHaveLength(4);
    expect(await loads()).toBe(2);
  });

  it("is loaded again after a pause and resume, however soon", async () => {
    const { bucket, id, stub, clock } = await deliveryTarget(accountId, { bucketPrefix: "reuse-resume" });
    const loads = await countLoads(stub);
    await stub.enqueue(id, [item("before-pause")]);
    await fireAlarm(stub, clock);
    await stub.pause();
    await stub.resume({ pending: "resume" });
    await stub.enqueue(id, [item("after-resume")]);
    await fireAlarm(stub, clock);
    expect(await hubRequests(bucket)).toHaveLength(2);
    expect(await loads()).toBe(2);
  });
});

describe("a drain that ran empty", () => {
  it("sends what is enqueued in the next moment in the same run, without a new alarm", async () => {
    const { bucket, id, stub, clock } = await deliveryTarget(accountId, { bucketPrefix: "linger" });
    // The next group's enqueue comes 10 ms after the first request's answer, as under steady ingest.
    await runInDurableObject(stub, (instance: IntegrationDO) => {
      const send = instance.fetcher;
      let first = true;
      instance.fetcher = async (input, init) => {
        const response = await send(input, init);
        if (first) setTimeout(() => void instance.enqueue(id, [item("next")]), 10);
        first = false;
        return response;
      };
    });
    await stub.enqueue(id, [item("first")]);
    await fireAlarm(stub, clock);
    expect(await hubRequests(bucket)).toHaveLength(2);
    expect((await stub.health()).pending_notifications).toBe(0);
  });

  it("ends its run when nothing comes: a later enqueue sets the alarm again", async () => {
    const { bucket, id, stub, clock } = await deliveryTarget(accountId, { bucketPrefix: "linger-end" });
    await stub.enqueue(id, [item("alone")]);
    await fireAlarm(stub, clock);
    await stub.enqueue(id, [item("later")]);
    expect(await alarmOf(stub)).toBe(clock.now);
    expect(await hubRequests(bucket)).toHaveLength(1);
    await fireAlarm(stub, clock);
    expect(await hubRequests(bucket)).toHaveLength(2);
  });
});
