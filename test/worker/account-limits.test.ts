import { describe, expect, it } from "vitest";
import { REPLAYS } from "../../worker/routes/deliveries";
import { REPORT_BUILDS } from "../../worker/routes/reports";
import { deliveryTarget } from "./delivery/fixtures";
import { api, json, login, seedAccount } from "./helpers";

// Expensive actions are limited per account (README "Security"): report builds scan the period's
// events, replays queue sends again.
describe("per-account limits", () => {
  it(`refuses the report build past ${REPORT_BUILDS.max} an hour with 429 and Retry-After`, async () => {
    const acme = await seedAccount("Acme Builds");
    const admin = await login(acme.users.admin.email);
    const day = (i: number) => new Date(Date.UTC(2026, 9, 1) + i * 86_400_000).toISOString().slice(0, 10);
    for (let i = 0; i < REPORT_BUILDS.max; i++) {
      const res = await api(admin, "POST", "/api/reports", { frequency: "daily", period_start: day(i) });
      expect(res.status).toBe(201);
    }
    const refused = await api(admin, "POST", "/api/reports", { frequency: "daily", period_start: day(40) });
    expect(refused.status).toBe(429);
    expect((await json(refused)).error.code).toBe("rate_limited");
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);

    // Another account is not affected.
    const globex = await seedAccount("Globex Builds");
    const other = await login(globex.users.admin.email);
    expect((await api(other, "POST", "/api/reports", { frequency: "daily", period_start: day(0) })).status).toBe(201);
  });

  it(`refuses replays past ${REPLAYS.max} an hour, single and all-dead alike`, async () => {
    const acme = await seedAccount("Acme Replays");
    const admin = await login(acme.users.admin.email);
    const { id } = await deliveryTarget(acme.accountId, { bucketPrefix: "replay-limit" });
    for (let i = 0; i < REPLAYS.max; i++) {
      const res =
        i % 2
          ? await api(admin, "POST", `/api/integrations/${id}/deliveries/replay-dead`)
          : await api(admin, "POST", `/api/integrations/${id}/deliveries/no-such-delivery/replay`);
      expect(res.status).toBe(i % 2 ? 202 : 404);
    }
    const refused = await api(admin, "POST", `/api/integrations/${id}/deliveries/replay-dead`);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
  });
});
