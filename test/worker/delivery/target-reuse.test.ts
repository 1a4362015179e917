/**
 * A drain reuses the send target an earlier drain loaded less than a second before, instead of
 * reading D1 (and decrypting the settings) once per delivery; pause and resume drop it at once
 * (docs/delivery.md, "The alarm").
 */
import { runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { IntegrationDO } from "../../../worker/delivery/integration-do";
import { seedAccount } from "../helpers";
import { hubRequests } from "../hub";
import { deliveryTarget, fireAlarm, item } from "./fixtures";

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
