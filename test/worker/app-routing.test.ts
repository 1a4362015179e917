import { describe, expect, it } from "vitest";
import { api, call, login, seedAccount } from "./helpers";

// Each router is mounted under its prefix in worker/app.ts and guards only that prefix
// (docs/api.md#authentication): these check that no route lost its guard in the move.
describe("routers under their prefixes", () => {
  const guarded = [
    "/api/me",
    "/api/me/notifications",
    "/api/users",
    "/api/tokens",
    "/api/integration-types",
    "/api/integrations",
    "/api/integrations/some-id/deliveries",
    "/api/integrations/some-id/health",
    "/api/audit",
    "/api/nodes",
    "/api/events",
    "/api/events/some-id",
    "/api/security-issues",
    "/api/reports",
    "/api/reports/some-id.pdf",
  ];

  it.each(guarded)("GET %s without credentials answers 401", async (path) => {
    const res = await call(path);
    expect(res.status).toBe(401);
  });

  it("keeps the delivery log admin-only although its routes live in their own file", async () => {
    const acme = await seedAccount();
    const analyst = await login(acme.users.analyst.email);
    for (const path of ["/api/integrations/some-id/deliveries", "/api/integrations/some-id/health"]) {
      expect((await api(analyst, "GET", path)).status).toBe(403);
    }
    // The same session reaches its own routes under /api/me.
    expect((await api(analyst, "GET", "/api/me/notifications")).status).toBe(200);
  });

  it("serves the public routes at their paths", async () => {
    expect((await call("/api/health")).status).toBe(200);
    const docs = await call("/api/docs", { redirect: "manual" });
    expect(docs.status).toBe(302);
    expect(docs.headers.get("Location")).toBe("/api-docs/");
  });
});
