import { createRoute, z } from "@hono/zod-openapi";
import { RISKS } from "../domain/subscriptions";
import { accountIngestObject } from "../ingest/account-object";
import { SECURITY_ISSUE_STATUSES, type SecurityIssueRow } from "../ingest/account-store";
import { decodeCursor, keysetPage } from "../lib/cursor";
import { notFound } from "../lib/errors";
import { createRouter, errorResponses, jsonBody, jsonContent } from "../lib/router";
import { iso, isoOrNull } from "../lib/time";
import { requireAdmin, requireAuth } from "../security/auth";
import { auditByCaller } from "./caller-audit";

/**
 * The account's security issues (one per distinct vulnerability, kept up to date by ingest in the
 * account's AccountIngestDO): every role lists them; admins close one once it is fixed and may
 * reopen it. A closed issue that a node reports again is open again, and notified again as new
 * (`isNewIssue` in worker/ingest/account-store.ts only holds back re-reports of open issues).
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

function toIssue(row: SecurityIssueRow): z.infer<typeof IssueSchema> {
  return {
    id: row.id,
    risk: row.risk as (typeof RISKS)[number],
    title: row.title,
    vuln_type: row.vuln_type,
    host: row.host,
    path: row.path,
    status: row.status,
    first_seen: iso(row.first_seen),
    last_seen: iso(row.last_seen),
    last_event_id: row.last_event_id,
    closed_at: isoOrNull(row.closed_at),
    closed_by: row.closed_by,
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
      const cursor = query.cursor ? decodeCursor(query.cursor) : null;
      const rows = await accountIngestObject(c.env, c.get("principal").accountId).securityIssues({
        status: query.status,
        risk: query.risk,
        limit: query.limit + 1,
        after: cursor ? { lastSeen: cursor.time, fingerprint: cursor.key } : undefined,
      });
      const { page, nextCursor } = keysetPage(rows, query.limit, (row) => [row.last_seen, row.fingerprint]);
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
      const principal = c.get("principal");
      const { id } = c.req.valid("param");
      const { status } = c.req.valid("json");
      const closing = status === "closed";
      const account = accountIngestObject(c.env, principal.accountId);
      const issue = closing ? await account.closeIssue(id, principal.label, Date.now()) : await account.reopenIssue(id);
      if (!issue) throw notFound("security issue");
      // Audited once the issue changed (the issue lives in the account object, the log in D1).
      await auditByCaller(c, {
        action: closing ? "security_issue.closed" : "security_issue.reopened",
        targetType: "security_issue",
        targetId: id,
      });
      return c.json({ issue: toIssue(issue) }, 200);
    },
  );

export default routes;
