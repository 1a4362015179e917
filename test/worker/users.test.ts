import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, integrations } from "../../worker/db/schema";
import { integrationObject } from "../../worker/outbox/object";
import { api, db, json, login, seedAccount } from "./helpers";
import { storedEvents } from "./ingest/support";

describe("users API", () => {
  it("adds a user with a one-time password that must be changed, and records it", async () => {
    const acme = await seedAccount();
    const admin = await login(acme.users.admin.email);
    const res = await api(admin, "POST", "/api/users", { email: "New.Analyst@Acme.test", role: "analyst" });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body.user).toMatchObject({ email: "new.analyst@acme.test", role: "analyst", must_change_password: true });
    expect(body.one_time_password.length).toBeGreaterThanOrEqual(12);

    const newcomer = await login("new.analyst@acme.test", body.one_time_password);
    const me = await json(await api(newcomer, "GET", "/api/me"));
    expect(me.user.must_change_password).toBe(true);
    const changed = await api(newcomer, "POST", "/api/me/password", {
      current_password: body.one_time_password,
      new_password: "a much better password",
    });
    expect(changed.status).toBe(204);
    const after = await json(await api(newcomer, "GET", "/api/me"));
    expect(after.user.must_change_password).toBe(false);

    const audit = await db().select().from(auditLog).where(eq(auditLog.targetId, body.user.id));
    expect(audit.map((a) => a.action)).toEqual(["user.created", "user.password_changed"]);
    expect(audit[0]?.actorLabel).toBe(acme.users.admin.email);
    const raised = (await storedEvents(acme.accountId)).filter((e) => e.systemType === "user_created");
    expect(raised).toHaveLength(1);
    const personal = await db().select().from(integrations).where(eq(integrations.userId, body.user.id));
    expect(personal.map((p) => p.type)).toEqual(["personal_email"]);
  });

  it("refuses a duplicate email with 409 naming the field", async () => {
    const acme = await seedAccount();
    const admin = await login(acme.users.admin.email);
    const res = await api(admin, "POST", "/api/users", { email: acme.users.analyst.email, role: "analyst" });
    expect(res.status).toBe(409);
    expect((await json(res)).error.details[0].field).toBe("email");
  });

  it("answers the same for an email used in another account as for a new one, revealing nothing", async () => {
    const acme = await seedAccount("Acme");
    const globex = await seedAccount("Globex");
    const globexAdmin = await login(globex.users.admin.email);
    const taken = await api(globexAdmin, "POST", "/api/users", { email: acme.users.admin.email, role: "analyst" });
    const fresh = await api(globexAdmin, "POST", "/api/users", { email: "fresh@globex.test", role: "analyst" });
    expect([taken.status, fresh.status]).toEqual([201, 201]);
    const created = await json(taken);
    expect(Object.keys(created).sort()).toEqual(Object.keys(await json(fresh)).sort());

    // Each address signs in to its own account with its own password.
    const globexSession = await login(acme.users.admin.email, created.one_time_password);
    const globexMe = await json(await api(globexSession, "GET", "/api/me"));
    expect(globexMe.account.id).toBe(globex.accountId);
    const acmeMe = await json(await api(await login(acme.users.admin.email), "GET", "/api/me"));
    expect(acmeMe.account.id).toBe(acme.accountId);
    expect(acmeMe.role).toBe("admin");
  });

  it("changes a role, writing the audit log and a user_role_changed event", async () => {
    const acme = await seedAccount();
    const admin = await login(acme.users.admin.email);
    const res = await api(admin, "PATCH", `/api/users/${acme.users.analyst.id}`, { role: "read_only" });
    expect(res.status).toBe(200);
    expect((await json(res)).user.role).toBe("read_only");
    const audit = await db().select().from(auditLog).where(eq(auditLog.targetId, acme.users.analyst.id));
    expect(audit[0]).toMatchObject({ action: "user.role_changed", details: { from: "analyst", to: "read_only" } });
    const raised = (await storedEvents(acme.accountId)).filter((e) => e.systemType === "user_role_changed");
    expect(raised).toHaveLength(1);
  });

  it("never lets the account lose its last admin, by demotion or removal", async () => {
    const acme = await seedAccount();
    const admin = await login(acme.users.admin.email);
    const demote = await api(admin, "PATCH", `/api/users/${acme.users.admin.id}`, { role: "analyst" });
    expect(demote.status).toBe(409);
    expect((await json(demote)).error.code).toBe("last_admin");
    const remove = await api(admin, "DELETE", `/api/users/${acme.users.admin.id}`);
    expect(remove.status).toBe(409);

    // With a second admin, the first may step down.
    await api(admin, "PATCH", `/api/users/${acme.users.analyst.id}`, { role: "admin" });
    const stepDown = await api(admin, "PATCH", `/api/users/${acme.users.admin.id}`, { role: "analyst" });
    expect(stepDown.status).toBe(200);
  });

  it("removes a user with their sessions and personal email", async () => {
    const acme = await seedAccount();
    const admin = await login(acme.users.admin.email);
    const created = await json(await api(admin, "POST", "/api/users", { email: "temp@acme.test", role: "read_only" }));
    const tempSession = await login("temp@acme.test", created.one_time_password);
    const [personalRow] = await db().select().from(integrations).where(eq(integrations.userId, created.user.id));
    // Something waiting in the personal email's outbox (pause it so nothing is sent meanwhile).
    const outbox = integrationObject(env, personalRow!.id);
    await outbox.pause();
    await outbox.enqueue(personalRow!.id, [
      { notification: { id: "n-1", summary: "s", description: "d", details: {} as never }, eventId: "n-1" },
    ]);
    expect((await outbox.health()).pending_notifications).toBe(1);
    const res = await api(admin, "DELETE", `/api/users/${created.user.id}`);
    expect(res.status).toBe(204);
    expect((await api(tempSession, "GET", "/api/me")).status).toBe(401);
    const personal = await db().select().from(integrations).where(eq(integrations.userId, created.user.id));
    expect(personal).toHaveLength(0);
    expect((await outbox.health()).pending_notifications).toBe(0);
    const list = await json(await api(admin, "GET", "/api/users"));
    expect(list.users.map((u: { email: string }) => u.email)).not.toContain("temp@acme.test");
  });

  it("rejects an unknown role naming the field", async () => {
    const acme = await seedAccount();
    const admin = await login(acme.users.admin.email);
    const res = await api(admin, "POST", "/api/users", { email: "x@acme.test", role: "owner" });
    expect(res.status).toBe(400);
    expect((await json(res)).error.details[0].field).toBe("role");
  });
});

describe("one-time passwords", () => {
  it("allow nothing but reading /api/me, changing the password and signing out until changed", async () => {
    const acme = await seedAccount();
    const admin = await login(acme.users.admin.email);
    const created = await json(await api(admin, "POST", "/api/users", { email: "otp@acme.test", role: "admin" }));
    const newcomer = await login("otp@acme.test", created.one_time_password);
    expect((await api(newcomer, "GET", "/api/me")).status).toBe(200);
    const blocked = await api(newcomer, "GET", "/api/users");
    expect(blocked.status).toBe(403);
    expect((await json(blocked)).error.code).toBe("password_change_required");
    const changed = await api(newcomer, "POST", "/api/me/password", {
      current_password: created.one_time_password,
      new_password: "my own long password",
    });
    expect(changed.status).toBe(204);
    expect((await api(newcomer, "GET", "/api/users")).status).toBe(200);
    const audit = await db().select().from(auditLog).where(eq(auditLog.targetId, created.user.id));
    expect(audit.map((a) => a.action)).toContain("user.password_changed");
  });
});
