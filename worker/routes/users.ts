import { createRoute, z } from "@hono/zod-openapi";
import { and, asc, eq, isNull, sql } from "drizzle-orm";
import { apiTokens, integrations, ROLES, users } from "../db/schema";
import { buildSystemEvent, systemEventOutboxInsert } from "../domain/system-events";
import { announceControlChange } from "../ingest/control-change";
import { publishSystemEvents } from "../ingest/publish-system-events";
import { clearFallbackReferencesToUser } from "../integrations/fallback";
import { destroyOutbox } from "../integrations/lifecycle";
import { personalEmailRow } from "../integrations/personal-email";
import { ApiError, notFound } from "../lib/errors";
import { randomToken, uuidv7 } from "../lib/ids";
import { createRouter, errorResponses, jsonBody, jsonContent } from "../lib/router";
import { iso } from "../lib/time";
import { requireAdmin, requireAuth } from "../security/auth";
import { hashPassword } from "../security/hashing";
import { removeIntegrationFromTriggers } from "../triggers/store";
import { auditByCaller } from "./caller-audit";
import { UserFieldsSchema } from "./me-schema";

const UserSchema = UserFieldsSchema.extend({ created_at: z.string() }).openapi("User");

const CreateUserBody = z
  .object({
    email: z.string().trim().toLowerCase().pipe(z.email("Enter a valid email address.")),
    name: z.string().trim().max(100).default(""),
    role: z.enum(ROLES),
  })
  .openapi("CreateUserRequest");

const UpdateUserBody = z
  .object({ role: z.enum(ROLES).optional(), name: z.string().trim().max(100).optional() })
  .openapi("UpdateUserRequest");

const IdParam = z.object({ id: z.string().min(1).max(64) });

function toUser(u: typeof users.$inferSelect): z.infer<typeof UserSchema> {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    must_change_password: u.mustChangePassword,
    created_at: iso(u.createdAt),
  };
}

const router = createRouter();
router.use("*", requireAuth, requireAdmin);

/**
 * Guard that keeps at least one admin: the statement only matches when the target is not an
 * admin or another admin remains, so two concurrent demotions cannot both succeed.
 */
function anotherAdminRemains(accountId: string, userId: string) {
  return sql`(${users.role} != 'admin' OR (SELECT count(*) FROM users u2 WHERE u2.account_id = ${accountId} AND u2.role = 'admin' AND u2.id != ${userId}) > 0)`;
}

// Chained so each route's types reach AppType (hc<AppType> in the UI).
const routes = router
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["Users"],
      summary: "Users of the account (admin)",
      responses: { 200: jsonContent(z.object({ users: z.array(UserSchema) }), "The users"), ...errorResponses },
    }),
    async (c) => {
      const rows = await c
        .get("db")
        .select()
        .from(users)
        .where(eq(users.accountId, c.get("principal").accountId))
        .orderBy(asc(users.email));
      return c.json({ users: rows.map(toUser) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: ["Users"],
      summary: "Add a user; answers a one-time password to hand over (they choose their own at first sign-in)",
      request: { body: jsonBody(CreateUserBody) },
      responses: {
        201: jsonContent(z.object({ user: UserSchema, one_time_password: z.string() }), "Created"),
        409: errorResponses[400],
        ...errorResponses,
      },
    }),
    async (c) => {
      const db = c.get("db");
      const principal = c.get("principal");
      const body = c.req.valid("json");
      // Only this account's users are looked at: whether the address is a user elsewhere is not
      // this admin's business (emails are unique per account).
      const existing = await db.query.users.findFirst({
        where: and(eq(users.accountId, principal.accountId), eq(users.email, body.email)),
      });
      if (existing) {
        throw new ApiError(409, "email_taken", "A user of this account already has this email.", [
          { field: "email", message: "Already in use in this account." },
        ]);
      }
      const oneTimePassword = randomToken("otp", 12).slice(4);
      const now = Date.now();
      const user = {
        id: uuidv7(now),
        accountId: principal.accountId,
        email: body.email,
        name: body.name,
        role: body.role,
        passwordHash: await hashPassword(oneTimePassword),
        mustChangePassword: true,
        createdAt: now,
        updatedAt: now,
      };
      const event = buildSystemEvent(
        principal.accountId,
        "user_created",
        principal.label,
        `User ${body.email} was added as ${body.role}.`,
        {
          user_id: user.id,
          email: body.email,
          role: body.role,
        },
      );
      await db.batch([
        db.insert(users).values(user),
        // Every user has a personal email integration, managed from their profile.
        db.insert(integrations).values(personalEmailRow(principal.accountId, user, now)),
        auditByCaller(c, {
          action: "user.created",
          targetType: "user",
          targetId: user.id,
          details: { email: body.email, role: body.role },
        }),
        systemEventOutboxInsert(db, event),
      ]);
      await announceControlChange(c.env, principal.accountId);
      await publishSystemEvents(c.env, principal.accountId, [event]);
      return c.json({ user: toUser(user), one_time_password: oneTimePassword }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags: ["Users"],
      summary: "Change a user's role or name",
      request: { params: IdParam, body: jsonBody(UpdateUserBody) },
      responses: {
        200: jsonContent(z.object({ user: UserSchema }), "Updated"),
        409: errorResponses[400],
        ...errorResponses,
      },
    }),
    async (c) => {
      const db = c.get("db");
      const principal = c.get("principal");
      const { id } = c.req.valid("param");
      const body = c.req.valid("json");
      const user = await db.query.users.findFirst({
        where: and(eq(users.id, id), eq(users.accountId, principal.accountId)),
      });
      if (!user) throw notFound("user");
      const roleChanged = body.role !== undefined && body.role !== user.role;
      const now = Date.now();
      const guard = roleChanged && body.role !== "admin" ? anotherAdminRemains(principal.accountId, id) : sql`1 = 1`;
      const update = db
        .update(users)
        .set({ role: body.role ?? user.role, name: body.name ?? user.name, updatedAt: now })
        .where(and(eq(users.id, id), eq(users.accountId, principal.accountId), guard))
        .returning();
      // The updated row itself: no second read of the user for the answer.
      const [updated] = await update;
      if (!updated) {
        throw new ApiError(409, "last_admin", "The account must keep at least one admin.", [
          { field: "role", message: "This is the last admin." },
        ]);
      }
      if (roleChanged) {
        const event = buildSystemEvent(
          principal.accountId,
          "user_role_changed",
          principal.label,
          `The role of ${user.email} changed from ${user.role} to ${body.role}.`,
          { user_id: id, email: user.email, old_role: user.role, new_role: body.role ?? user.role },
        );
        await db.batch([
          auditByCaller(c, {
            action: "user.role_changed",
            targetType: "user",
            targetId: id,
            details: { email: user.email, from: user.role, to: body.role },
          }),
          systemEventOutboxInsert(db, event),
        ]);
        await publishSystemEvents(c.env, principal.accountId, [event]);
      } else if (body.name !== undefined && body.name !== user.name) {
        await auditByCaller(c, {
          action: "user.updated",
          targetType: "user",
          targetId: id,
          details: { email: user.email, name: body.name },
        });
      }
      return c.json({ user: toUser(updated) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags: ["Users"],
      summary: "Remove a user (never the last admin)",
      request: { params: IdParam },
      responses: { 204: { description: "Removed" }, 409: errorResponses[400], ...errorResponses },
    }),
    async (c) => {
      const db = c.get("db");
      const principal = c.get("principal");
      const { id } = c.req.valid("param");
      const user = await db.query.users.findFirst({
        where: and(eq(users.id, id), eq(users.accountId, principal.accountId)),
      });
      if (!user) throw notFound("user");
      const [deleted] = await db
        .delete(users)
        .where(
          and(eq(users.id, id), eq(users.accountId, principal.accountId), anotherAdminRemains(principal.accountId, id)),
        )
        .returning({ id: users.id });
      if (!deleted) throw new ApiError(409, "last_admin", "The account must keep at least one admin.");
      const event = buildSystemEvent(
        principal.accountId,
        "user_deleted",
        principal.label,
        `User ${user.email} was removed.`,
        {
          user_id: id,
          email: user.email,
          role: user.role,
        },
      );
      // Their personal email leaves the triggers that name it, in the same batch as its delete.
      const personal = await db
        .select({ id: integrations.id })
        .from(integrations)
        .where(and(eq(integrations.userId, id), eq(integrations.accountId, principal.accountId)));
      const [, removedIntegrations] = await db.batch([
        clearFallbackReferencesToUser(db, principal.accountId, id),
        db
          .delete(integrations)
          .where(and(eq(integrations.userId, id), eq(integrations.accountId, principal.accountId)))
          .returning({ id: integrations.id }),
        // Their API tokens go with them (they stopped working the moment the user was deleted).
        db
          .update(apiTokens)
          .set({ revokedAt: Date.now() })
          .where(
            and(eq(apiTokens.createdBy, id), eq(apiTokens.accountId, principal.accountId), isNull(apiTokens.revokedAt)),
          ),
        auditByCaller(c, {
          action: "user.deleted",
          targetType: "user",
          targetId: id,
          details: { email: user.email, role: user.role },
        }),
        systemEventOutboxInsert(db, event),
        ...personal.map((row) => removeIntegrationFromTriggers(db, principal.accountId, row.id)),
      ]);
      // Their personal email's outbox goes with it (its Durable Object's storage is dropped).
      await announceControlChange(c.env, principal.accountId);
      await Promise.all(removedIntegrations.map((row) => destroyOutbox(c.env, row.id)));
      await publishSystemEvents(c.env, principal.accountId, [event]);
      return c.body(null, 204);
    },
  );

export default routes;
