import { eq } from "drizzle-orm";
import { createDb } from "../db/client";
import { reports } from "../db/schema";
import type { ReportAttachment } from "../domain/notification";
import type { Env } from "../env";
import { renderReportPdf } from "./pdf";
import type { ReportData } from "./schema";
import { type ReportRow, reportFileName, withBody } from "./store";

/**
 * The reports module's entry points for other parts of Herald: the delivery engine loads a
 * report's PDF by id when a channel sends it (email attachment, Telegram document).
 */

/** The PDF of a stored report. Throws if the report no longer exists (purged after a year). */
async function loadReportPdf(env: Env, reportId: string): Promise<Uint8Array> {
  const row = await createDb(env.DB).query.reports.findFirst({ where: eq(reports.id, reportId) });
  const full = row ? await withBody(env, row) : null;
  if (!full) throw new Error(`Report ${reportId} does not exist.`);
  return reportPdf(full);
}

export function reportPdf(row: ReportRow): Promise<Uint8Array> {
  return renderReportPdf({ ...row, data: row.data as ReportData });
}

/**
 * The attachment a channel's sendReport receives (the delivery engine's `LoadReport`): the file
 * name now, the PDF only when the channel asks for it. Null once the report is gone.
 */
export async function loadReportAttachment(env: Env, reportId: string): Promise<ReportAttachment | null> {
  const row = await env.DB.prepare("SELECT id, frequency, period_start FROM reports WHERE id = ?1")
    .bind(reportId)
    .first<{ id: string; frequency: ReportRow["frequency"]; period_start: string }>();
  if (!row) return null;
  return {
    reportId: row.id,
    fileName: reportFileName({ frequency: row.frequency, periodStart: row.period_start }),
    loadPdf: () => loadReportPdf(env, row.id),
  };
}

export { buildReportNotification, deliverReport } from "./deliver";
export { runReportSchedule } from "./schedule";
