import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { IntegrationDO } from "../../../worker/delivery/integration-do";
import type { Env } from "../../../worker/env";
import { resolveSendTarget } from "../../../worker/integrations/send-target";
import { runTestSend } from "../../../worker/integrations/test-send";
import { seedAccount } from "../helpers";
import { hubRequests } from "../hub";
import { deliveryTarget, fireAlarm, item } from "./fixtures";

// URL rules are checked on save, and again at send time: a destination saved while the
// deployment allowed private addresses is not reached once it no longer does.
describe("destination rules at send time", () => {
  it("sends nothing to a saved destination the deployment now refuses, and says why", async () => {
    const acme = await seedAccount();
    const { bucket, id, stub, clock } = await deliveryTarget(acme.accountId, { bucketPrefix: "rules" });
    // The receiver hub is on 127.0.0.1: allowed by the test deployment, refused by production rules.
    await runInDurableObject(stub, (instance: IntegrationDO) => {
      const withEnv = instance as unknown as { env: Env };
      withEnv.env = { ...withEnv.env, ALLOW_PRIVATE_DESTINATIONS: "false" };
    });
    await stub.enqueue(id, [item("to a private address")]);
    await fireAlarm(stub, clock);

    expect(await hubRequests(bucket)).toHaveLength(0);
    const page = await stub.listDeliveries({ state: "pending", limit: 10 });
    const attempt = page.deliveries[0]?.attempts[0];
    expect(attempt?.ok).toBe(false);
    expect(attempt?.error).toContain("settings.url is refused by this deployment's rules");
  });

  it("refuses a test send of a saved integration the same way (nothing reaches the receiver)", async () => {
    const acme = await seedAccount();
    const { bucket, id } = await deliveryTarget(acme.accountId, { bucketPrefix: "rules-test" });
    const target = (await resolveSendTarget(env, id))!;
    const results = await runTestSend(
      { ...env, ALLOW_PRIVATE_DESTINATIONS: "false" },
      { ...target, events: { system: true, incident: true } },
    );
    expect(results.length).toBe(2);
    expect(results[0]?.ok).toBe(false);
    expect(results[0]?.error).toContain("settings.url is refused by this deployment's rules");
    expect(await hubRequests(bucket)).toHaveLength(0);
  });
});
