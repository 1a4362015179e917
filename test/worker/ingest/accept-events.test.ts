import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type AcceptEventsInput, acceptEvents } from "../../../worker/ingest/accept-events";
import { createNode, hit, integration, queued, tenant } from "./support";

/** The use case called as the route calls it, without HTTP: its answers are typed results. */
function input(token: string, body: unknown, overrides: Partial<AcceptEventsInput> = {}): AcceptEventsInput {
  const background: Promise<unknown>[] = [];
  return {
    token,
    body: Promise.resolve(body),
    limit: 600,
    now: Date.now(),
    waitUntil: (promise) => background.push(promise),
    ...overrides,
  };
}

describe("the ingest use case (worker/ingest/accept-events.ts)", () => {
  it("stores, queues and answers counts; a re-send is all duplicates", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const hook = await integration(acme.accountId, { hit: true });
    const batch = { events: [hit(), hit()] };

    expect(await acceptEvents(env, input(node.token, batch))).toEqual({
      outcome: "accepted",
      accepted: 2,
      duplicates: 0,
    });
    expect((await queued(hook)).size).toBe(2);
    expect(await acceptEvents(env, input(node.token, batch))).toEqual({
      outcome: "accepted",
      accepted: 0,
      duplicates: 2,
    });
  });

  it("answers refusals as results, not HTTP errors", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);

    expect(await acceptEvents(env, input("hnode_wrong", { events: [hit()] }))).toEqual({ outcome: "unknown_token" });
    const invalid = await acceptEvents(env, input(node.token, { events: [{ ...hit(), occurred_at: "not a time" }] }));
    expect(invalid.outcome).toBe("invalid");
    expect(invalid.outcome === "invalid" && invalid.errors[0]).toMatchObject({
      index: 0,
      field: "events.0.occurred_at",
    });
    expect(await acceptEvents(env, input(node.token, { events: [hit()] }, { limit: 1 }))).toMatchObject({
      outcome: "rate_limited",
      limit: 1,
    });
  });

  it("a body that cannot be read rejects with the body's own error", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const unreadable = new Error("body too large");
    await expect(acceptEvents(env, input(node.token, null, { body: Promise.reject(unreadable) }))).rejects.toBe(
      unreadable,
    );
  });
});
