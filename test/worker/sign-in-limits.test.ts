import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { sessions } from "../../worker/db/schema";
import { api, call, db, json, login, PASSWORD, seedAccount } from "./helpers";

// Password checks are counted before they run (README "Security"): bursts, password changes and
// forged client-address headers all meet the same limit.
const signIn = (email: string, password: string, headers: Record<string, string> = {}) =>
  call("/api/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify({ email, password }),
  });

describe("sign-in limit under concurrency", () => {
  it("gives a burst of 40 concurrent sign-ins no more than 10 password checks", async () => {
    const acme = await seedAccount();
    const email = acme.users.analyst.email;
    const passwords = [...Array.from({ length: 39 }, (_, i) => `wrong-${i}`), PASSWORD];
    const answers = await Promise.all(
      passwords.map((password, i) => signIn(email, password, { "CF-Connecting-IP": `198.51.100.${i}` })),
    );
    const statuses = answers.map((res) => res.status);
    const checked = statuses.filter((status) => status !== 429);
    expect(checked.length).toBeLessThanOrEqual(10);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(30);
    // The right password, sent last, met the lockout like every other attempt.
    expect(statuses.at(-1)).toBe(429);
    expect(Number(answers.at(-1)?.headers.get("Retry-After"))).toBeGreaterThan(0);
  });

  it("does not count successful sign-ins from a shared address", async () => {
    const acme = await seedAccount();
    const office = { "CF-Connecting-IP": "203.0.113.9" };
    for (let i = 0; i < 12; i++) {
      const res = await signIn(acme.users[i % 2 ? "admin" : "read_only"].email, PASSWORD, office);
      expect(res.status).toBe(200);
    }
  });
});

describe("password change", () => {
  it("counts wrong current passwords like sign-in failures (no oracle)", async () => {
    const acme = await seedAccount();
    const session = await login(acme.users.admin.email);
    const change = (current: string) =>
      api(session, "POST", "/api/me/password", { current_password: current, new_password: "a brand new passphrase" });
    for (let i = 0; i < 10; i++) expect((await change(`guess-${i}`)).status).toBe(400);
    const locked = await change(PASSWORD);
    expect(locked.status).toBe(429);
    expect((await json(locked)).error.code).toBe("too_many_attempts");
    // Sign-in of the same email shares the count.
    expect((await signIn(acme.users.admin.email, PASSWORD)).status).toBe(429);
  });

  it("still changes the password with the right current one", async () => {
    const acme = await seedAccount();
    const session = await login(acme.users.analyst.email);
    const res = await api(session, "POST", "/api/me/password", {
      current_password: PASSWORD,
      new_password: "a brand new passphrase",
    });
    expect(res.status).toBe(204);
  });
});

describe("client address", () => {
  it("is taken from CF-Connecting-IP only, never from X-Real-IP", async () => {
    const acme = await seedAccount();
    const res = await signIn(acme.users.admin.email, PASSWORD, { "X-Real-IP": "192.0.2.55" });
    expect(res.status).toBe(200);
    const rows = await db().select().from(sessions).where(eq(sessions.userId, acme.users.admin.id));
    expect(rows.map((row) => row.ip)).toEqual(["unknown"]);

    const forwarded = await signIn(acme.users.analyst.email, PASSWORD, {
      "CF-Connecting-IP": "192.0.2.10",
      "X-Real-IP": "192.0.2.55",
    });
    expect(forwarded.status).toBe(200);
    const analyst = await db().select().from(sessions).where(eq(sessions.userId, acme.users.analyst.id));
    expect(analyst.map((row) => row.ip)).toEqual(["192.0.2.10"]);
  });
});
