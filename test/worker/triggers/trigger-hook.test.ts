import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Trigger } from "../../../worker/domain/triggers";
import type { ControlSnapshot, SnapshotNode } from "../../../worker/ingest/control-snapshot";
import { TriggerHook } from "../../../worker/ingest/trigger-hook";
import { MINUTE, T0, trigger } from "./fixtures";

/**
 * The trigger hook of the account object (worker/ingest/trigger-hook.ts) between groups of
 * requests: a group asks for node-silence notices only once a deadline may have passed or a
 * silent node posts, and must then carry every notice the deadline or the post calls for.
 */

const node = (id: string): SnapshotNode => ({
  id,
  name: `waf ${id}`,
  revoked: false,
  createdAt: T0 - 60 * MINUTE,
  eventsCount: 0,
  lastSeenAt: null,
});

function control(triggers: Trigger[]): ControlSnapshot {
  const nodes = [node("node-1"), node("node-2")];
  return {
    accountName: "Acme",
    timeZone: "UTC",
    nodesByTokenHash: new Map(),
    nodesById: new Map(nodes.map((n) => [n.id, n])),
    targets: [{ id: "integration-1", events: {} }],
    triggers,
    silences: [],
  };
}

const context = { accountName: "Acme", publicUrl: "https://herald.example.com" };

async function withHook<T>(body: (hook: TriggerHook) => T): Promise<T> {
  const stub = env.INTEGRATION_DO.get(env.INTEGRATION_DO.idFromName(`trigger-hook-test-${crypto.randomUUID()}`));
  return runInDurableObject(stub, (_instance, state) => body(new TriggerHook(state.storage.sql)));
}

/** One group in which `nodes` posted (no events): the notices' types and nodes. */
function group(hook: TriggerHook, snapshot: ControlSnapshot, nodes: string[], at: number) {
  const { plan } = hook.evaluate(snapshot, [], new Map(nodes.map((id) => [id, at])), context, at);
  return (plan.get("integration-1") ?? []).map((item) => {
    const details = item.notification.details as { notification_type: string; node?: { id: string } };
    return `${details.notification_type} ${details.node?.id}`;
  });
}

describe("trigger hook: node silence between groups", () => {
  it("a deadline passed while other nodes post is noticed by the next group; the silent node's post recovers it", async () => {
    await withHook((hook) => {
      const snapshot = control([
        trigger({ condition: { kind: "node_silence", node_id: null, silence_minutes: 10 } }),
        trigger({ condition: { kind: "threshold", count: 5, window_minutes: 5 } }),
      ]);
      expect(group(hook, snapshot, ["node-1", "node-2"], T0)).toEqual([]);
      expect(group(hook, snapshot, ["node-1"], T0 + 5 * MINUTE)).toEqual([]);
      expect(group(hook, snapshot, ["node-1"], T0 + 10 * MINUTE - 1)).toEqual([]);
      // node-2's deadline (T0 + 10 min) has passed: the next group carries its notice, once.
      expect(group(hook, snapshot, ["node-1"], T0 + 10 * MINUTE + 1)).toEqual(["node_silent node-2"]);
      expect(group(hook, snapshot, ["node-1"], T0 + 11 * MINUTE)).toEqual([]);
      expect(group(hook, snapshot, ["node-2"], T0 + 12 * MINUTE)).toEqual(["node_recovered node-2"]);
      expect(group(hook, snapshot, ["node-2"], T0 + 13 * MINUTE)).toEqual([]);
      // node-1 last posted at T0 + 11 min; node-2 at T0 + 13 min.
      expect(group(hook, snapshot, ["node-2"], T0 + 21 * MINUTE)).toEqual(["node_silent node-1"]);
    });
  });

  it("a new snapshot (a new node-silence trigger) is checked at its first group", async () => {
    await withHook((hook) => {
      const none = control([trigger({ condition: { kind: "threshold", count: 5, window_minutes: 5 } })]);
      expect(group(hook, none, ["node-1"], T0)).toEqual([]);
      const watched = control([
        trigger({ condition: { kind: "node_silence", node_id: "node-2", silence_minutes: 10 } }),
      ]);
      // node-2 never posted: its deadline counts from its creation, long past.
      expect(group(hook, watched, ["node-1"], T0 + MINUTE)).toEqual(["node_silent node-2"]);
    });
  });
});
