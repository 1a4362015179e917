import { createRoute, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import type { Context } from "hono";
import { getChannel } from "../channels/catalog";
import { DISABLE_REASONS, integrations, users } from "../db/schema";
import { type EventSubscriptions, EventSubscriptionsSchema } from "../domain/subscriptions";
import { announceControlChange } from "../ingest/control-change";
import { personalEmailRow } from "../integrations/personal-email";
import { validateSubscriptions } from "../integrations/validate";
import { ApiError, validationError } from "../lib/errors";
import { type AppEnv, createRouter, errorResponses, jsonBody, jsonContent } from "../lib/router";
import { iso } from "../lib/time";
import { requireAuth } from "../security/auth";
import { auditByCaller } from "./caller-audit";

/** The personal email system: every user's own address, managed by that user (any role). */
const PERSONAL_EMAIL = "personal_email";

const PersonalEmailSchema = z
  .object({
    id: z.string(),
    email: z.string().openapi({ description: "The user's login address: where it is sent" }),
    status: z.enum(["enabled", "disabled"]),
    disabled_reason: z.enum(DISABLE_REASONS).optional(),
    events: EventSubscriptionsSchema,
    categories: z.array(z.string()).openapi({ description: "What this system may subscribe to" }),
    updated_at: z.string(),
  })
  .openapi("PersonalEmailSubscriptions");

const UpdateBody = z.object({ events: EventSubscriptionsSchema }).openapi("UpdatePersonalEmailRequest");

function personalChannel() {
  const channel = getChannel(PERSONAL_EMAIL);
  if (!channel) throw new Error("the catalog has no personal email system");
  return channel;
}

/** The signed-in user's personal email integration, created on first use if missing. */
async function loadOwn(c: Context<AppEnv>) {
  const principal = c.get("principal");
  if (!principal.userId) {
    throw new ApiError(403, "no_user", "Personal notifications belong to a signed-in user, not an API token.");
  }
  const db = c.get("db");
  const user = await db.query.users.findFirst({
    where: and(eq(users.id, principal.userId), eq(users.accountId, principal.accountId)),
  });
  if (!user) throw new ApiError(401, "unauthorized", "Sign in again.");
  const find = () =>
    db.query.integrations.findFirst({
      where: and(eq(integrations.userId, user.id), eq(integrations.accountId, principal.accountId)),
    });
  let row = await find();
  if (!row) {
    // Users created before personal email existed (or seeded directly) get theirs now; the unique
    // index on user_id makes a concurrent first visit harmless.
    await db.insert(integrations).values(personalEmailRow(principal.accountId, user)).onConflictDoNothing();
    await announceControlChange(c.env, principal.accountId);
    row = await find();
  }
  if (!row) throw new Error("personal email integration missing after insert");
  return { row, user };
}

function toJson(row: typeof integrations.$inferSelect, email: string): z.infer<typeof PersonalEmailSchema> {
  return {
    id: row.id,
    email,
    status: row.status,
    ...(row.status === "disabled" ? { disabled_reason: row.disabledReason ?? "manual" } : {}),
    events: (row.events ?? {}) as EventSubscriptions,
    categories: [...personalChannel().categories],
    updated_at: iso(row.updatedAt),
  };
}

const router = createRouter();
router.use("*", requireAuth);

const routes = router
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["Profile"],
      summary: "My personal email subscriptions (any role)",
      responses: { 200: jsonContent(z.object({ personal_email: PersonalEmailSchema }), "Mine"), ...errorResponses },
    }),
    async (c) => {
      const { row, user } = await loadOwn(c);
      return c.json({ personal_email: toJson(row, user.email) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/",
      tags: ["Profile"],
      summary: "Change my personal email subscriptions",
      request: { body: jsonBody(UpdateBody) },
      responses: { 200: jsonContent(z.object({ personal_email: PersonalEmailSchema }), "Updated"), ...errorResponses },
    }),
    async (c) => {
      const db = c.get("db");
      const principal = c.get("principal");
      const { events } = c.req.valid("json");
      const errors = validateSubscriptions(personalChannel(), events);
      if (errors.length) throw validationError(errors);
      const { row, user } = await loadOwn(c);
      const now = Date.now();
      await db.batch([
        db
          .update(integrations)
          .set({ events, updatedAt: now })
          .where(and(eq(integrations.id, row.id), eq(integrations.accountId, principal.accountId))),
        auditByCaller(c, {
          action: "integration.updated",
          targetType: "integration",
          targetId: row.id,
          details: { type: PERSONAL_EMAIL, name: row.name, changed: ["events"], events },
        }),
      ]);
      await announceControlChange(c.env, principal.accountId);
      return c.json({ personal_email: toJson({ ...row, events, updatedAt: now }, user.email) }, 200);
    },
  );

export default routes;
