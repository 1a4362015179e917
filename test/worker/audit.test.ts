import { describe, expect, it } from "vitest";
import { api, call, login, seedAccount } from "./helpers";
import { fixture, leakedSecrets } from "./integrations/fixtures";

describe("GET /api/audit", () => {
  it("pages newest first with a cursor and filters by target type and action", async () => {
    const acme = await seedAccount("Acme");
    const admin = await login(acme.users.admin.email);
    const secrets: string[] = [];
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const fx = fixture("telegram");
      secrets.push(...fx.secrets);
      const res = await api(admin, "POST", "/api/integrations", {
        type: "telegram",
        name: `tg ${i}`,
        settings: fx.settings,
        events: { system: true },
      });
      ids.push(((await res.json()) as any).integration.id);
    }
    await api(admin, "POST", `/api/integrations/${ids[0]}/disable`);
    await api(admin, "POST", "/api/users", { email: `new-${crypto.randomUUID()}@acme.test`, role: "analyst" });

    const seen: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await api(admin, "GET", `/api/audit?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      const raw = await res.text();
      expect(leakedSecrets(raw, secrets)).toEqual([]);
      const page = JSON.parse(raw);
      seen.push(...page.entries);
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen.map((e) => e.action)).toEqual([
      "user.created",
      "integration.disabled",
      ...Array(5).fill("integration.created"),
    ]);
    expect(pages).toBe(3);
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    const created = seen.find((e) => e.target_id === ids[4]);
    expect(created).toMatchObject({
      actor: { type: "user", id: acme.users.admin.id, label: acme.users.admin.email },
      target_type: "integration",
      details: { type: "telegram", name: "tg 4", settings: { bot_token: "••••", chat_id: "-1001234567890" } },
    });

    const onlyIntegrations = (await (await api(admin, "GET", "/api/audit?target_type=integration")).json()) as any;
    expect(onlyIntegrations.entries).toHaveLength(6);
    const disabled = (await (await api(admin, "GET", "/api/audit?action=integration.disabled")).json()) as any;
    expect(disabled.entries.map((e: any) => e.target_id)).toEqual([ids[0]]);
    const prefix = (await (await api(admin, "GET", "/api/audit?action=integration.*")).json()) as any;
    expect(prefix.entries).toHaveLength(6);
    const bad = await api(admin, "GET", "/api/audit?action=drop%20table");
    expect(bad.status).toBe(400);
  });

  it("shows API-token actors and keeps accounts apart", async () => {
    const acme = await seedAccount("Acme");
    const other = await seedAccount("Other");
    const admin = await login(acme.users.admin.email);
    const token = ((await (await api(admin, "POST", "/api/tokens", { name: "ci", role: "admin" })).json()) as any)
      .secret as string;
    const fx = fixture("pagerduty");
    const res = await fetchWithToken(token, "POST", "/api/integrations", {
      type: "pagerduty",
      name: "pd",
      settings: fx.settings,
      events: { incident: true },
    });
    expect(res.status).toBe(201);
    const entries = ((await (await api(admin, "GET", "/api/audit?target_type=integration")).json()) as any).entries;
    expect(entries[0].actor).toMatchObject({ type: "api_token", label: "token:ci" });
    const otherAdmin = await login(other.users.admin.email);
    const theirs = ((await (await api(otherAdmin, "GET", "/api/audit")).json()) as any).entries;
    expect(theirs).toEqual([]);
  });
});

async function fetchWithToken(token: string, method: string, path: string, body: unknown) {
  return call(path, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}
