import { beforeAll, describe, expect, it } from "vitest";
import { api, call, login, type Session, seedAccount } from "../helpers";
import { fixture } from "./fixtures";

/**
 * Per endpoint: no session → 401, missing CSRF on writes → 403, analyst and read_only → 403,
 * another account's id → 404 (never 403, never data).
 */

let acmeAdmin: Session;
let acmeAnalyst: Session;
let acmeReadOnly: Session;
let otherAdmin: Session;
let acmeIntegrationId: string;

beforeAll(async () => {
  const acme = await seedAccount("Acme");
  const other = await seedAccount("Other");
  acmeAdmin = await login(acme.users.admin.email);
  acmeAnalyst = await login(acme.users.analyst.email);
  acmeReadOnly = await login(acme.users.read_only.email);
  otherAdmin = await login(other.users.admin.email);
  const fx = fixture("webhook");
  const res = await api(acmeAdmin, "POST", "/api/integrations", {
    type: "webhook",
    name: "Acme hook",
    settings: fx.settings,
    events: { system: true },
  });
  acmeIntegrationId = ((await res.json()) as { integration: { id: string } }).integration.id;
});

type Endpoint = { method: string; path: () => string; body?: () => unknown; byId: boolean };

const createBody = () => ({ type: "slack", name: "x", settings: fixture("slack").settings, events: { system: true } });

const ENDPOINTS: Endpoint[] = [
  { method: "GET", path: () => "/api/integration-types", byId: false },
  { method: "GET", path: () => "/api/integrations", byId: false },
  { method: "POST", path: () => "/api/integrations", body: createBody, byId: false },
  { method: "POST", path: () => "/api/integrations/test", body: createBody, byId: false },
  { method: "GET", path: () => `/api/integrations/${acmeIntegrationId}`, byId: true },
  {
    method: "PATCH",
    path: () => `/api/integrations/${acmeIntegrationId}`,
    body: () => ({ name: "renamed" }),
    byId: true,
  },
  { method: "POST", path: () => `/api/integrations/${acmeIntegrationId}/test`, byId: true },
  { method: "POST", path: () => `/api/integrations/${acmeIntegrationId}/disable`, byId: true },
  { method: "POST", path: () => `/api/integrations/${acmeIntegrationId}/enable`, body: () => ({}), byId: true },
  { method: "POST", path: () => `/api/integrations/${acmeIntegrationId}/rotate-secret`, byId: true },
  { method: "DELETE", path: () => `/api/integrations/${acmeIntegrationId}`, byId: true },
  { method: "GET", path: () => "/api/audit", byId: false },
];

const label = (e: Endpoint) => `${e.method} ${e.path().replace(/[0-9a-f-]{36}/, ":id")}`;

describe.each(ENDPOINTS)("$method $path", (endpoint) => {
  it("answers 401 without a session", async () => {
    const res = await call(endpoint.path(), {
      method: endpoint.method,
      headers: { "Content-Type": "application/json" },
      body: endpoint.body ? JSON.stringify(endpoint.body()) : undefined,
    });
    expect(res.status, label(endpoint)).toBe(401);
  });

  it("answers 403 to analysts and read-only users", async () => {
    for (const session of [acmeAnalyst, acmeReadOnly]) {
      const res = await api(session, endpoint.method, endpoint.path(), endpoint.body?.());
      expect(res.status, label(endpoint)).toBe(403);
      const body = (await res.json()) as { error: { code: string } };
      expect(body.error.code).toBe("forbidden");
    }
  });

  if (endpoint.method !== "GET") {
    it("answers 403 to a write without the CSRF header", async () => {
      const res = await call(endpoint.path(), {
        method: endpoint.method,
        headers: { Cookie: acmeAdmin.cookie, "Content-Type": "application/json" },
        body: endpoint.body ? JSON.stringify(endpoint.body()) : undefined,
      });
      expect(res.status, label(endpoint)).toBe(403);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("csrf_failed");
    });
  }

  if (endpoint.byId) {
    it("answers 404 to another account's admin, revealing nothing", async () => {
      const res = await api(otherAdmin, endpoint.method, endpoint.path(), endpoint.body?.());
      expect(res.status, label(endpoint)).toBe(404);
      expect(await res.text()).not.toContain("Acme hook");
    });
  }
});

describe("account isolation of lists", () => {
  it("never lists, counts or audits another account's integrations", async () => {
    const list = (await (await api(otherAdmin, "GET", "/api/integrations")).json()) as { integrations: unknown[] };
    expect(list.integrations).toEqual([]);
    const catalog = (await (await api(otherAdmin, "GET", "/api/integration-types")).json()) as {
      blocks: { types: { type: string; counts: { enabled: number; disabled: number } }[] }[];
    };
    const webhook = catalog.blocks.flatMap((b) => b.types).find((t) => t.type === "webhook")!;
    expect(webhook.counts).toEqual({ enabled: 0, disabled: 0 });
    const audit = await (await api(otherAdmin, "GET", "/api/audit")).text();
    expect(audit).not.toContain(acmeIntegrationId);
    // And the owner still has it, untouched by the other account's attempts.
    const own = (await (await api(acmeAdmin, "GET", `/api/integrations/${acmeIntegrationId}`)).json()) as {
      integration: { name: string; status: string };
    };
    expect(own.integration).toMatchObject({ name: "Acme hook", status: "enabled" });
  });

  it("lets every role manage its own personal email, and only its own", async () => {
    for (const session of [acmeAnalyst, acmeReadOnly, acmeAdmin]) {
      const get = await api(session, "GET", "/api/me/notifications");
      expect(get.status).toBe(200);
      const patch = await api(session, "PATCH", "/api/me/notifications", { events: { system: true } });
      expect(patch.status).toBe(200);
    }
    const noCsrf = await call("/api/me/notifications", {
      method: "PATCH",
      headers: { Cookie: acmeAnalyst.cookie, "Content-Type": "application/json" },
      body: JSON.stringify({ events: {} }),
    });
    expect(noCsrf.status).toBe(403);
    expect((await call("/api/me/notifications")).status).toBe(401);
  });
});
