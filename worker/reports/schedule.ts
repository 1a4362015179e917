import { z } from "zod";
import { createDb } from "../db/client";
import { REPORT_FREQUENCIES } from "../db/schema";
import {
  type Frequency,
  isValidTimeZone,
  periodOf,
  periodsEndedBetween,
  type ReportPeriod,
  rollupRange,
} from "../domain/report-periods";
import { buildSystemEvent, systemEventOutboxInsert } from "../domain/system-events";
import type { Env } from "../env";
import { accountIngestObject } from "../ingest/account-object";
import { uiLink } from "../lib/links";
import { DAY_MS } from "../lib/time";
import { raiseSystemNotice } from "../notices/system-notice";
import { buildReportData } from "./build";
import { deliverReport } from "./deliver";
import { newReportRow, purgeOldReports, type ReportRow, saveReportBody, withBody } from "./store";

/**
 * Scheduled reports, in two halves:
 *
 * 1. The hourly cron (`runReportSchedule`) finds, per account, the periods that ended in its time
 *    zone within the catch-up window and claims each with a `report_runs` row (INSERT OR IGNORE …
 *    RETURNING answers only the rows this run inserted), then queues one job per claim. A second
 *    cron at the same time inserts nothing and queues nothing.
 * 2. A job (`runReportJob`, the REPORT_JOBS queue consumer) takes the claim, builds and stores the
 *    report, and queues its notification in each subscribed integration's outbox. Every report is
 *    its own queue message, so one huge account never shares an invocation's limits with others.
 *
 * Crashes: a claim left "queued" or "building" longer than STALE_MS is queued again by the next
 * cron; a job that stored the report before crashing is finished by reusing it, and the outboxes
 * ignore a notification id they already hold, so nothing is sent twice.
 */

/** How far back the cron looks for ended periods: a missed hour or a down weekend is caught up. */
const CATCH_UP_MS = 3 * DAY_MS;
const CATCH_UP_LIMIT: Record<Frequency, number> = { daily: 3, weekly: 1, monthly: 1 };
/** A claim untouched this long is abandoned (a Worker invocation never lives this long). */
export const STALE_MS = 20 * 60_000;
export const MAX_ATTEMPTS = 5;
/** Without the queue binding the cron builds this many reports itself; the rest wait for later runs. */
const INLINE_JOBS = 5;
/** D1 allows 2 MB per bound value: claims travel as JSON in chunks of this many. */
const CLAIM_CHUNK = 2_000;

const ReportJobSchema = z.object({
  accountId: z.string().min(1),
  frequency: z.enum(REPORT_FREQUENCIES),
  periodStart: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
});
export type ReportJob = z.infer<typeof ReportJobSchema>;

interface AccountRow {
  id: string;
  name: string;
  time_zone: string;
  created_at: number;
}

/** The periods of every frequency that are due in a zone: ended in the window, rollup hour closed. */
function duePeriods(timeZone: string, now: number): ReportPeriod[] {
  const due: ReportPeriod[] = [];
  for (const frequency of REPORT_FREQUENCIES) {
    for (const period of periodsEndedBetween(frequency, timeZone, now - CATCH_UP_MS, now, CATCH_UP_LIMIT[frequency])) {
      if (rollupRange(period).toHour <= now) due.push(period);
    }
  }
  return due;
}

/** Claims every due period not claimed yet; answers the claims this call made. */
async function claimDueReports(env: Env, now: number): Promise<ReportJob[]> {
  const { results: accounts } = await env.DB.prepare(
    "SELECT id, name, time_zone, created_at FROM accounts",
  ).all<AccountRow>();
  const byZone = new Map<string, ReportPeriod[]>();
  const candidates: ReportJob[] = [];
  for (const account of accounts) {
    const zone = isValidTimeZone(account.time_zone) ? account.time_zone : "UTC";
    let periods = byZone.get(zone);
    if (!periods) {
      periods = duePeriods(zone, now);
      byZone.set(zone, periods);
    }
    for (const period of periods) {
      // No report for a period that ended before the account existed.
      if (period.endMs <= account.created_at) continue;
      candidates.push({ accountId: account.id, frequency: period.frequency, periodStart: period.start });
    }
  }
  const claimed: ReportJob[] = [];
  for (let i = 0; i < candidates.length; i += CLAIM_CHUNK) {
    const chunk = candidates.slice(i, i + CLAIM_CHUNK).map((c) => [c.accountId, c.frequency, c.periodStart]);
    const { results } = await env.DB.prepare(
      `INSERT OR IGNORE INTO report_runs (account_id, frequency, period_start, status, claimed_at, attempts)
       SELECT value->>0, value->>1, value->>2, 'queued', ?2, 0 FROM json_each(?1)
       RETURNING account_id, frequency, period_start`,
    )
      .bind(JSON.stringify(chunk), now)
      .all<{ account_id: string; frequency: Frequency; period_start: string }>();
    for (const row of results) {
      claimed.push({ accountId: row.account_id, frequency: row.frequency, periodStart: row.period_start });
    }
  }
  return claimed;
}

/** Claims abandoned by a crashed job or a lost message go back to "queued"; answers them. */
async function requeueStaleClaims(env: Env, now: number): Promise<ReportJob[]> {
  const { results } = await env.DB.prepare(
    `UPDATE report_runs SET status = 'queued', claimed_at = ?1
     WHERE rowid IN (SELECT rowid FROM report_runs WHERE status IN ('queued', 'building') AND claimed_at < ?2 LIMIT 500)
     RETURNING account_id, frequency, period_start`,
  )
    .bind(now, now - STALE_MS)
    .all<{ account_id: string; frequency: Frequency; period_start: string }>();
  return results.map((row) => ({ accountId: row.account_id, frequency: row.frequency, periodStart: row.period_start }));
}

/** Hands jobs to the queue (100 per send, the Queues batch limit) or, without it, runs a few here. */
async function dispatch(env: Env, jobs: ReportJob[]): Promise<void> {
  if (jobs.length === 0) return;
  if (env.REPORT_JOBS) {
    for (let i = 0; i < jobs.length; i += 100) {
      await env.REPORT_JOBS.sendBatch(jobs.slice(i, i + 100).map((body) => ({ body })));
    }
    return;
  }
  for (const job of jobs.slice(0, INLINE_JOBS)) {
    try {
      await runReportJob(env, job);
    } catch (error) {
      console.error("report job failed", { job, error: String(error) });
    }
  }
}

/** The hourly cron step: purge old reports, claim what is due, queue the jobs. */
export async function runReportSchedule(env: Env, scheduledTime: number): Promise<void> {
  await purgeOldReports(env);
  const claimed = await claimDueReports(env, scheduledTime);
  const requeued = await requeueStaleClaims(env, Date.now());
  await dispatch(env, [...claimed, ...requeued]);
}

type JobOutcome = "done" | "skipped" | "failed";

/**
 * Runs one claimed report: take the claim (only from "queued", or a stale "building"), build and
 * store the report unless a previous attempt did, queue its notifications, mark it done. Writes
 * after the take are fenced by the attempt number, so a job that lost its claim changes nothing.
 * Throws after recording the error, for the queue to retry.
 */
export async function runReportJob(env: Env, job: ReportJob, now = Date.now()): Promise<JobOutcome> {
  const key = [job.accountId, job.frequency, job.periodStart] as const;
  const taken = await env.DB.prepare(
    `UPDATE report_runs SET status = 'building', claimed_at = ?4, attempts = attempts + 1, error = NULL
     WHERE account_id = ?1 AND frequency = ?2 AND period_start = ?3
       AND (status = 'queued' OR (status = 'building' AND claimed_at < ?5))
     RETURNING report_id, attempts`,
  )
    .bind(...key, now, now - STALE_MS)
    .first<{ report_id: string | null; attempts: number }>();
  if (!taken) return "skipped";
  const fence = taken.attempts;
  const fenced = "account_id = ?1 AND frequency = ?2 AND period_start = ?3 AND status = 'building' AND attempts = ?4";

  try {
    const account = await env.DB.prepare("SELECT id, name, time_zone FROM accounts WHERE id = ?1")
      .bind(job.accountId)
      .first<{ id: string; name: string; time_zone: string }>();
    if (!account) {
      await env.DB.prepare(`UPDATE report_runs SET status = 'failed', error = 'account deleted' WHERE ${fenced}`)
        .bind(...key, fence)
        .run();
      return "failed";
    }
    // A previous attempt may have stored the report before it crashed: deliver that one.
    const row =
      (taken.report_id ? await loadRow(env, taken.report_id) : null) ??
      (await storeFenced(
        env,
        account,
        periodOf(job.frequency, job.periodStart, zoneOf(account.time_zone)),
        key,
        fence,
      ));
    if (!row) return "skipped";
    await deliverReport(env, row, account.name);
    await env.DB.prepare(`UPDATE report_runs SET status = 'done', finished_at = ?5 WHERE ${fenced}`)
      .bind(...key, fence, Date.now())
      .run();
    return "done";
  } catch (error) {
    const message = String((error as Error)?.message ?? error).slice(0, 500);
    const recorded = await env.DB.prepare(
      `UPDATE report_runs SET status = CASE WHEN attempts >= ${MAX_ATTEMPTS} THEN 'failed' ELSE 'queued' END,
         error = ?5, claimed_at = ?6 WHERE ${fenced} RETURNING status`,
    )
      .bind(...key, fence, message, Date.now())
      .first<{ status: string }>();
    if (recorded?.status === "failed") await announceFailedReport(env, job, fence, message);
    throw error;
  }
}

/**
 * A scheduled report given up after its last attempt must not vanish silently: a `scheduled_report_failed`
 * system event goes to the account's integrations subscribed to `system`, and a direct email to
 * every admin who does not get those. Best effort, like the auto-disable notice: the run is
 * already recorded as failed (with its error) whatever happens here.
 */
async function announceFailedReport(env: Env, job: ReportJob, attempts: number, error: string): Promise<void> {
  try {
    const what = `The ${job.frequency} report for ${job.periodStart}`;
    const message = `${what} could not be built or sent after ${attempts} attempts: ${error}`;
    const event = buildSystemEvent(job.accountId, "scheduled_report_failed", "Herald", message, {
      frequency: job.frequency,
      period_start: job.periodStart,
      attempts,
      error,
    });
    await systemEventOutboxInsert(createDb(env.DB), event);
    await raiseSystemNotice(env, event, {
      subject: `[Herald] ${what} failed`,
      text: `${message}\n\nReports on demand: ${uiLink(env.PUBLIC_URL, "/reports")}\n`,
    });
  } catch (failure) {
    console.error("announcing a failed report failed", { job, error: String(failure) });
  }
}

function zoneOf(timeZone: string): string {
  return isValidTimeZone(timeZone) ? timeZone : "UTC";
}

async function loadRow(env: Env, reportId: string): Promise<ReportRow | null> {
  const row = await env.DB.prepare("SELECT * FROM reports WHERE id = ?1")
    .bind(reportId)
    .first<Record<string, unknown>>();
  if (!row) return null;
  return withBody(env, {
    id: String(row.id),
    accountId: String(row.account_id),
    frequency: row.frequency as Frequency,
    periodStart: String(row.period_start),
    periodEnd: String(row.period_end),
    timeZone: String(row.time_zone),
    origin: String(row.origin),
    data: row.data === null ? null : JSON.parse(String(row.data)),
    createdAt: Number(row.created_at),
  });
}

/**
 * Stores the report and records its id on the claim in one atomic batch, both only while this
 * job still holds the claim; answers null when it does not (another job took over).
 */
async function storeFenced(
  env: Env,
  account: { id: string; name: string; time_zone: string },
  period: ReportPeriod,
  key: readonly [string, string, string],
  fence: number,
): Promise<ReportRow | null> {
  const data = await buildReportData(env, { id: account.id, name: account.name, timeZone: period.timeZone }, period);
  const row = newReportRow(account.id, period, "schedule", data);
  await saveReportBody(env, row);
  const holds = `EXISTS (SELECT 1 FROM report_runs WHERE account_id = ?1 AND frequency = ?2 AND period_start = ?3
    AND status = 'building' AND attempts = ?4)`;
  const [inserted] = await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO reports (id, account_id, frequency, period_start, period_end, time_zone, origin, created_at)
       SELECT ?5, ?1, ?2, ?6, ?7, ?8, 'schedule', ?9 WHERE ${holds}`,
    ).bind(...key, fence, row.id, row.periodStart, row.periodEnd, row.timeZone, row.createdAt),
    env.DB.prepare(
      `UPDATE report_runs SET report_id = ?5 WHERE account_id = ?1 AND frequency = ?2 AND period_start = ?3
         AND status = 'building' AND attempts = ?4`,
    ).bind(...key, fence, row.id),
  ]);
  if ((inserted?.meta.changes ?? 0) > 0) return row;
  // Another job took over: its own body is the one kept.
  await accountIngestObject(env, account.id).deleteReportBody(row.id);
  return null;
}

/** The queue consumer: one message per report; a failed job is retried later by the queue. */
export async function handleReportJobs(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const parsed = ReportJobSchema.safeParse(message.body);
    if (!parsed.success) {
      console.error("malformed report job dropped", { id: message.id });
      message.ack();
      continue;
    }
    try {
      await runReportJob(env, parsed.data);
      message.ack();
    } catch (error) {
      console.error("report job failed", { job: parsed.data, error: String(error) });
      message.retry({ delaySeconds: Math.min(600, 30 * message.attempts) });
    }
  }
}

/** The cron step (worker/scheduled.ts): periods are judged at the cron's scheduled time. */
export async function reportScheduleStep(controller: ScheduledController, env: Env): Promise<void> {
  await runReportSchedule(env, controller.scheduledTime);
}
