import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { sessions } from "../../worker/db/schema";
import { sha256Hex } from "../../worker/security/hashing";
import { api, call, db, json, login, PASSWORD, seedAccount } from "./helpers";

// Security properties of the foundation's route groups: users, tokens, me, auth.
describe("roles", () => {
  it.each([
    ["GET", "/api/users"],
    ["POST", "/api/users"],
    ["GET", "/api/tokens"],
    ["POST", "/api/tokens"],
  ])("%s %s answers 403 to analysts and read-only users", async (method, path) => {
    const acme = await seedAccount();
    for (const role of ["analyst", "read_only"] as const) {
      const session = await login(acme.users[role].email);
      const res = await api(
        session,
        method,
        path,
        method === "POST" ? { email: "a@b.test", role: "admin", name: "t" } : undefined,
      );
      expect(res.status).toBe(403);
      expect((await json(res)).error.code).toBe("forbidden");
    }
  });

  it("lets every role read /api/me", async () => {
    const acme = await seedAccount();
    for (const role of ["admin", "analyst", "read_only"] as const) {
      const session = await login(acme.users[role].email);
      expect((await json(await api(session, "GET", "/api/me"))).role).toBe(role);
    }
  });
});

describe("account isolation", () => {
  it("answers 404 for another account's users, never their data", async () => {
    const acme = await seedAccount("Acme");
    const globex = await seedAccount("Globex");
    const acmeAdmin = await login(acme.users.admin.email);
    for (const [method, body] of [
      ["PATCH", { role: "admin" }],
      ["DELETE", undefined],
    ] as const) {
      const res = await api(acmeAdmin, method, `/api/users/${globex.users.analyst.id}`, body);
      expect(res.status).toBe(404);
    }
    const list = await json(await api(acmeAdmin, "GET", "/api/users"));
    expect(list.users.map((u: { email: string }) => u.email)).not.toContain(globex.users.admin.email);
    const globexAdmin = await login(globex.users.admin.email);
    const stillAnalyst = await json(await api(globexAdmin, "GET", "/api/users"));
    expect(stillAnalyst.users.find((u: { id: string }) => u.id === globex.users.analyst.id).role).toBe("analyst");
  });
});

describe("sessions", () => {
  it("refuses a missing or forged session cookie", async () => {
    expect((await call("/api/me")).status).toBe(401);
    const forged = await call("/api/me", { headers: { Cookie: "herald_session=hs_forged" } });
    expect(forged.status).toBe(401);
    expect((await json(forged)).error.code).toBe("unauthorized");
  });

  it("refuses state changes without the right CSRF token", async () => {
    const acme = await seedAccount();
    const admin = await login(acme.users.admin.email);
    const body = JSON.stringify({ email: "csrf@acme.test", role: "analyst" });
    const missing = await call("/api/users", {
      method: "POST",
      headers: { Cookie: admin.cookie, "Content-Type": "application/json" },
      body,
    });
    expect(missing.status).toBe(403);
    expect((await json(missing)).error.code).toBe("csrf_failed");
    const wrong = await call("/api/users", {
      method: "POST",
      headers: { Cookie: admin.cookie, "Content-Type": "application/json", "X-CSRF-Token": "csrf_wrong" },
      body,
    });
    expect(wrong.status).toBe(403);
    const list = await json(await api(admin, "GET", "/api/users"));
    expect(list.users.map((u: { email: string }) => u.email)).not.toContain("csrf@acme.test");
  });

  it("expires idle sessions and sessions past their absolute lifetime", async () => {
    const acme = await seedAccount();
    const idle = await login(acme.users.admin.email);
    const idleHash = await sha256Hex(idle.cookie.split("=")[1] ?? "");
    const idleMs = Number(env.SESSION_IDLE_MINUTES) * 60_000;
    await db()
      .update(sessions)
      .set({ lastSeenAt: Date.now() - idleMs - 1000 })
      .where(eq(sessions.tokenHash, idleHash));
    expect((await api(idle, "GET", "/api/me")).status).toBe(401);

    const old = await login(acme.users.admin.email);
    const oldHash = await sha256Hex(old.cookie.split("=")[1] ?? "");
    await db()
      .update(sessions)
      .set({ expiresAt: Date.now() - 1 })
      .where(eq(sessions.tokenHash, oldHash));
    expect((await api(old, "GET", "/api/me")).status).toBe(401);
  });

  it("stores only the hash of the session token", async () => {
    const acme = await seedAccount();
    const session = await login(acme.users.admin.email);
    const token = session.cookie.split("=")[1] ?? "";
    const hashed = await sha256Hex(token);
    const rows = await db().select().from(sessions);
    expect(rows.map((r) => r.tokenHash)).toContain(hashed);
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  it("signs out: the cookie stops working", async () => {
    const acme = await seedAccount();
    const session = await login(acme.users.admin.email);
    const out = await api(session, "POST", "/api/auth/logout");
    expect(out.status).toBe(204);
    expect((await api(session, "GET", "/api/me")).status).toBe(401);
  });
});

describe("brute force", () => {
  it("locks an email out after 10 failures in 15 minutes, even with the right password", async () => {
    const acme = await seedAccount();
    const attempt = (password: string, ip: string) =>
      call("/api/auth/login", {
        method: "POST",
        headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip },
        body: JSON.stringify({ email: acme.users.analyst.email, password }),
      });
    for (let i = 0; i < 10; i++) expect((await attempt(`wrong-${i}`, `198.51.100.${i}`)).status).toBe(401);
    const locked = await attempt(PASSWORD, "198.51.100.200");
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("Retry-After"))).toBeGreaterThan(0);
  });

  it("locks an IP out after 10 failures across emails", async () => {
    const acme = await seedAccount();
    const ip = "203.0.113.77";
    for (let i = 0; i < 10; i++) {
      const res = await call("/api/auth/login", {
        method: "POST",
        headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip },
        body: JSON.stringify({ email: `nobody${i}@acme.test`, password: "guess-guess" }),
      });
      expect(res.status).toBe(401);
    }
    const res = await call("/api/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip },
      body: JSON.stringify({ email: acme.users.admin.email, password: PASSWORD }),
    });
    expect(res.status).toBe(429);
  });
});
