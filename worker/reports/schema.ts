import { z } from "@hono/zod-openapi";
import { DISABLE_REASONS, REPORT_FREQUENCIES } from "../db/schema";
import { RISKS } from "../domain/subscriptions";

/**
 * The stored report's data: what `GET /api/reports/:id` returns for the report page (charts and
 * tables) and what the PDF is drawn from. One zod schema, so the OpenAPI document, the UI's typed
 * client and the builder agree. Counts come from the hourly rollups; lists are bounded.
 */

const ChangeSchema = z
  .object({
    current: z.number().int(),
    previous: z.number().int(),
    /** current − previous */
    change: z.number().int(),
    /** Percentage change; null when the previous period had none. */
    change_pct: z.number().nullable(),
  })
  .openapi("ReportChange");
export type Change = z.infer<typeof ChangeSchema>;

const RankedRowSchema = z.object({
  key: z.string(),
  count: z.number().int(),
  /** Share of all attacks (hits and incidents) in the period, 0–1. */
  share: z.number(),
});
export type RankedRow = z.infer<typeof RankedRowSchema>;

const RiskCountsSchema = z.object(
  Object.fromEntries(RISKS.map((risk) => [risk, z.number().int()])) as Record<(typeof RISKS)[number], z.ZodNumber>,
);

const PeriodSchema = z.object({
  /** First local day, YYYY-MM-DD. */
  start: z.string(),
  /** Last local day (inclusive). */
  end: z.string(),
  /** UTC instants of the period's bounds (end exclusive). */
  start_at: z.string(),
  end_at: z.string(),
});

const SecurityIssueRowSchema = z.object({
  id: z.string(),
  first_seen: z.string(),
  risk: z.string(),
  title: z.string(),
  vuln_type: z.string().nullable(),
  host: z.string().nullable(),
  method: z.string().nullable(),
  path: z.string().nullable(),
  parameter: z.string().nullable(),
  discovered_by: z.string().nullable(),
  status: z.string(),
});
export type SecurityIssueRow = z.infer<typeof SecurityIssueRowSchema>;

const ScopeChangeRowSchema = z.object({
  id: z.string(),
  occurred_at: z.string(),
  change: z.string(),
  object_type: z.string(),
  value: z.string(),
});
export type ScopeChangeRow = z.infer<typeof ScopeChangeRowSchema>;

const IntegrationHealthSchema = z.object({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  status: z.string(),
  disabled_reason: z.enum(DISABLE_REASONS).nullable(),
  disabled_at: z.string().nullable(),
  /**
   * Seconds of the report's period that the figures cover: all of it, or the part still in the
   * delivery log (kept DELIVERY_LOG_RETENTION_DAYS, 30 by default, or less for an integration past
   * its DELIVERY_LOG_MAX_NOTIFICATIONS) when the report was built.
   */
  window_seconds: z.number().nullable(),
  requests: z.number().int().nullable(),
  failed: z.number().int().nullable(),
  /** 0–1; null when no request was made in the window or the figures were unavailable. */
  success_rate: z.number().nullable(),
});
export type IntegrationHealth = z.infer<typeof IntegrationHealthSchema>;

const TimePointSchema = z.object({
  /** First UTC hour of the bucket. */
  start: z.string(),
  /** Local label: "14:00" (hourly) or "2026-11-03" (daily). */
  label: z.string(),
  hits: z.number().int(),
  blocked: z.number().int(),
  monitored: z.number().int(),
  incidents: z.number().int(),
});
export type TimePoint = z.infer<typeof TimePointSchema>;

const ReportDataSchema = z
  .object({
    version: z.literal(1),
    account: z.object({ name: z.string(), time_zone: z.string() }),
    frequency: z.enum(REPORT_FREQUENCIES),
    period: PeriodSchema.extend({ hours: z.number().int(), days: z.number().int() }),
    previous_period: PeriodSchema,
    generated_at: z.string(),
    totals: z.object({
      hits: ChangeSchema,
      blocked: ChangeSchema,
      monitored: ChangeSchema,
      incidents: ChangeSchema,
      new_security_issues: ChangeSchema,
      new_security_issues_by_risk: z.object(
        Object.fromEntries(RISKS.map((risk) => [risk, ChangeSchema])) as Record<
          (typeof RISKS)[number],
          typeof ChangeSchema
        >,
      ),
      scope_changes: ChangeSchema,
    }),
    hits_over_time: z.object({ bucket: z.enum(["hour", "day"]), points: z.array(TimePointSchema) }),
    top: z.object({
      attack_types: z.array(RankedRowSchema),
      hosts: z.array(RankedRowSchema),
      paths: z.array(RankedRowSchema),
      source_ips: z.array(RankedRowSchema),
      countries: z.array(RankedRowSchema),
      /**
       * Tables whose counts may be slightly low: weekly and monthly tops sum each day's top 100
       * keys, and these had days with more keys than that.
       */
      approximate: z.array(z.enum(["attack_types", "hosts", "paths", "source_ips", "countries"])),
    }),
    new_security_issues: z.object({
      total: z.number().int(),
      by_risk: RiskCountsSchema,
      /** At most 50, most severe first; `total` counts them all. */
      items: z.array(SecurityIssueRowSchema),
    }),
    /** Issues first seen before the period ended and still open when the report was built. */
    open_security_issues: z.object({ total: z.number().int(), by_risk: RiskCountsSchema }),
    scope_changes: z.object({
      total: z.number().int(),
      added: z.number().int(),
      removed: z.number().int(),
      by_object_type: z.array(
        z.object({ object_type: z.string(), added: z.number().int(), removed: z.number().int() }),
      ),
      /** At most 50, newest first. */
      items: z.array(ScopeChangeRowSchema),
    }),
    integration_health: z.object({
      integrations: z.array(IntegrationHealthSchema),
      auto_disabled: z.array(IntegrationHealthSchema),
    }),
  })
  .openapi("ReportData");
export type ReportData = z.infer<typeof ReportDataSchema>;

export const ReportSummarySchema = z
  .object({
    id: z.string(),
    frequency: z.enum(REPORT_FREQUENCIES),
    period_start: z.string(),
    period_end: z.string(),
    time_zone: z.string(),
    /** "schedule" or "manual". */
    origin: z.string(),
    created_at: z.string(),
    title: z.string(),
    hits: z.number().int(),
    incidents: z.number().int(),
    new_security_issues: z.number().int(),
    pdf_url: z.string(),
  })
  .openapi("ReportSummary");
export type ReportSummary = z.infer<typeof ReportSummarySchema>;

export const ReportSchema = ReportSummarySchema.extend({
  /** The report page in the UI. */
  page_url: z.string(),
  data: ReportDataSchema,
}).openapi("Report");
export type Report = z.infer<typeof ReportSchema>;

export const FREQUENCY_TITLES: Record<(typeof REPORT_FREQUENCIES)[number], string> = {
  daily: "Daily",
  weekly: "Weekly",
  monthly: "Monthly",
};

export function reportTitle(frequency: (typeof REPORT_FREQUENCIES)[number], start: string, end: string): string {
  const span = start === end ? start : `${start} – ${end}`;
  return `${FREQUENCY_TITLES[frequency]} security report, ${span}`;
}
