import { describe, expect, it } from "vitest";
import { api, login, type Session, seedAccount } from "../helpers";
import { adminSession, type CreatableType, fixture } from "./fixtures";

async function get(session: Session, path: string) {
  const res = await api(session, "GET", path);
  expect(res.status, path).toBe(200);
  return (await res.json()) as any;
}

async function create(session: Session, type: CreatableType, name: string) {
  const fx = fixture(type);
  const res = await api(session, "POST", "/api/integrations", { type, name, settings: fx.settings, events: {} });
  expect(res.status).toBe(201);
  return ((await res.json()) as { integration: { id: string } }).integration.id;
}

describe("GET /api/integration-types", () => {
  it("lists the ten systems in catalog order, in three blocks, with forms derived from the schemas", async () => {
    const admin = await adminSession();
    const catalog = await get(admin, "/api/integration-types");
    expect(catalog.blocks.map((b: { block: string; title: string }) => [b.block, b.title])).toEqual([
      ["email_and_messengers", "Email and messengers"],
      ["incident_management_and_siem", "Incident management and SIEM"],
      ["other", "Other systems"],
    ]);
    expect(catalog.blocks.map((b: { types: { type: string }[] }) => b.types.map((t) => t.type))).toEqual([
      ["personal_email", "email", "slack", "telegram"],
      ["opsgenie", "insightconnect", "pagerduty", "splunk", "sumologic"],
      ["webhook"],
    ]);
    const types = Object.fromEntries(
      catalog.blocks.flatMap((b: { types: { type: string }[] }) => b.types).map((t: { type: string }) => [t.type, t]),
    );
    expect(types.personal_email.managed_by_user).toBe(true);
    expect(types.slack.managed_by_user).toBe(false);
    // hit only for SIEM and webhook types; reports only where docs/api.md#integrations allows.
    for (const [type, t] of Object.entries(types) as [string, { categories: string[] }][]) {
      expect(t.categories.includes("hit"), type).toBe(
        ["splunk", "sumologic", "insightconnect", "webhook"].includes(type),
      );
      expect(t.categories.includes("reports"), type).toBe(
        ["personal_email", "email", "telegram", "slack", "webhook"].includes(type),
      );
    }
    expect(types.splunk.batch_limit).toBeGreaterThan(1);
    expect(types.slack.batch_limit).toBe(1);

    const telegram = types.telegram.settings_schema;
    expect(telegram.type).toBe("object");
    expect(telegram.required).toEqual(expect.arrayContaining(["bot_token", "chat_id"]));
    expect(telegram.properties.bot_token).toMatchObject({ writeOnly: true, "x-secret": true });
    expect(telegram.properties.chat_id.writeOnly).toBeUndefined();
    const webhook = types.webhook.settings_schema;
    expect(webhook.properties.headers.items.properties.value).toMatchObject({ writeOnly: true });
    expect(webhook.properties.headers.items.properties.name.writeOnly).toBeUndefined();
    expect(webhook.properties.signing_secret).toMatchObject({ readOnly: true, writeOnly: true });
    expect(webhook.required ?? []).not.toContain("signing_secret");
    expect(webhook.properties.method.enum).toEqual(["POST", "PUT"]);
    expect(webhook.properties.timeout_seconds.default).toBe(15);
    expect(types.opsgenie.settings_schema.properties.region.enum).toEqual(["us", "eu"]);
    expect(types.webhook.generated_fields).toContain("signing_secret");
  });

  it("counts active and disabled integrations per type", async () => {
    const admin = await adminSession();
    const a = await create(admin, "slack", "one");
    await create(admin, "slack", "two");
    await create(admin, "pagerduty", "pd");
    await api(admin, "POST", `/api/integrations/${a}/disable`);
    const catalog = await get(admin, "/api/integration-types");
    const counts = Object.fromEntries(
      catalog.blocks
        .flatMap((b: { types: unknown[] }) => b.types)
        .map((t: { type: string; counts: unknown }) => [t.type, t.counts]),
    );
    expect(counts.slack).toEqual({ enabled: 1, disabled: 1 });
    expect(counts.pagerduty).toEqual({ enabled: 1, disabled: 0 });
    expect(counts.webhook).toEqual({ enabled: 0, disabled: 0 });
  });
});

describe("GET /api/integrations: tabs and search", () => {
  it("filters by status and searches names, types and system titles", async () => {
    const admin = await adminSession();
    const prodSlack = await create(admin, "slack", "Production alerts");
    await create(admin, "slack", "Staging alerts");
    await create(admin, "sumologic", "Logs 100%_raw");
    const pd = await create(admin, "pagerduty", "On-call");
    await api(admin, "POST", `/api/integrations/${prodSlack}/disable`);
    await api(admin, "POST", `/api/integrations/${pd}/disable`);

    const names = async (query: string) =>
      (await get(admin, `/api/integrations${query}`)).integrations.map((i: { name: string }) => i.name);

    expect(await names("")).toEqual(["Production alerts", "Staging alerts", "On-call", "Logs 100%_raw"]);
    expect(await names("?status=all")).toHaveLength(4);
    expect(await names("?status=enabled")).toEqual(["Staging alerts", "Logs 100%_raw"]);
    expect(await names("?status=disabled")).toEqual(["Production alerts", "On-call"]);
    expect(await names("?q=production")).toEqual(["Production alerts"]);
    expect(await names("?q=ALERTS&status=enabled")).toEqual(["Staging alerts"]);
    expect(await names("?q=slack")).toEqual(["Production alerts", "Staging alerts"]);
    expect(await names("?q=Sumo%20Logic")).toEqual(["Logs 100%_raw"]);
    expect(await names("?q=pagerduty")).toEqual(["On-call"]);
    // LIKE wildcards are searched literally.
    expect(await names("?q=%25")).toEqual(["Logs 100%_raw"]);
    expect(await names("?q=_")).toEqual(["Logs 100%_raw"]);
    expect(await names("?q=nothing-matches")).toEqual([]);

    const bad = await api(admin, "GET", "/api/integrations?status=paused");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.details[0].field).toBe("query.status");
  });
});

describe("personal email", () => {
  it("is listed for admins, cannot be created or deleted by them, and is managed by its user", async () => {
    const acme = await seedAccount("Acme");
    const admin = await login(acme.users.admin.email);
    const analyst = await login(acme.users.analyst.email);

    const mine = await get(analyst, "/api/me/notifications");
    expect(mine.personal_email).toMatchObject({ email: acme.users.analyst.email, status: "enabled" });
    expect(mine.personal_email.categories).not.toContain("hit");

    const patched = await api(analyst, "PATCH", "/api/me/notifications", {
      events: { security_issue: ["critical"], reports: ["daily", "weekly"] },
    });
    expect(patched.status).toBe(200);
    const hit = await api(analyst, "PATCH", "/api/me/notifications", { events: { hit: true } });
    expect(hit.status).toBe(400);
    expect(((await hit.json()) as any).error.details[0].field).toBe("events.hit");

    const list = await get(admin, "/api/integrations?q=personal");
    const analystsOwn = list.integrations.find((i: { user_id?: string }) => i.user_id === acme.users.analyst.id);
    expect(analystsOwn).toMatchObject({
      type: "personal_email",
      events: { security_issue: ["critical"], reports: ["daily", "weekly"] },
    });
    const del = await api(admin, "DELETE", `/api/integrations/${analystsOwn.id}`);
    expect(del.status).toBe(400);
    expect((await get(admin, `/api/integrations/${analystsOwn.id}`)).integration.id).toBe(analystsOwn.id);

    const audit = await get(admin, `/api/audit?target_id=${analystsOwn.id}`);
    expect(audit.entries[0]).toMatchObject({
      action: "integration.updated",
      actor: { type: "user", label: acme.users.analyst.email },
    });
  });
});

describe("OpenAPI", () => {
  it("documents every integrations, profile and audit route", async () => {
    const res = await api(null, "GET", "/api/openapi.json");
    const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>>; components: any };
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect(routes).toEqual(
      expect.arrayContaining([
        "get /api/integration-types",
        "get /api/integrations",
        "post /api/integrations",
        "post /api/integrations/test",
        "get /api/integrations/{id}",
        "patch /api/integrations/{id}",
        "delete /api/integrations/{id}",
        "post /api/integrations/{id}/test",
        "post /api/integrations/{id}/enable",
        "post /api/integrations/{id}/disable",
        "post /api/integrations/{id}/rotate-secret",
        "get /api/me/notifications",
        "patch /api/me/notifications",
        "get /api/audit",
      ]),
    );
    expect(doc.components.schemas.Integration.properties.settings).toBeTruthy();
  });
});
