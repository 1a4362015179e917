import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../../scripts/local-config.ts";
import { type HeraldProcess, startHerald } from "../support/herald-process.ts";

// What `npm start` promises a newcomer: a running Herald with the UI, health, and the demo admin.
describe("Herald under wrangler dev", () => {
  let herald: HeraldProcess;
  beforeAll(async () => {
    herald = await startHerald();
  });
  afterAll(async () => {
    await herald?.stop();
  });

  it("serves health, the UI with strict headers, and signs the demo admin in", async () => {
    const health = await fetch(`${herald.url}/api/health`);
    expect(await health.json()).toMatchObject({ status: "ok", database: "ok" });

    const page = await fetch(`${herald.url}/integrations`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="app">');
    expect(page.headers.get("Content-Security-Policy")).toContain("frame-ancestors 'none'");
    expect(page.headers.get("X-Content-Type-Options")).toBe("nosniff");

    const session = await herald.signIn();
    const me = await session.call("GET", "/api/me");
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(DEMO.email);
    expect(me.body.role).toBe("admin");
  });

  it("refuses a state change without the CSRF header", async () => {
    const session = await herald.signIn();
    const res = await fetch(`${herald.url}/api/tokens`, {
      method: "POST",
      headers: { Cookie: session.cookie, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "ci" }),
    });
    expect(res.status).toBe(403);
  });

  it("documents the API as OpenAPI 3.1", async () => {
    const doc = (await (await fetch(`${herald.url}/api/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/auth/login", "/api/users", "/api/me"]));
  });
});
