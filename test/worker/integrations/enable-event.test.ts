import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog } from "../../../worker/db/schema";
import { api, db, json, login, seedAccount } from "../helpers";
import { hubRequests } from "../hub";
import { storedEvents } from "../ingest/support";
import { fixture } from "./fixtures";

// docs/api.md#integrations: disable, enable and delete are all system events, notified and audited.
describe("enabling an integration", () => {
  it("raises integration_enabled to the account's other integrations subscribed to system", async () => {
    const acme = await seedAccount();
    const admin = await login(acme.users.admin.email);
    const watcher = fixture("webhook");
    const created = await api(admin, "POST", "/api/integrations", {
      type: "webhook",
      name: "Watcher",
      settings: watcher.settings,
      events: { system: true },
    });
    expect(created.status).toBe(201);
    const target = await json(
      await api(admin, "POST", "/api/integrations", {
        type: "slack",
        name: "SOC channel",
        settings: fixture("slack").settings,
        events: { incident: true },
      }),
    );
    const id = target.integration.id as string;
    expect((await api(admin, "POST", `/api/integrations/${id}/disable`)).status).toBe(200);
    expect((await api(admin, "POST", `/api/integrations/${id}/enable`, { pending: "resume" })).status).toBe(200);

    const raised = (await storedEvents(acme.accountId)).filter((e) => e.systemType === "integration_enabled");
    expect(raised).toHaveLength(1);
    const audit = await db().select().from(auditLog).where(eq(auditLog.targetId, id));
    expect(audit.map((a) => a.action)).toContain("integration.enabled");

    const deadline = Date.now() + 8000;
    let types: string[] = [];
    while (Date.now() < deadline && !types.includes("integration_enabled")) {
      types = (await hubRequests(watcher.bucket!)).flatMap((r) =>
        (JSON.parse(r.body) as { details: { notification_type: string } }[]).map((n) => n.details.notification_type),
      );
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(types).toContain("integration_enabled");
  });
});
