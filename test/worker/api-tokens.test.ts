import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { apiTokens, users } from "../../worker/db/schema";
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

describe("API tokens and their creator", () => {
  it("never act with more than the creator's current role", async () => {
    const acme = await seedAccount();
    const first = await login(acme.users.admin.email);
    // A second admin creates an admin token, then is demoted to analyst.
    const second = await json(await api(first, "POST", "/api/users", { email: "second@acme.test", role: "admin" }));
    await db().update(users).set({ mustChangePassword: false }).where(eq(users.id, second.user.id));
    const secondSession = await login("second@acme.test", second.one_time_password);
    const { secret } = await json(await api(secondSession, "POST", "/api/tokens", { name: "ci", role: "admin" }));
    expect((await withToken(secret, "/api/users")).status).toBe(200);

    expect((await api(first, "PATCH", `/api/users/${second.user.id}`, { role: "analyst" })).status).toBe(200);
    expect((await withToken(secret, "/api/users")).status).toBe(403);
    const me = await json(await withToken(secret, "/api/me"));
    expect(me.role).toBe("analyst");

    // Promoted back: the token's own role (admin) applies again.
    expect((await api(first, "PATCH", `/api/users/${second.user.id}`, { role: "admin" })).status).toBe(200);
    expect((await withToken(secret, "/api/users")).status).toBe(200);
  });

  it("stop working and are revoked when the creator is deleted", async () => {
    const acme = await seedAccount();
    const first = await login(acme.users.admin.email);
    const second = await json(await api(first, "POST", "/api/users", { email: "gone@acme.test", role: "admin" }));
    await db().update(users).set({ mustChangePassword: false }).where(eq(users.id, second.user.id));
    const secondSession = await login("gone@acme.test", second.one_time_password);
    const { token, secret } = await json(
      await api(secondSession, "POST", "/api/tokens", { name: "ci", role: "admin" }),
    );
    // A token made with that token belongs to the same user.
    const child = await json(
      await withToken(secret, "/api/tokens", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ name: "child", role: "admin" }),
      }),
    );
    expect(child.token.created_by.email).toBe("gone@acme.test");

    expect((await api(first, "DELETE", `/api/users/${second.user.id}`)).status).toBe(204);
    const created = await withToken(secret, "/api/users", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: "evil@acme.test", role: "admin" }),
    });
    expect(created.status).toBe(401);
    expect((await withToken(child.secret, "/api/me")).status).toBe(401);
    const rows = await db().select().from(apiTokens).where(eq(apiTokens.createdBy, second.user.id));
    expect(rows.map((row) => row.id).sort()).toEqual([token.id, child.token.id].sort());
    expect(rows.every((row) => row.revokedAt !== null)).toBe(true);
    const list = await json(await api(first, "GET", "/api/tokens"));
    expect(list.tokens.map((t: { id: string }) => t.id)).not.toContain(token.id);
  });

  it("lists who created each token", async () => {
    const acme = await seedAccount();
    const admin = await login(acme.users.admin.email);
    await api(admin, "POST", "/api/tokens", { name: "terraform", role: "analyst" });
    const list = await json(await api(admin, "GET", "/api/tokens"));
    expect(list.tokens[0].created_by).toEqual({
      id: acme.users.admin.id,
      email: acme.users.admin.email,
      name: "admin",
    });
  });
});
