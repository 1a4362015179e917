import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, isNull } from "drizzle-orm";
import { apiTokens, ROLES, users } from "../db/schema";
import { ApiError, notFound } from "../lib/errors";
import { randomToken, uuidv7 } from "../lib/ids";
import { createRouter, errorResponses, jsonBody, jsonContent } from "../lib/router";
import { iso, isoOrNull } from "../lib/time";
import { API_TOKEN_PREFIX, requireAdmin, requireAuth } from "../security/auth";
import { sha256Hex } from "../security/hashing";
import { auditByCaller } from "./caller-audit";

const TokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    token_prefix: z.string(),
    /** The user who created it; the token never acts with more than this user's current role. */
    created_by: z.object({ id: z.string(), email: z.string(), name: z.string() }).nullable(),
    created_at: z.string(),
    last_used_at: z.string().nullable(),
  })
  .openapi("ApiToken");

const CreateTokenBody = z
  .object({ name: z.string().trim().min(1).max(100), role: z.enum(ROLES).default("read_only") })
  .openapi("CreateApiTokenRequest");

type Creator = { id: string; email: string; name: string } | null;

function toToken(t: typeof apiTokens.$inferSelect, creator: Creator): z.infer<typeof TokenSchema> {
  return {
    id: t.id,
    name: t.name,
    role: t.role,
    token_prefix: t.tokenPrefix,
    created_by: creator,
    created_at: iso(t.createdAt),
    last_used_at: isoOrNull(t.lastUsedAt),
  };
}

const router = createRouter();
router.use("*", requireAuth, requireAdmin);

// Chained so each route's types reach AppType (hc<AppType> in the UI).
const routes = router
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["API tokens"],
      summary: "Active API tokens of the account (admin)",
      responses: { 200: jsonContent(z.object({ tokens: z.array(TokenSchema) }), "Tokens"), ...errorResponses },
    }),
    async (c) => {
      const rows = await c
        .get("db")
        .select({ token: apiTokens, creator: { id: users.id, email: users.email, name: users.name } })
        .from(apiTokens)
        .leftJoin(users, eq(users.id, apiTokens.createdBy))
        .where(and(eq(apiTokens.accountId, c.get("principal").accountId), isNull(apiTokens.revokedAt)))
        .orderBy(desc(apiTokens.createdAt));
      return c.json({ tokens: rows.map((row) => toToken(row.token, row.creator)) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: ["API tokens"],
      summary: "Create an API token; the token is in this answer only",
      request: { body: jsonBody(CreateTokenBody) },
      responses: {
        201: jsonContent(z.object({ token: TokenSchema, secret: z.string() }), "Created; keep `secret`"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const db = c.get("db");
      const principal = c.get("principal");
      const body = c.req.valid("json");
      // A token made with a token belongs to the same user: it cannot outlive them either.
      const creatorId = principal.userId ?? principal.creatorId;
      const creator = creatorId
        ? await db.query.users.findFirst({
            where: and(eq(users.id, creatorId), eq(users.accountId, principal.accountId)),
          })
        : undefined;
      if (!creator) throw new ApiError(401, "unauthorized", "Sign in again.");
      const secret = randomToken(API_TOKEN_PREFIX);
      const row = {
        id: uuidv7(),
        accountId: principal.accountId,
        name: body.name,
        role: body.role,
        tokenHash: await sha256Hex(secret),
        tokenPrefix: secret.slice(0, 12),
        createdBy: creator.id,
        createdAt: Date.now(),
        lastUsedAt: null,
        revokedAt: null,
      };
      await db.batch([
        db.insert(apiTokens).values(row),
        auditByCaller(c, {
          action: "api_token.created",
          targetType: "api_token",
          targetId: row.id,
          details: { name: body.name, role: body.role },
        }),
      ]);
      return c.json({ token: toToken(row, { id: creator.id, email: creator.email, name: creator.name }), secret }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags: ["API tokens"],
      summary: "Revoke an API token (effective at once)",
      request: { params: z.object({ id: z.string().max(64) }) },
      responses: { 204: { description: "Revoked" }, ...errorResponses },
    }),
    async (c) => {
      const db = c.get("db");
      const principal = c.get("principal");
      const { id } = c.req.valid("param");
      const [revoked] = await db
        .update(apiTokens)
        .set({ revokedAt: Date.now() })
        .where(and(eq(apiTokens.id, id), eq(apiTokens.accountId, principal.accountId), isNull(apiTokens.revokedAt)))
        .returning({ name: apiTokens.name });
      if (!revoked) throw notFound("API token");
      await auditByCaller(c, {
        action: "api_token.revoked",
        targetType: "api_token",
        targetId: id,
        details: { name: revoked.name },
      });
      return c.body(null, 204);
    },
  );

export default routes;
