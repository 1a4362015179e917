import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, type SQL } from "drizzle-orm";
import { SECURITY_ISSUE_STATUSES, securityIssues } from "../db/schema";
import { RISKS } from "../domain/subscriptions";
import { afterCursor, decodeCursor, keysetPage } from "../lib/cursor";
import { notFound } from "../lib/errors";
import { createRouter, errorResponses, jsonBody, jsonContent } from "../lib/router";
import { iso, isoOrNull } from "../lib/time";
import { requireAdmin, requireAuth } from "../security/auth";
import { auditByCaller } from "./caller-audit";

/**
 * The account's security issues (one per distinct vulnerability, kept up to date by ingest): every
 * role lists them; admins close one once it is fixed and may reopen it. A closed issue that a node
 * reports again is open again, and notified again as new (SKIP_KNOWN_ISSUES in ingest/store.ts
 * only holds back re-reports of open issues).
 */

const IssueSchema = z
  .object({
    id: z.string().openapi({ description: "The id of the event that first reported the issue" }),
    risk: z.enum(RISKS),
    title: z.string(),
    vuln_type: z.string(),
    host: z.string(),
    path: z.string(),
    status: z.enum(SECURITY_ISSUE_STATUSES),
    first_seen: z.string(),
    last_seen: z.string(),
    last_event_id: z.string(),
    closed_at: z.string().nullable(),
    closed_by: z.string().nullable(),
  })
  .openapi("SecurityIssue");

const ListQuery = z.object({
  status: z.enum([...SECURITY_ISSUE_STATUSES, "all"]).default("open"),
  risk: z.enum(RISKS).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

const UpdateBody = z
  .object({ status: z.enum(SECURITY_ISSUE_STATUSES, "Must be open or closed.") })
  .openapi("UpdateSecurityIssueRequest");

function toIssue(row: typeof securityIssues.$inferSelect): z.infer<typeof IssueSchema> {
  return {
    id: row.id,
    risk: row.risk as (typeof RISKS)[number],
    title: row.title,
    vuln_type: row.vulnType,
    host: row.host,
    path: row.path,
    status: row.status,
    first_seen: iso(row.firstSeen),
    last_seen: iso(row.lastSeen),
    last_event_id: row.lastEventId,
    closed_at: isoOrNull(row.closedAt),
    closed_by: row.closedBy,
  };
}

const router = createRouter();
router.use("*", requireAuth);

const routes = router
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["Security issues"],
      summary: "The account's security issues, most recently reported first (every role)",
      request: { query: ListQuery },
      responses: {
        200: jsonContent(
          z.object({ issues: z.array(IssueSchema), next_cursor: z.string().nullable() }),
          "A page of issues",
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const query = c.req.valid("query");
      const conditions: SQL[] = [eq(securityIssues.accountId, c.get("principal").accountId)];
      if (query.status !== "all") conditions.push(eq(securityIssues.status, query.status));
      if (query.risk) conditions.push(eq(securityIssues.risk, query.risk));
      if (query.cursor) {
        conditions.push(afterCursor(securityIssues.lastSeen, securityIssues.fingerprint, decodeCursor(query.cursor)));
      }
      const rows = await c
        .get("db")
        .select()
        .from(securityIssues)
        .where(and(...conditions))
        .orderBy(desc(securityIssues.lastSeen), desc(securityIssues.fingerprint))
        .limit(query.limit + 1);
      const { page, nextCursor } = keysetPage(rows, query.limit, (row) => [row.lastSeen, row.fingerprint]);
      return c.json({ issues: page.map(toIssue), next_cursor: nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags: ["Security issues"],
      summary: "Close a fixed issue, or reopen it (admin)",
      middleware: [requireAdmin] as const,
      request: { params: z.object({ id: z.string().min(1).max(64) }), body: jsonBody(UpdateBody) },
      responses: { 200: jsonContent(z.object({ issue: IssueSchema }), "The issue"), ...errorResponses },
    }),
    async (c) => {
      const db = c.get("db");
      const principal = c.get("principal");
      const { id } = c.req.valid("param");
      const { status } = c.req.valid("json");
      const where = and(eq(securityIssues.accountId, principal.accountId), eq(securityIssues.id, id));
      if (!(await db.query.securityIssues.findFirst({ columns: { id: true }, where })))
        throw notFound("security issue");
      const closing = status === "closed";
      const [updated] = await db.batch([
        db
          .update(securityIssues)
          .set({ status, closedAt: closing ? Date.now() : null, closedBy: closing ? principal.label : null })
          .where(where)
          .returning(),
        auditByCaller(c, {
          action: closing ? "security_issue.closed" : "security_issue.reopened",
          targetType: "security_issue",
          targetId: id,
        }),
      ]);
      const [issue] = updated;
      if (!issue) throw notFound("security issue");
      return c.json({ issue: toIssue(issue) }, 200);
    },
  );

export default routes;
