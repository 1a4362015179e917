import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { REPORT_FREQUENCIES, reports } from "../db/schema";
import { isPeriodStart, localDateOf, parseLocalDate, periodOf, periodStartFor } from "../domain/report-periods";
import type { Env } from "../env";
import { notFound, validationError } from "../lib/errors";
import { type AppEnv, createRouter, errorResponses, jsonBody, jsonContent, rateLimitedResponse } from "../lib/router";
import { HOUR_MS } from "../lib/time";
import { buildReportData } from "../reports/build";
import { deliverReport } from "../reports/deliver";
import { reportPdf } from "../reports/index";
import { ReportSchema, ReportSummarySchema } from "../reports/schema";
import {
  findReport,
  listReports,
  metadataOf,
  newReportRow,
  reportFileName,
  saveReportBody,
  toReport,
} from "../reports/store";
import { loadAccount, requireAdmin, requireAuth } from "../security/auth";
import { limitPerAccount } from "../security/rate-limit";
import { auditByCaller } from "./caller-audit";

const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(64).optional(),
  frequency: z.enum(REPORT_FREQUENCIES).optional(),
});

const IdParam = z.object({ id: z.string().min(1).max(64) });

const CreateReportBody = z
  .object({
    frequency: z.enum(REPORT_FREQUENCIES),
    period_start: z
      .string()
      .refine((value) => parseLocalDate(value) !== null, "Must be a calendar date as YYYY-MM-DD.")
      .openapi({ example: "2026-11-23" }),
    deliver: z.boolean().default(false),
  })
  .openapi("CreateReportRequest");

async function pdfResponse(c: Context<AppEnv>, id: string): Promise<Response> {
  const row = await findReport(c.env, c.get("principal").accountId, id);
  if (!row) throw notFound("report");
  const started = performance.now();
  const pdf = await reportPdf(row);
  return new Response(pdf as Uint8Array<ArrayBuffer>, {
    status: 200,
    headers: {
      "Content-Type": "application/pdf",
      "Content-Disposition": `attachment; filename="${reportFileName(row)}"`,
      "Content-Length": String(pdf.byteLength),
      "Server-Timing": `pdf;dur=${(performance.now() - started).toFixed(1)}`,
    },
  });
}

/**
 * On-demand builds per account and hour: each scans the period's events (README "Security").
 * `REPORT_BUILDS_PER_HOUR` overrides the default (the report benchmark builds a month of days).
 */
export const REPORT_BUILDS = { max: 30, windowMs: HOUR_MS, what: "report builds" };

const reportBuildLimit = (env: Env) => ({
  ...REPORT_BUILDS,
  max: Number(env.REPORT_BUILDS_PER_HOUR) || REPORT_BUILDS.max,
});

const router = createRouter();
router.use("*", requireAuth);
// `/api/reports/<id>.pdf`, the download link's friendlier form; registered before `/{id}` so it wins.
router.get("/:file{[^/]+\\.pdf}", (c) => pdfResponse(c, c.req.param("file").slice(0, -".pdf".length)));

// Chained so each route's types reach AppType (hc<AppType> in the UI).
const routes = router
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["Reports"],
      summary: "The account's reports, newest first (every role)",
      request: { query: ListQuery },
      responses: {
        200: jsonContent(
          z.object({ reports: z.array(ReportSummarySchema), next_cursor: z.string().nullable() }),
          "A page of reports; pass next_cursor as cursor for the next one",
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const query = c.req.valid("query");
      const page = await listReports(c.env, c.get("principal").accountId, query);
      return c.json({ reports: page.reports, next_cursor: page.nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/pdf",
      tags: ["Reports"],
      summary: "The report as a PDF (also at /api/reports/{id}.pdf)",
      request: { params: IdParam },
      responses: {
        200: {
          description: "The PDF",
          content: { "application/pdf": { schema: z.string().openapi({ format: "binary" }) } },
        },
        ...errorResponses,
      },
    }),
    (c) => pdfResponse(c, c.req.valid("param").id),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags: ["Reports"],
      summary: "A report with everything its page shows: totals, series for charts, tables",
      description: "`/api/reports/{id}.pdf` answers the PDF instead.",
      request: { params: IdParam },
      responses: { 200: jsonContent(z.object({ report: ReportSchema }), "The report"), ...errorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const row = await findReport(c.env, c.get("principal").accountId, id);
      if (!row) throw notFound("report");
      return c.json({ report: toReport(c.env, row) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: ["Reports"],
      summary: "Build a report now for a period in the account's time zone (admin)",
      description:
        "`period_start` is the period's first local day: any day (daily), a Monday (weekly), the 1st (monthly). " +
        "Past periods and the current one are allowed. `deliver: true` also sends it to the integrations " +
        "subscribed to that frequency.",
      middleware: [requireAdmin] as const,
      request: { body: jsonBody(CreateReportBody) },
      responses: {
        201: jsonContent(
          z.object({ report: ReportSchema, delivered_to: z.number().int() }),
          "The stored report; delivered_to counts the integrations it was queued for",
        ),
        ...errorResponses,
        429: rateLimitedResponse("builds"),
      },
    }),
    async (c) => {
      const principal = c.get("principal");
      const body = c.req.valid("json");
      await limitPerAccount(c.get("db"), "report-build", principal.accountId, reportBuildLimit(c.env));
      const account = await loadAccount(c, principal);
      const timeZone = account.timeZone;
      if (!isPeriodStart(body.frequency, body.period_start)) {
        const suggestion = periodStartFor(body.frequency, body.period_start);
        const rule = body.frequency === "weekly" ? "a Monday" : "the first day of a month";
        throw validationError([
          {
            field: "period_start",
            message: `A ${body.frequency} period starts on ${rule} (for example ${suggestion}).`,
          },
        ]);
      }
      const today = localDateOf(Date.now(), timeZone);
      if (body.period_start > today) {
        throw validationError([
          { field: "period_start", message: `The period has not started yet (today is ${today}).` },
        ]);
      }
      const period = periodOf(body.frequency, body.period_start, timeZone);
      const started = performance.now();
      const data = await buildReportData(c.env, { id: account.id, name: account.name, timeZone }, period);
      const buildMs = performance.now() - started;
      const row = newReportRow(account.id, period, "manual", data);
      const db = c.get("db");
      await saveReportBody(c.env, row);
      await db.batch([
        db.insert(reports).values(metadataOf(row)),
        auditByCaller(c, {
          action: "report.created",
          targetType: "report",
          targetId: row.id,
          details: { frequency: row.frequency, period_start: row.periodStart, deliver: body.deliver },
        }),
      ]);
      const deliveredTo = body.deliver ? await deliverReport(c.env, row, account.name) : 0;
      c.header("Server-Timing", `build;dur=${buildMs.toFixed(1)}`);
      return c.json({ report: toReport(c.env, row), delivered_to: deliveredTo }, 201);
    },
  );

export default routes;
