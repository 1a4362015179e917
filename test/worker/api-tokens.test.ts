import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { apiTokens } from "../../worker/db/schema";
import { api, call, db, json, login, seedAccount } from "./helpers";

const withToken = (secret: string, path: string, init: RequestInit = {}) =>
  call(path, { ...init, headers: { ...(init.headers as Record<string, string>), Authorization: `Bearer ${secret}` } });

describe("API tokens", () => {
  it("are shown once, stored hashed, act with their role, and stop working when revoked", async () => {
    const acme = await seedAccount();
    const admin = await login(acme.users.admin.email);
    const created = await api(admin, "POST", "/api/tokens", { name: "terraform", role: "admin" });
    expect(created.status).toBe(201);
    const { token, secret } = await json(created);
    expect(secret).toMatch(/^hrld_/);
    expect(token.token_prefix).toBe(secret.slice(0, 12));

    const stored = await db().select().from(apiTokens).where(eq(apiTokens.id, token.id));
    expect(stored[0]?.tokenHash).not.toContain(secret);
    const listed = await api(admin, "GET", "/api/tokens");
    expect(await listed.text()).not.toContain(secret);

    // A bearer token needs no CSRF header: it is not ambient like a cookie.
    const users = await withToken(secret, "/api/users");
    expect(users.status).toBe(200);
    const added = await withToken(secret, "/api/users", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: "bot-made@acme.test", role: "analyst" }),
    });
    expect(added.status).toBe(201);

    expect((await api(admin, "DELETE", `/api/tokens/${token.id}`)).status).toBe(204);
    expect((await withToken(secret, "/api/users")).status).toBe(401);
  });

  it("limits a read-only token to what read-only users may do", async () => {
    const acme = await seedAccount();
    const admin = await login(acme.users.admin.email);
    const { secret } = await json(await api(admin, "POST", "/api/tokens", { name: "dashboards", role: "read_only" }));
    expect((await withToken(secret, "/api/me")).status).toBe(200);
    expect((await withToken(secret, "/api/users")).status).toBe(403);
  });

  it("refuses malformed and unknown tokens", async () => {
    expect((await withToken("nonsense", "/api/me")).status).toBe(401);
    expect((await withToken("hrld_unknown", "/api/me")).status).toBe(401);
  });

  it("cannot revoke another account's token", async () => {
    const acme = await seedAccount("Acme");
    const globex = await seedAccount("Globex");
    const globexAdmin = await login(globex.users.admin.email);
    const { token, secret } = await json(await api(globexAdmin, "POST", "/api/tokens", { name: "g", role: "admin" }));
    const acmeAdmin = await login(acme.users.admin.email);
    expect((await api(acmeAdmin, "DELETE", `/api/tokens/${token.id}`)).status).toBe(404);
    expect((await withToken(secret, "/api/me")).status).toBe(200);
  });
});
