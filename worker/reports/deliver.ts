import { and, eq } from "drizzle-orm";
import { createDb } from "../db/client";
import { integrations } from "../db/schema";
import type { Notification, NotificationType, OutboxItem } from "../domain/notification";
import { type EventSubscriptions, subscribesTo } from "../domain/subscriptions";
import type { Env } from "../env";
import { uiLink } from "../lib/links";
import { iso } from "../lib/time";
import { enqueuePlan } from "../outbox/enqueue";
import { type Change, FREQUENCY_TITLES, type ReportData, reportTitle } from "./schema";
import { type ReportRow, reportFileName, reportPageUrl, reportPdfPath } from "./store";

function signed(change: Change): string {
  if (change.change_pct === null) return change.current === 0 ? "" : " (new)";
  const sign = change.change_pct > 0 ? "+" : "";
  return ` (${sign}${change.change_pct}% vs previous)`;
}

/**
 * The compact report carried in `details.report` (webhook receives it as is; Slack, Telegram
 * and email render their summary from it): the period, the totals and their change, the top
 * attack types and the links. The full report stays behind the link and in the PDF.
 */
function reportSummaryDetails(env: Env, row: ReportRow) {
  const data = row.data as ReportData;
  return {
    id: row.id,
    frequency: row.frequency,
    title: reportTitle(row.frequency, row.periodStart, row.periodEnd),
    period_start: row.periodStart,
    period_end: row.periodEnd,
    time_zone: row.timeZone,
    totals: data.totals,
    open_security_issues: data.open_security_issues.by_risk,
    top_attack_types: data.top.attack_types.slice(0, 5).map(({ key, count }) => ({ key, count })),
    auto_disabled_integrations: data.integration_health.auto_disabled.map(({ id, name, type }) => ({ id, name, type })),
    link: reportPageUrl(env, row.id),
    pdf_url: uiLink(env.PUBLIC_URL, reportPdfPath(row.id)),
    pdf_file_name: reportFileName(row),
  };
}

/** The canonical notification of a stored report (docs/reports.md); its id is the report's id. */
export function buildReportNotification(env: Env, row: ReportRow, accountName: string): Notification {
  const data = row.data as ReportData;
  const t = data.totals;
  const type = `report_${row.frequency}` as NotificationType;
  const lines = [
    `Notification type: ${type}`,
    `Period: ${row.periodStart}${row.periodEnd === row.periodStart ? "" : ` to ${row.periodEnd}`} (${row.timeZone})`,
    `Hits: ${t.hits.current}${signed(t.hits)}`,
    `Blocked: ${t.blocked.current}, monitored: ${t.monitored.current}`,
    `Incidents: ${t.incidents.current}${signed(t.incidents)}`,
    `New security issues: ${t.new_security_issues.current}${signed(t.new_security_issues)}`,
    `Scope changes: ${t.scope_changes.current}`,
    `Open security issues: ${data.open_security_issues.total}`,
  ];
  if (data.integration_health.auto_disabled.length > 0) {
    lines.push(`Auto-disabled integrations: ${data.integration_health.auto_disabled.map((i) => i.name).join(", ")}`);
  }
  return {
    id: row.id,
    summary: `[Herald] ${FREQUENCY_TITLES[row.frequency]} security report: ${row.periodStart}${
      row.periodEnd === row.periodStart ? "" : ` – ${row.periodEnd}`
    }`,
    description: lines.join("\n"),
    details: {
      client_name: accountName,
      notification_type: type,
      occurred_at: iso(row.createdAt),
      link: reportPageUrl(env, row.id),
      report: reportSummaryDetails(env, row),
    },
  };
}

/**
 * Queues the report's notification in every enabled integration of the account subscribed to its
 * frequency. The notification id is the report id and the outbox ignores a known id, so calling
 * this again for the same report (a retried job) queues nothing twice. Resolves once every
 * IntegrationDO stored it; answers how many integrations it was queued to.
 */
export async function deliverReport(env: Env, row: ReportRow, accountName: string): Promise<number> {
  const targets = await createDb(env.DB)
    .select({ id: integrations.id, events: integrations.events })
    .from(integrations)
    .where(and(eq(integrations.accountId, row.accountId), eq(integrations.status, "enabled")));
  const subscribed = targets.filter((target) =>
    subscribesTo((target.events ?? {}) as EventSubscriptions, { type: "report", frequency: row.frequency }),
  );
  if (subscribed.length === 0) return 0;
  const item: OutboxItem = { notification: buildReportNotification(env, row, accountName), reportId: row.id };
  await enqueuePlan(env, new Map(subscribed.map((target) => [target.id, [item]])));
  return subscribed.length;
}
