import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { api } from "../helpers";
import { hubRequests, mailTo } from "../hub";
import { storedEvents } from "../ingest/support";
import { adminSession, apiRaw, CREATABLE_TYPES, type CreatableType, fixture, leakedSecrets } from "./fixtures";

/** Every console line the Worker writes during a test, to check no secret is logged. */
let consoleSpies: MockInstance[] = [];
const logged = () =>
  consoleSpies
    .flatMap((spy) =>
      spy.mock.calls.map((args) => args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ")),
    )
    .join("\n");

beforeEach(() => {
  consoleSpies = (["log", "info", "warn", "error", "debug"] as const).map((level) => vi.spyOn(console, level));
});
afterEach(() => {
  for (const spy of consoleSpies) spy.mockRestore();
});

describe("integrations: every type end to end through the API", () => {
  it("creates, lists, tests, disables, enables and deletes all nine admin-created types, audited, never leaking a secret", async () => {
    const admin = await adminSession();
    const raws: string[] = [];
    const secrets: string[] = [];
    const created = new Map<CreatableType, { id: string; fx: ReturnType<typeof fixture> }>();

    for (const type of CREATABLE_TYPES) {
      const fx = fixture(type);
      secrets.push(...fx.secrets);
      const res = await apiRaw(admin, "POST", "/api/integrations", {
        type,
        name: `${type} alerts`,
        settings: fx.settings,
        events: fx.events,
      });
      expect(res.status, `${type}: ${res.raw}`).toBe(201);
      expect(res.body.integration).toMatchObject({
        type,
        name: `${type} alerts`,
        status: "enabled",
        events: fx.events,
      });
      if (type === "webhook") {
        // Generated server-side, shown in this answer only.
        expect(res.body.signing_secret).toMatch(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/);
        secrets.push(res.body.signing_secret);
        expect(res.body.integration.settings.signing_secret).toMatch(/^••••/);
      } else {
        raws.push(res.raw);
        expect(res.body.signing_secret).toBeUndefined();
      }
      created.set(type, { id: res.body.integration.id, fx });
    }

    // The personal email of a user is there too (created on first visit to the profile).
    const mine = await apiRaw(admin, "GET", "/api/me/notifications");
    expect(mine.status).toBe(200);

    const list = await apiRaw(admin, "GET", "/api/integrations?status=all");
    raws.push(list.raw);
    expect(list.body.integrations.map((i: { type: string }) => i.type)).toEqual(["personal_email", ...CREATABLE_TYPES]);

    // Masks: the last four characters of long secrets, never the value.
    const telegram = list.body.integrations.find((i: { type: string }) => i.type === "telegram");
    const token = created.get("telegram")!.fx.settings.bot_token as string;
    expect(telegram.settings).toEqual({ bot_token: `••••${token.slice(-4)}`, chat_id: "-1001234567890" });
    const webhook = list.body.integrations.find((i: { type: string }) => i.type === "webhook");
    expect(webhook.settings.headers[0]).toEqual({ name: "Authorization", value: expect.stringMatching(/^••••/) });

    for (const [type, { id, fx }] of created) {
      const get = await apiRaw(admin, "GET", `/api/integrations/${id}`);
      raws.push(get.raw);
      expect(get.status).toBe(200);
      expect(get.body.integration.secrets_status).toBe("ok");

      const test = await apiRaw(admin, "POST", `/api/integrations/${id}/test`);
      raws.push(test.raw);
      expect(test.status, `${type}: ${test.raw}`).toBe(200);
      const expectedCategories = ["system", "security_issue", "scope_change", "incident", "hit", "reports"].filter(
        (c) => c in fx.events,
      );
      expect(test.body.results.map((r: { category: string }) => r.category)).toEqual(expectedCategories);
      for (const result of test.body.results) {
        expect(result, `${type} ${result.category}: ${result.error}`).toMatchObject({ ok: true, error: null });
        expect(result.status === null || (result.status >= 200 && result.status < 300)).toBe(true);
      }
      if (fx.bucket) {
        const received = await hubRequests(fx.bucket);
        expect(received.length, type).toBeGreaterThanOrEqual(expectedCategories.length);
        expect(
          received.some((r) => r.body.includes("[Test message]")),
          type,
        ).toBe(true);
      } else {
        const address = (fx.settings.recipients as string[])[0]!;
        // System events of the other integrations' creation are delivered here too: count the tests.
        const tests = (await mailTo(address)).filter((m) => m.subject.includes("[Test message]"));
        expect(tests.length).toBe(expectedCategories.length);
      }

      const disabled = await apiRaw(admin, "POST", `/api/integrations/${id}/disable`);
      raws.push(disabled.raw);
      expect(disabled.body.integration).toMatchObject({ status: "disabled", disabled_reason: "manual" });
    }

    const disabledTab = await apiRaw(admin, "GET", "/api/integrations?status=disabled");
    expect(disabledTab.body.integrations).toHaveLength(CREATABLE_TYPES.length);
    const enabledTab = await apiRaw(admin, "GET", "/api/integrations?status=enabled");
    expect(enabledTab.body.integrations.map((i: { type: string }) => i.type)).toEqual(["personal_email"]);

    const catalog = await apiRaw(admin, "GET", "/api/integration-types");
    raws.push(catalog.raw);
    const cards = catalog.body.blocks.flatMap((b: { types: unknown[] }) => b.types);
    expect(cards.find((c: { type: string }) => c.type === "slack").counts).toEqual({ enabled: 0, disabled: 1 });
    expect(cards.find((c: { type: string }) => c.type === "personal_email").counts).toEqual({
      enabled: 1,
      disabled: 0,
    });

    for (const [, { id }] of created) {
      const enabled = await apiRaw(admin, "POST", `/api/integrations/${id}/enable`, { pending: "drop" });
      raws.push(enabled.raw);
      expect(enabled.status).toBe(200);
      expect(enabled.body.integration.status).toBe("enabled");
      expect(enabled.body.integration.disabled_reason).toBeUndefined();
      const deleted = await api(admin, "DELETE", `/api/integrations/${id}`);
      expect(deleted.status).toBe(204);
      expect((await api(admin, "GET", `/api/integrations/${id}`)).status).toBe(404);
    }

    const audit = await apiRaw(admin, "GET", "/api/audit?target_type=integration&limit=200");
    raws.push(audit.raw);
    for (const [, { id }] of created) {
      const actions = audit.body.entries
        .filter((e: { target_id: string }) => e.target_id === id)
        .map((e: { action: string }) => e.action);
      // Newest first.
      expect(actions).toEqual([
        "integration.deleted",
        "integration.enabled",
        "integration.disabled",
        "integration.created",
      ]);
    }

    // This account's only: other test files share the database (vitest.config.ts).
    const accountId = (await apiRaw(admin, "GET", "/api/me")).body.account.id;
    const counted = new Map<string, number>();
    for (const e of await storedEvents(accountId)) {
      if (e.systemType) counted.set(e.systemType, (counted.get(e.systemType) ?? 0) + 1);
    }
    const systemEvents = [...counted]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([system_type, n]) => ({ system_type, n }));
    expect(systemEvents).toEqual([
      { system_type: "integration_created", n: 9 },
      { system_type: "integration_deleted", n: 9 },
      { system_type: "integration_disabled", n: 9 },
      { system_type: "integration_enabled", n: 9 },
    ]);

    for (const raw of raws) expect(leakedSecrets(raw, secrets)).toEqual([]);
    expect(leakedSecrets(logged(), secrets)).toEqual([]);
  });
});

describe("validation", () => {
  const invalid: [CreatableType, Record<string, unknown>, string][] = [
    ["email", { recipients: ["not-an-email"] }, "settings.recipients.0"],
    ["email", { recipients: [] }, "settings.recipients"],
    ["slack", { webhook_url: "ftp://hooks.example.com/x" }, "settings.webhook_url"],
    ["telegram", { bot_token: "bad" }, "settings.bot_token"],
    ["telegram", { chat_id: "hello world" }, "settings.chat_id"],
    ["opsgenie", { region: "asia" }, "settings.region"],
    ["opsgenie", { api_key: "has space" }, "settings.api_key"],
    ["insightconnect", { url: "not a url" }, "settings.url"],
    ["insightconnect", { api_key: "" }, "settings.api_key"],
    ["pagerduty", { routing_key: "short" }, "settings.routing_key"],
    ["splunk", { index: "_internal" }, "settings.index"],
    ["splunk", { token: "x" }, "settings.token"],
    ["sumologic", { url: "https://user:pw@collectors.sumologic.com/receiver/v1/http/abc" }, "settings.url"],
    ["webhook", { method: "GET" }, "settings.method"],
    ["webhook", { format: "xml" }, "settings.format"],
    ["webhook", { timeout_seconds: 61 }, "settings.timeout_seconds"],
    ["webhook", { headers: [{ name: "Host", value: "evil.example" }] }, "settings.headers.0.name"],
  ];

  it.each(invalid)("%s: rejects %j naming %s, storing nothing", async (type, override, field) => {
    const admin = await adminSession();
    const fx = fixture(type);
    const res = await apiRaw(admin, "POST", "/api/integrations", {
      type,
      name: "bad",
      settings: { ...fx.settings, ...override },
      events: fx.events,
    });
    expect(res.status, res.raw).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(leakedSecrets(res.raw, fx.secrets)).toEqual([]);
    const list = await apiRaw(admin, "GET", "/api/integrations");
    expect(list.body.integrations.filter((i: { name: string }) => i.name === "bad")).toEqual([]);
  });

  it("requires a missing required setting by name", async () => {
    const admin = await adminSession();
    const res = await apiRaw(admin, "POST", "/api/integrations", {
      type: "telegram",
      name: "t",
      settings: { chat_id: "1" },
    });
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain("settings.bot_token");
  });

  it("checks names and subscriptions against what the system allows", async () => {
    const admin = await adminSession();
    const slack = fixture("slack");
    const long = await apiRaw(admin, "POST", "/api/integrations", {
      type: "slack",
      name: "x".repeat(101),
      settings: slack.settings,
    });
    expect(long.body.error.details[0].field).toBe("name");
    const blank = await apiRaw(admin, "POST", "/api/integrations", {
      type: "slack",
      name: "   ",
      settings: slack.settings,
    });
    expect(blank.body.error.details[0].field).toBe("name");
    const hit = await apiRaw(admin, "POST", "/api/integrations", {
      type: "slack",
      name: "s",
      settings: slack.settings,
      events: { hit: true },
    });
    expect(hit.status).toBe(400);
    expect(hit.body.error.details.map((d: { field: string }) => d.field)).toEqual(["events.hit"]);
    const reports = await apiRaw(admin, "POST", "/api/integrations", {
      type: "pagerduty",
      name: "p",
      settings: fixture("pagerduty").settings,
      events: { reports: ["daily"] },
    });
    expect(reports.body.error.details.map((d: { field: string }) => d.field)).toEqual(["events.reports"]);
    const risk = await apiRaw(admin, "POST", "/api/integrations", {
      type: "slack",
      name: "s",
      settings: slack.settings,
      events: { security_issue: ["severe"] },
    });
    expect(risk.body.error.details[0].field).toBe("events.security_issue.0");
    const personal = await apiRaw(admin, "POST", "/api/integrations", {
      type: "personal_email",
      name: "p",
      settings: {},
    });
    expect(personal.status).toBe(400);
    expect(personal.body.error.details[0].field).toBe("type");
  });
});
