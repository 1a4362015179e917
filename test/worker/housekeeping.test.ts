import { createExecutionContext, createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { rateLimits, sessions } from "../../worker/db/schema";
import { housekeepingStep } from "../../worker/security/housekeeping";
import { db, login, seedAccount } from "./helpers";

describe("hourly housekeeping", () => {
  it("deletes expired and idle sessions and stale rate-limit counters, keeping live ones", async () => {
    const acme = await seedAccount();
    await login(acme.users.admin.email);
    const now = Date.now();
    const idleMs = Number(env.SESSION_IDLE_MINUTES) * 60_000;
    const base = { userId: acme.users.analyst.id, accountId: acme.accountId, csrfToken: "c", createdAt: now };
    await db()
      .insert(sessions)
      .values([
        { ...base, tokenHash: "expired", lastSeenAt: now, expiresAt: now - 1 },
        { ...base, tokenHash: "idle", lastSeenAt: now - idleMs - 1, expiresAt: now + 3_600_000 },
      ]);
    await db()
      .insert(rateLimits)
      .values([
        { key: "login:ip:old", windowStart: now - 2 * 86_400_000, count: 3 },
        { key: "login:ip:fresh", windowStart: now - 60_000, count: 3 },
      ]);

    await housekeepingStep(createScheduledController(), env, createExecutionContext());

    const left = await db().select({ tokenHash: sessions.tokenHash }).from(sessions);
    expect(left.map((s) => s.tokenHash)).not.toContain("expired");
    expect(left.map((s) => s.tokenHash)).not.toContain("idle");
    expect(left).toHaveLength(1); // the admin's live session
    const counters = await db().select({ key: rateLimits.key }).from(rateLimits);
    expect(counters.map((c) => c.key)).toEqual(["login:ip:fresh"]);
  });
});
