/**
 * The account object's alarm pushes the sizes of the shards it wrote to the D1 directory (at most
 * once a minute: docs/data-plane.md#directory), which the capacity figures and splits read.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { eventShards } from "../../../worker/db/schema";
import { db, login, seedAccount } from "../helpers";
import { accountObject, createNode, hit, json, postEvents } from "./support";

/** An account whose node posted 20 hits: its account object. */
async function accountAfterTwentyHits(name: string) {
  const account = await seedAccount(name);
  const node = await createNode(await login(account.users.admin.email));
  const events = Array.from({ length: 20 }, () => hit());
  expect(await json(await postEvents(node.token, { events }))).toEqual({ accepted: 20, duplicates: 0 });
  return { accountId: account.accountId, object: accountObject(account.accountId) };
}

async function expectSizesInDirectory(accountId: string) {
  const rows = await db().select().from(eventShards).where(eq(eventShards.accountId, accountId));
  expect(rows).toHaveLength(1);
  expect(rows[0]?.events).toBeGreaterThanOrEqual(20); // and the node_created system event
  expect(rows[0]?.bytes).toBeGreaterThan(0);
}

describe("shard sizes in the directory", () => {
  it("are written by the account object's alarm after a write", async () => {
    const { accountId, object } = await accountAfterTwentyHits("Acme Sizes");
    expect(await runInDurableObject(object, (_instance, state) => state.storage.getAlarm())).not.toBeNull();
    expect(await runDurableObjectAlarm(object)).toBe(true);
    await expectSizesInDirectory(accountId);
  });

  it("are written by an alarm that runs in a new instance (the object was evicted after the write)", async () => {
    const { accountId, object } = await accountAfterTwentyHits("Acme Sizes Evicted");
    // An idle object is evicted long before its alarm a minute later (wrangler dev: seconds).
    await evictDurableObject(object);
    expect(await runDurableObjectAlarm(object)).toBe(true);
    await expectSizesInDirectory(accountId);
  });
});
