import { describe, expect, it } from "vitest";
import { api, call, json, login, PASSWORD, seedAccount } from "./helpers";

describe("sign-in", () => {
  it("signs in with the right password, sets a hardened cookie, and /api/me answers", async () => {
    const acme = await seedAccount();
    const res = await call("/api/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: acme.users.admin.email.toUpperCase(), password: PASSWORD }),
    });
    expect(res.status).toBe(200);
    const cookie = res.headers.get("Set-Cookie") ?? "";
    expect(cookie).toMatch(/^herald_session=hs_/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const body = await json(res);
    expect(body.user.email).toBe(acme.users.admin.email);
    expect(body.role).toBe("admin");

    const session = await login(acme.users.admin.email);
    const me = await json(await api(session, "GET", "/api/me"));
    expect(me.account.id).toBe(acme.accountId);
    expect(me.csrf_token).toBe(session.csrf);
  });

  it("rejects a wrong password with 401 and the error envelope", async () => {
    const acme = await seedAccount();
    const res = await call("/api/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: acme.users.admin.email, password: "wrong password" }),
    });
    expect(res.status).toBe(401);
    const body = await json(res);
    expect(body.error.code).toBe("invalid_credentials");
    expect(body.error.requestId).toBeTruthy();
  });

  it("names the invalid field", async () => {
    const res = await call("/api/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: "not-an-email", password: "x" }),
    });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.details[0].field).toBe("email");
  });
});
