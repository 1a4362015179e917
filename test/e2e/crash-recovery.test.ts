/**
 * A crash mid-request: Herald under `wrangler dev` is killed (SIGKILL to wrangler and workerd)
 * while a receiver holds its request open, then started again on the same state directory.
 * Nothing calls the integration after the restart: the resumption must come from Herald itself,
 * within 15 s of the runtime being back (README, Delivery).
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiSession, type HeraldProcess, startHerald } from "../support/herald-process.ts";
import { type ReceiverHub, startReceiverHub } from "../support/receiver-hub.ts";

const RESUME_WITHIN_MS = 15_000;

let hub: ReceiverHub;
let herald: HeraldProcess;
let admin: ApiSession;

beforeAll(async () => {
  hub = await startReceiverHub();
  herald = await startHerald();
  admin = await herald.signIn();
});

afterAll(async () => {
  await herald?.stop();
  await hub?.close();
});

describe("a runtime killed mid-request", () => {
  it("resumes sending within 15 s of the restart, with the same delivery id", async () => {
    const created = await admin.call("POST", "/api/integrations", {
      type: "webhook",
      name: "Slow receiver",
      settings: { url: hub.urlFor("slow"), method: "POST", headers: [], format: "json_array", timeout_seconds: 60 },
      events: { incident: true },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const integrationId: string = created.body.integration.id;
    const node = await admin.call("POST", "/api/nodes", { name: "crash node" });
    expect(node.status).toBe(201);

    // The first request is held open for a minute (the kill comes long before); then 200.
    hub.script("slow", [{ status: 200, delayMs: 60_000 }], { status: 200 });
    const eventId = randomUUID();
    const posted = await fetch(`${herald.url}/v1/events`, {
      method: "POST",
      headers: { Authorization: `Bearer ${node.body.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        events: [
          {
            id: eventId,
            type: "incident",
            occurred_at: new Date().toISOString(),
            security_issue_id: randomUUID(),
            attack_type: "sqli",
            host: "shop.example.com",
            method: "POST",
            path: "/api/login",
            remote_addr: "203.0.113.7",
            response_status: 403,
            block_status: "blocked",
            payload: "' OR 1=1 --",
            point: "post.json.user",
          },
        ],
      }),
    });
    expect(posted.status, await posted.clone().text()).toBe(202);
    const [held] = await hub.waitForRequests("slow", 1);

    await herald.kill();
    await herald.restart();
    const backAt = Date.now();
    // Only the receiver is watched: any API call touching the integration would wake it up.
    const requests = await hub.waitForRequests("slow", 2, RESUME_WITHIN_MS + 5_000);
    const resumedAfterMs = requests[1]!.receivedAt - backAt;
    console.log(`delivery resumed ${(resumedAfterMs / 1000).toFixed(1)} s after the restart`);
    expect(resumedAfterMs).toBeLessThanOrEqual(RESUME_WITHIN_MS);
    // The same delivery, so a receiver that de-duplicates by webhook-id sees it once.
    expect(requests[1]!.headers["webhook-id"]).toBe(held!.headers["webhook-id"]);
    expect(requests[1]!.body).toContain(eventId);

    const page = await admin.call("GET", `/api/integrations/${integrationId}/deliveries?limit=10`);
    expect(page.status).toBe(200);
    expect(page.body.deliveries).toHaveLength(1);
    expect(page.body.deliveries[0]).toMatchObject({ state: "delivered" });
    expect(page.body.deliveries[0].attempts.map((a: { error_kind: string | null }) => a.error_kind)).toEqual([
      "interrupted",
      null,
    ]);
  });
});
