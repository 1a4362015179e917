import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { auditLog } from "../../../worker/db/schema";
import { api, db, json, login, type SeededAccount, type Session, seedAccount } from "../helpers";
import { hubRequests, script } from "../hub";
import { deliveryTarget, fireAlarm, item, items, stubFor, type TestClock } from "./fixtures";

let acme: SeededAccount;
let admin: Session;
let integrationId: string;
let bucket: string;
let clock: TestClock;

// One integration with a known history: one dead delivery (17 × 500), then two delivered ones.
beforeAll(async () => {
  acme = await seedAccount("Acme Routes");
  admin = await login(acme.users.admin.email);
  const target = await deliveryTarget(acme.accountId, { bucketPrefix: "routes" });
  ({ bucket, id: integrationId, clock } = target);
  const stub = target.stub;
  await script(bucket, Array(17).fill({ status: 500, body: "down" }));
  await stub.enqueue(integrationId, [item("dead one")]);
  for (let i = 0; i < 40 && (await stub.health()).pending_notifications > 0; i++) await fireAlarm(stub, clock);
  await stub.enqueue(integrationId, [item("second")]);
  await fireAlarm(stub, clock);
  await stub.enqueue(integrationId, items(2, "third"));
  await fireAlarm(stub, clock);
});

const path = (suffix = "") => `/api/integrations/${integrationId}${suffix}`;

describe("delivery log routes", () => {
  it("lists deliveries newest first with notifications and attempts, filtered by state, page by page", async () => {
    const all = await json(await api(admin, "GET", path("/deliveries")));
    expect(all.deliveries.map((d: { state: string }) => d.state)).toEqual(["delivered", "delivered", "dead"]);
    expect(all.deliveries[0].notifications).toHaveLength(2);
    expect(all.deliveries[0].notifications[0]).toMatchObject({ notification_type: "security_issue" });

    const dead = await json(await api(admin, "GET", path("/deliveries?state=dead")));
    expect(dead.deliveries).toHaveLength(1);
    expect(dead.deliveries[0].attempts).toHaveLength(17);
    expect(dead.deliveries[0].attempts[0]).toMatchObject({
      number: 1,
      ok: false,
      status: 500,
      latency_ms: expect.any(Number),
    });
    expect(dead.deliveries[0].attempts[0].error).toContain("HTTP 500");
    expect(dead.deliveries[0].attempts[0].request_body).toContain("dead one");

    const first = await json(await api(admin, "GET", path("/deliveries?limit=2")));
    expect(first.deliveries).toHaveLength(2);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await json(await api(admin, "GET", path(`/deliveries?limit=2&cursor=${first.next_cursor}`)));
    expect(second.deliveries.map((d: { state: string }) => d.state)).toEqual(["dead"]);
    expect(second.next_cursor).toBeNull();
  });

  it("names a bad query field", async () => {
    const res = await api(admin, "GET", path("/deliveries?state=lost&limit=500"));
    expect(res.status).toBe(400);
    const fields = (await json(res)).error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(["query.state", "query.limit"]));
  });

  it("reports health: window figures, the chart series, latency and the last error", async () => {
    const health = await json(await api(admin, "GET", path("/health")));
    expect(health.window).toMatchObject({
      requests: 19,
      failed: 17,
      seconds: 43_200,
      threshold_ratio: 0.6,
      min_requests: 20,
    });
    expect(health.success_rate_series).toHaveLength(144);
    const points = health.success_rate_series.filter((p: { requests: number }) => p.requests > 0);
    expect(points.reduce((sum: number, p: { requests: number }) => sum + p.requests, 0)).toBe(19);
    expect(health.latency_ms.p50).toEqual(expect.any(Number));
    expect(health.latency_ms.p95).toBeGreaterThanOrEqual(health.latency_ms.p50);
    expect(health.last_error).toMatchObject({ status: 500 });
    expect(health).toMatchObject({
      paused: false,
      dead_deliveries: 1,
      pending_deliveries: 0,
      pending_notifications: 0,
    });
  });

  it("replays one delivery and all dead ones, audited", async () => {
    const dead = (await json(await api(admin, "GET", path("/deliveries?state=dead")))).deliveries[0];
    const res = await api(admin, "POST", path(`/deliveries/${dead.id}/replay`));
    expect(res.status).toBe(202);
    const body = await json(res);
    expect(body).toMatchObject({ paused: false, delivery_ids: [expect.any(String)] });

    const pending = await api(admin, "POST", path(`/deliveries/${body.delivery_ids[0]}/replay`));
    expect(pending.status).toBe(409);
    await fireAlarm(stubFor(integrationId), clock);
    const replayed = (await hubRequests(bucket)).at(-1)!;
    expect(replayed.headers["webhook-id"]).toBe(body.delivery_ids[0]);
    expect(replayed.body).toContain("dead one");

    const all = await json(await api(admin, "POST", path("/deliveries/replay-dead")));
    expect(all.delivery_ids).toHaveLength(1);
    const audit = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, integrationId), eq(auditLog.action, "integration.deliveries_replayed")));
    expect(audit).toHaveLength(2);
    expect(audit[0]).toMatchObject({ actorLabel: acme.users.admin.email });

    expect((await api(admin, "POST", path("/deliveries/no-such-id/replay"))).status).toBe(404);
  });

  it("answers 404 for another account's integration and 403 for non-admins", async () => {
    const other = await seedAccount("Other");
    const otherAdmin = await login(other.users.admin.email);
    for (const [method, suffix] of [
      ["GET", "/deliveries"],
      ["GET", "/health"],
      ["POST", "/deliveries/replay-dead"],
    ] as const) {
      const res = await api(otherAdmin, method, path(suffix));
      expect(res.status, `${method} ${suffix}`).toBe(404);
      expect(JSON.stringify(await json(res))).not.toContain("dead one");
    }
    const analyst = await login(acme.users.analyst.email);
    expect((await api(analyst, "GET", path("/deliveries"))).status).toBe(403);
    expect((await api(analyst, "GET", path("/health"))).status).toBe(403);
    expect((await api(null, "GET", path("/health"))).status).toBe(401);
  });

  it("appears in the OpenAPI document", async () => {
    const doc = await json(await api(null, "GET", "/api/openapi.json"));
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/api/integrations/{id}/deliveries",
        "/api/integrations/{id}/deliveries/{deliveryId}/replay",
        "/api/integrations/{id}/deliveries/replay-dead",
        "/api/integrations/{id}/health",
      ]),
    );
  });
});
