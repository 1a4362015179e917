import { and, eq } from "drizzle-orm";
import { createDb } from "../db/client";
import { type ReportFrequency, reports } from "../db/schema";
import type { ReportPeriod } from "../domain/report-periods";
import type { Env } from "../env";
import { accountIngestObject } from "../ingest/account-object";
import { uuidv7 } from "../lib/ids";
import { uiLink } from "../lib/links";
import { DAY_MS, iso } from "../lib/time";
import { type Report, type ReportData, type ReportSummary, reportTitle } from "./schema";

export type ReportRow = typeof reports.$inferSelect;
type ReportOrigin = "schedule" | "manual";

/** A new report row for this period (its id orders reports by creation time). */
export function newReportRow(
  accountId: string,
  period: ReportPeriod,
  origin: ReportOrigin,
  data: ReportData,
): ReportRow {
  const now = Date.now();
  return {
    id: uuidv7(now),
    accountId,
    frequency: period.frequency,
    periodStart: period.start,
    periodEnd: period.end,
    timeZone: period.timeZone,
    origin,
    data,
    createdAt: now,
  };
}

/**
 * Keeps a new report's body in the account's object (docs/storage.md#reports); call before its
 * D1 row is written, which then carries no data (`metadataOf`), so no row lacks its body.
 */
export async function saveReportBody(env: Env, row: ReportRow): Promise<void> {
  await accountIngestObject(env, row.accountId).saveReportBody(row.id, JSON.stringify(row.data), row.createdAt);
}

/** The D1 row of a new report: the metadata only (its body is in the account's object). */
export function metadataOf(row: ReportRow): ReportRow {
  return { ...row, data: null };
}

/**
 * A D1 row with its body: rows written before the bodies moved keep theirs in D1, newer ones are
 * read from the account's object. Null when the body is gone (purged meanwhile).
 */
export async function withBody(env: Env, row: ReportRow): Promise<ReportRow | null> {
  if (row.data !== null && row.data !== undefined) return row;
  const body = await accountIngestObject(env, row.accountId).reportBody(row.id);
  return body === null ? null : { ...row, data: JSON.parse(body) };
}

/** A report of the account, or null (another account's id is simply not found). */
export async function findReport(env: Env, accountId: string, reportId: string): Promise<ReportRow | null> {
  const row = await createDb(env.DB).query.reports.findFirst({
    where: and(eq(reports.id, reportId), eq(reports.accountId, accountId)),
  });
  return row ? withBody(env, row) : null;
}

/** The report page in the UI. */
export function reportPageUrl(env: Env, reportId: string): string {
  return uiLink(env.PUBLIC_URL, `/reports/${reportId}`);
}

export function reportPdfPath(reportId: string): `/${string}` {
  return `/api/reports/${reportId}/pdf`;
}

export function reportFileName(row: Pick<ReportRow, "frequency" | "periodStart">): string {
  return `herald-${row.frequency}-${row.periodStart}.pdf`;
}

export function toReport(env: Env, row: ReportRow): Report {
  return { ...toSummary(row), page_url: reportPageUrl(env, row.id), data: row.data as ReportData };
}

function toSummary(row: ReportRow): ReportSummary {
  const data = row.data as ReportData;
  return summaryOf(row, {
    hits: data.totals?.hits?.current ?? 0,
    incidents: data.totals?.incidents?.current ?? 0,
    newIssues: data.totals?.new_security_issues?.current ?? 0,
  });
}

function summaryOf(
  row: Omit<ReportRow, "data" | "accountId">,
  totals: { hits: number; incidents: number; newIssues: number },
): ReportSummary {
  return {
    id: row.id,
    frequency: row.frequency,
    period_start: row.periodStart,
    period_end: row.periodEnd,
    time_zone: row.timeZone,
    origin: row.origin,
    created_at: iso(row.createdAt),
    title: reportTitle(row.frequency, row.periodStart, row.periodEnd),
    hits: totals.hits,
    incidents: totals.incidents,
    new_security_issues: totals.newIssues,
    pdf_url: reportPdfPath(row.id),
  };
}

/**
 * Newest first, `limit` per page; the cursor is the last id of the previous page (ids are
 * UUIDv7, so they sort by creation). The totals are read inside SQLite, not by loading every
 * report's data: from D1 for rows that still hold their data, else in one call to the account's
 * object.
 */
export async function listReports(
  env: Env,
  accountId: string,
  options: { limit: number; cursor?: string; frequency?: ReportFrequency },
): Promise<{ reports: ReportSummary[]; nextCursor: string | null }> {
  const conditions = ["account_id = ?1"];
  const params: unknown[] = [accountId];
  if (options.cursor) {
    params.push(options.cursor);
    conditions.push(`id < ?${params.length}`);
  }
  if (options.frequency) {
    params.push(options.frequency);
    conditions.push(`frequency = ?${params.length}`);
  }
  params.push(options.limit + 1);
  const { results } = await env.DB.prepare(
    `SELECT id, frequency, period_start, period_end, time_zone, origin, created_at,
       coalesce(data->>'$.totals.hits.current', 0) AS hits,
       coalesce(data->>'$.totals.incidents.current', 0) AS incidents,
       coalesce(data->>'$.totals.new_security_issues.current', 0) AS new_issues,
       data IS NOT NULL AS in_d1
     FROM reports WHERE ${conditions.join(" AND ")} ORDER BY id DESC LIMIT ?${params.length}`,
  )
    .bind(...params)
    .all<{
      id: string;
      frequency: ReportFrequency;
      period_start: string;
      period_end: string;
      time_zone: string;
      origin: string;
      created_at: number;
      hits: number;
      incidents: number;
      new_issues: number;
      in_d1: number;
    }>();
  const page = results.slice(0, options.limit);
  const inObject = page.filter((row) => !row.in_d1).map((row) => row.id);
  const objectTotals = new Map(
    inObject.length > 0
      ? (await accountIngestObject(env, accountId).reportTotals(inObject)).map((t) => [t.id, t] as const)
      : [],
  );
  return {
    reports: page.map((row) =>
      summaryOf(
        {
          id: row.id,
          frequency: row.frequency,
          periodStart: row.period_start,
          periodEnd: row.period_end,
          timeZone: row.time_zone,
          origin: row.origin,
          createdAt: row.created_at,
        },
        objectTotals.get(row.id) ?? { hits: row.hits, incidents: row.incidents, newIssues: row.new_issues },
      ),
    ),
    nextCursor: results.length > options.limit ? (page[page.length - 1]?.id ?? null) : null,
  };
}

/** The smallest UUIDv7 of a millisecond: every id created before it sorts lower. */
export function idFloorAt(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-0000-0000-000000000000`;
}

/** Accounts whose old reports one purge call handles (one call to each one's object). */
const PURGE_ACCOUNTS_PER_CALL = 100;

/**
 * Deletes reports older than REPORT_RETENTION_DAYS (and old claims), a bounded number of accounts
 * per call; the hourly cron calls it, so a backlog drains over a few hours. Report ids are
 * UUIDv7, so "older than" is a range on the primary key. Each account's object drops its old
 * bodies and day digests first; only then are the D1 rows deleted, so a failed object call
 * leaves the rows for the next run and never a body without its row.
 */
export async function purgeOldReports(env: Env, now = Date.now()): Promise<number> {
  const days = Number(env.REPORT_RETENTION_DAYS) || 365;
  const cutoff = now - days * DAY_MS;
  const floor = idFloorAt(cutoff);
  const { results: accounts } = await env.DB.prepare("SELECT DISTINCT account_id FROM reports WHERE id < ?1 LIMIT ?2")
    .bind(floor, PURGE_ACCOUNTS_PER_CALL)
    .all<{ account_id: string }>();
  await Promise.all(accounts.map((a) => accountIngestObject(env, a.account_id).purgeReports(cutoff)));
  const [deleted] = await env.DB.batch([
    env.DB.prepare(`DELETE FROM reports WHERE id < ?1 AND account_id IN (SELECT value FROM json_each(?2))`).bind(
      floor,
      JSON.stringify(accounts.map((a) => a.account_id)),
    ),
    env.DB.prepare(
      "DELETE FROM report_runs WHERE rowid IN (SELECT rowid FROM report_runs WHERE claimed_at < ?1 LIMIT 1000)",
    ).bind(cutoff),
  ]);
  return deleted?.meta.changes ?? 0;
}
