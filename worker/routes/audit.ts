import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, lt, type SQL, sql } from "drizzle-orm";
import { auditLog } from "../db/schema";
import { createRouter, errorResponses, jsonContent } from "../lib/router";
import { iso } from "../lib/time";
import { requireAdmin, requireAuth } from "../security/auth";

const AuditEntrySchema = z
  .object({
    id: z.string(),
    created_at: z.string(),
    actor: z.object({
      type: z.enum(["user", "api_token", "system"]),
      id: z.string().nullable(),
      label: z.string().openapi({ description: "Email, token name, or Herald" }),
    }),
    action: z.string().openapi({ example: "integration.disabled" }),
    target_type: z.string().openapi({ example: "integration" }),
    target_id: z.string().nullable(),
    details: z.unknown().openapi({ description: "What changed, secrets redacted" }),
    ip: z.string().nullable(),
  })
  .openapi("AuditEntry");

const AuditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(64).optional().openapi({ description: "next_cursor of the previous page" }),
  target_type: z.string().max(50).optional(),
  action: z
    .string()
    .max(100)
    .regex(/^[a-z_.]+\*?$/, "Letters, dots and underscores, optionally ending with *.")
    .optional()
    .openapi({ description: 'Exact ("integration.disabled") or a prefix ending with * ("integration.*")' }),
  target_id: z.string().max(64).optional(),
});

const router = createRouter();
router.use("*", requireAuth, requireAdmin);

const routes = router.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["Audit"],
    summary: "The account's audit log, newest first (admin)",
    request: { query: AuditQuery },
    responses: {
      200: jsonContent(
        z.object({ entries: z.array(AuditEntrySchema), next_cursor: z.string().nullable() }),
        "A page of entries",
      ),
      ...errorResponses,
    },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const conditions: SQL[] = [eq(auditLog.accountId, c.get("principal").accountId)];
    // Ids are UUIDv7 (time-ordered), so the id is both the order and the cursor.
    if (query.cursor) conditions.push(lt(auditLog.id, query.cursor));
    if (query.target_type) conditions.push(eq(auditLog.targetType, query.target_type));
    if (query.target_id) conditions.push(eq(auditLog.targetId, query.target_id));
    if (query.action?.endsWith("*")) {
      const prefix = query.action.slice(0, -1).replace(/[\\%_]/g, (ch) => `\\${ch}`);
      conditions.push(sql`${auditLog.action} LIKE ${`${prefix}%`} ESCAPE '\\'`);
    } else if (query.action) conditions.push(eq(auditLog.action, query.action));
    const rows = await c
      .get("db")
      .select()
      .from(auditLog)
      .where(and(...conditions))
      .orderBy(desc(auditLog.id))
      .limit(query.limit + 1);
    const page = rows.slice(0, query.limit);
    return c.json(
      {
        entries: page.map((row) => ({
          id: row.id,
          created_at: iso(row.createdAt),
          actor: {
            type: row.actorType as "user" | "api_token" | "system",
            id: row.actorId,
            label: row.actorLabel,
          },
          action: row.action,
          target_type: row.targetType,
          target_id: row.targetId,
          details: row.details ?? null,
          ip: row.ip,
        })),
        next_cursor: rows.length > query.limit ? (page.at(-1)?.id ?? null) : null,
      },
      200,
    );
  },
);

export default routes;
