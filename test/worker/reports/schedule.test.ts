/**
 * The hourly cron's report step: claims (two crons at once → one report, one delivery per
 * integration), catch-up after missed hours, crash recovery without sending twice, the inline
 * fallback without a queue, retention. Jobs run through the real REPORT_JOBS queue consumer.
 */
import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { Env } from "../../../worker/env";
import { listAccountEvents } from "../../../worker/events/query";
import {
  handleReportJobs,
  MAX_ATTEMPTS,
  runReportJob,
  runReportSchedule,
  STALE_MS,
} from "../../../worker/reports/schedule";
import { idFloorAt } from "../../../worker/reports/store";
import { runScheduled } from "../../../worker/scheduled";
import { createIntegration } from "../delivery/fixtures";
import { api, json, login, seedAccount } from "../helpers";
import { bucketName, hubRequests, hubUrl, mailTo, waitForRequests } from "../hub";
import { fixture } from "../integrations/fixtures";
import { at, hits, seedEvents } from "./seed";

const appEnv = env as unknown as Env;

interface RunRow {
  frequency: string;
  period_start: string;
  status: string;
  report_id: string | null;
  attempts: number;
}

async function runsOf(accountId: string): Promise<RunRow[]> {
  const { results } = await env.DB.prepare(
    "SELECT frequency, period_start, status, report_id, attempts FROM report_runs WHERE account_id = ?1 ORDER BY frequency, period_start",
  )
    .bind(accountId)
    .all<RunRow>();
  return results;
}

async function reportsOf(accountId: string) {
  const { results } = await env.DB.prepare(
    "SELECT id, frequency, period_start, origin FROM reports WHERE account_id = ?1 ORDER BY period_start",
  )
    .bind(accountId)
    .all<{ id: string; frequency: string; period_start: string; origin: string }>();
  return results;
}

async function waitFor<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const allDone = (rows: RunRow[]) => rows.length > 0 && rows.every((r) => r.status === "done");

async function cron(scheduledTime: string) {
  const ctx = createExecutionContext();
  await runScheduled(createScheduledController({ scheduledTime: at(scheduledTime), cron: "5 * * * *" }), appEnv, ctx);
  await waitOnExecutionContext(ctx);
}

/** An account in Tokyo created at `createdAt`, with a webhook subscribed to daily and weekly reports. */
async function tokyoAccount(createdAt: string) {
  const seeded = await seedAccount("Tokyo Co", "Asia/Tokyo");
  await env.DB.prepare("UPDATE accounts SET created_at = ?2 WHERE id = ?1").bind(seeded.accountId, at(createdAt)).run();
  const admin = await login(seeded.users.admin.email);
  const hook = fixture("webhook");
  const res = await api(admin, "POST", "/api/integrations", {
    type: "webhook",
    name: "Reports hook",
    settings: hook.settings,
    events: { reports: ["daily", "weekly"] },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return {
    accountId: seeded.accountId,
    bucket: hook.bucket as string,
    integrationId: (await json(res)).integration.id as string,
  };
}

/** Report notifications the webhook received, by report id. */
async function reportDeliveries(bucket: string): Promise<string[]> {
  const ids: string[] = [];
  for (const request of await hubRequests(bucket)) {
    for (const notification of JSON.parse(request.body) as { id: string; details: { notification_type: string } }[]) {
      if (notification.details.notification_type.startsWith("report_")) ids.push(notification.id);
    }
  }
  return ids;
}

describe("scheduled reports", () => {
  let tokyo: Awaited<ReturnType<typeof tokyoAccount>>;

  beforeAll(async () => {
    // Created 2026-11-20 01:00 in Tokyo: the first period to report is that day.
    tokyo = await tokyoAccount("2026-11-19T16:00:00Z");
    await seedEvents(
      tokyo.accountId,
      hits("2026-11-20T03:00:00Z", 7, {
        attack: "sqli",
        block: "blocked",
        host: "t.example",
        path: "/",
        ip: "1.1.1.1",
      }),
    );
  });

  it("two crons at once build one report and deliver it once per integration", async () => {
    // 2026-11-21 00:05 in Tokyo: the day 2026-11-20 has just ended there.
    await Promise.all([cron("2026-11-20T15:05:00Z"), cron("2026-11-20T15:05:00Z")]);
    const runs = await waitFor(() => runsOf(tokyo.accountId), allDone);
    expect(runs.map((r) => [r.frequency, r.period_start, r.attempts])).toEqual([["daily", "2026-11-20", 1]]);
    const stored = await reportsOf(tokyo.accountId);
    expect(stored.map((r) => [r.frequency, r.period_start, r.origin])).toEqual([["daily", "2026-11-20", "schedule"]]);
    expect(runs[0]?.report_id).toBe(stored[0]?.id);

    const delivered = await waitFor(
      () => reportDeliveries(tokyo.bucket),
      (ids) => ids.length >= 1,
    );
    expect(delivered).toEqual([stored[0]?.id]);
    const body = JSON.parse((await hubRequests(tokyo.bucket))[0]?.body ?? "[]")[0];
    expect(body.details.notification_type).toBe("report_daily");
    expect(body.details.report).toMatchObject({ period_start: "2026-11-20", time_zone: "Asia/Tokyo" });
    expect(body.details.report.totals.hits.current).toBe(7);
    expect(body.details.link).toBe(`https://herald.test/reports/${stored[0]?.id}`);

    // A third cron in the same hour changes nothing.
    await cron("2026-11-20T15:35:00Z");
    await new Promise((r) => setTimeout(r, 500));
    expect(await reportsOf(tokyo.accountId)).toHaveLength(1);
    expect(await reportDeliveries(tokyo.bucket)).toHaveLength(1);
  });

  it("catches up a day whose midnight cron was missed, and several days after an outage", async () => {
    // The cron of 2026-11-21T15:05Z never ran; the next one, an hour later, builds the 21st.
    await cron("2026-11-21T16:05:00Z");
    await waitFor(
      () => runsOf(tokyo.accountId),
      (rows) => allDone(rows) && rows.length === 2,
    );
    expect((await reportsOf(tokyo.accountId)).map((r) => r.period_start)).toEqual(["2026-11-20", "2026-11-21"]);

    // Down from then until 2026-11-24T16:05Z: the 22nd, 23rd, 24th and the week of the 16th.
    await cron("2026-11-24T16:05:00Z");
    const runs = await waitFor(
      () => runsOf(tokyo.accountId),
      (rows) => allDone(rows) && rows.length === 6,
    );
    expect(runs.map((r) => `${r.frequency} ${r.period_start}`)).toEqual([
      "daily 2026-11-20",
      "daily 2026-11-21",
      "daily 2026-11-22",
      "daily 2026-11-23",
      "daily 2026-11-24",
      "weekly 2026-11-16",
    ]);
    const ids = await waitFor(
      () => reportDeliveries(tokyo.bucket),
      (list) => list.length >= 6,
    );
    expect(new Set(ids).size).toBe(6);
  });

  it("an account created today gets no report for days before it existed", async () => {
    const fresh = await seedAccount("Fresh", "UTC");
    await env.DB.prepare("UPDATE accounts SET created_at = ?2 WHERE id = ?1")
      .bind(fresh.accountId, at("2026-11-24T10:00:00Z"))
      .run();
    await runReportSchedule(appEnv, at("2026-11-24T16:05:00Z"));
    expect(await runsOf(fresh.accountId)).toEqual([]);
    await runReportSchedule(appEnv, at("2026-11-25T00:05:00Z"));
    expect((await runsOf(fresh.accountId)).map((r) => r.period_start)).toEqual(["2026-11-24"]);
  });
});

describe("crash recovery", () => {
  it("a job that crashed after storing and delivering is finished without a second report or send", async () => {
    const account = await tokyoAccount("2026-11-01T00:00:00Z");
    await runReportSchedule(appEnv, at("2026-11-05T15:05:00Z"));
    await waitFor(
      () => runsOf(account.accountId),
      (rows) => allDone(rows) && rows.length >= 1,
    );
    const before = await reportsOf(account.accountId);
    // Scheduled reports keep their bodies in the account's object (docs/storage.md#reports).
    const inD1 = await env.DB.prepare("SELECT count(*) AS n FROM reports WHERE account_id = ?1 AND data IS NOT NULL")
      .bind(account.accountId)
      .first<{ n: number }>();
    expect(inD1?.n).toBe(0);
    const sent = await waitFor(
      () => reportDeliveries(account.bucket),
      (ids) => ids.length === before.length,
    );

    // As if every job died just before marking its claim done, 30 minutes ago.
    await env.DB.prepare("UPDATE report_runs SET status = 'building', claimed_at = ?2 WHERE account_id = ?1")
      .bind(account.accountId, Date.now() - STALE_MS - 60_000)
      .run();
    await runReportSchedule(appEnv, at("2026-11-05T16:05:00Z"));
    const runs = await waitFor(() => runsOf(account.accountId), allDone);
    expect(runs.every((r) => r.attempts === 2)).toBe(true);
    expect(await reportsOf(account.accountId)).toEqual(before);
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await reportDeliveries(account.bucket)).sort()).toEqual([...sent].sort());
  });

  it("a fresh claim held by a running job is not taken by another", async () => {
    const account = await tokyoAccount("2026-11-01T00:00:00Z");
    await env.DB.prepare(
      "INSERT INTO report_runs (account_id, frequency, period_start, status, claimed_at, attempts) VALUES (?1, 'daily', '2026-11-02', 'building', ?2, 1)",
    )
      .bind(account.accountId, Date.now())
      .run();
    expect(
      await runReportJob(appEnv, { accountId: account.accountId, frequency: "daily", periodStart: "2026-11-02" }),
    ).toBe("skipped");
    expect(await reportsOf(account.accountId)).toEqual([]);
  });

  it("gives up on a deleted account", async () => {
    const account = await seedAccount("Gone", "UTC");
    await env.DB.prepare(
      "INSERT INTO report_runs (account_id, frequency, period_start, status, claimed_at, attempts) VALUES (?1, 'daily', '2026-11-02', 'queued', ?2, 0)",
    )
      .bind(account.accountId, Date.now())
      .run();
    await env.DB.prepare("DELETE FROM accounts WHERE id = ?1").bind(account.accountId).run();
    expect(
      await runReportJob(appEnv, { accountId: account.accountId, frequency: "daily", periodStart: "2026-11-02" }),
    ).toBe("failed");
    expect((await runsOf(account.accountId))[0]?.status).toBe("failed");
  });
});

describe("without the queue binding", () => {
  it("the cron builds a few reports itself", async () => {
    const account = await seedAccount("Inline", "UTC");
    await env.DB.prepare("UPDATE accounts SET created_at = ?2 WHERE id = ?1")
      .bind(account.accountId, at("2026-05-01T00:00:00Z"))
      .run();
    const noQueue = { ...appEnv, REPORT_JOBS: undefined } as Env;
    // (No other account of this file existed then, so all five due reports are this account's.)
    await runReportSchedule(noQueue, at("2026-07-01T00:05:00Z"));
    // Days 06-28, 06-29, 06-30, the month of June, and the week of 06-22 (ended 06-29).
    const runs = await runsOf(account.accountId);
    expect(runs.map((r) => `${r.frequency} ${r.period_start} ${r.status}`)).toEqual([
      "daily 2026-06-28 done",
      "daily 2026-06-29 done",
      "daily 2026-06-30 done",
      "monthly 2026-06-01 done",
      "weekly 2026-06-22 done",
    ]);
    expect(await reportsOf(account.accountId)).toHaveLength(5);
  });
});

describe("queue consumer", () => {
  it("acknowledges malformed messages and processed jobs", async () => {
    const account = await seedAccount("Queue", "UTC");
    await env.DB.prepare(
      "INSERT INTO report_runs (account_id, frequency, period_start, status, claimed_at, attempts) VALUES (?1, 'daily', '2026-11-02', 'queued', ?2, 0)",
    )
      .bind(account.accountId, Date.now())
      .run();
    const batch = createMessageBatch("herald-report-jobs", [
      { id: "bad", timestamp: Date.now(), attempts: 1, body: { hello: "world" } },
      {
        id: "good",
        timestamp: Date.now(),
        attempts: 1,
        body: { accountId: account.accountId, frequency: "daily", periodStart: "2026-11-02" },
      },
    ]);
    const ctx = createExecutionContext();
    await handleReportJobs(batch, appEnv);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["bad", "good"]);
    expect((await runsOf(account.accountId))[0]?.status).toBe("done");
  });
});

/** D1 answers the claim but fails the report's batch (the boundary we cannot break for real). */
function envWithFailingBatches(): Env {
  const brokenDb = new Proxy(env.DB, {
    get(target, property) {
      if (property === "batch") return () => Promise.reject(new Error("D1 is unavailable"));
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { ...appEnv, DB: brokenDb } as Env;
}

describe("failing jobs", () => {
  it("are retried by the queue, then given up after MAX_ATTEMPTS", async () => {
    const account = await seedAccount("Flaky", "UTC");
    await env.DB.prepare(
      "INSERT INTO report_runs (account_id, frequency, period_start, status, claimed_at, attempts) VALUES (?1, 'daily', '2026-11-03', 'queued', ?2, 0)",
    )
      .bind(account.accountId, Date.now())
      .run();
    const brokenEnv = envWithFailingBatches();
    const job = { accountId: account.accountId, frequency: "daily", periodStart: "2026-11-03" };
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const batch = createMessageBatch("herald-report-jobs", [
        { id: `m${attempt}`, timestamp: Date.now(), attempts: attempt, body: job },
      ]);
      const ctx = createExecutionContext();
      await handleReportJobs(batch, brokenEnv);
      const result = await getQueueResult(batch, ctx);
      expect(result.retryMessages.map((m) => m.msgId)).toEqual([`m${attempt}`]);
      const [run] = await runsOf(account.accountId);
      expect(run).toMatchObject({ attempts: attempt, status: attempt < MAX_ATTEMPTS ? "queued" : "failed" });
    }
    expect(await reportsOf(account.accountId)).toEqual([]);
    // A failed claim is not taken again.
    expect(await runReportJob(appEnv, job as never)).toBe("skipped");
  });

  it("are announced once, after the last attempt: to system integrations and by email to admins", async () => {
    const account = await seedAccount("Flaky Notices", "UTC");
    const bucket = bucketName("report-failed");
    await createIntegration(account.accountId, {
      settings: { url: hubUrl(bucket, "/hook") },
      events: { system: true },
    });
    await env.DB.prepare(
      "INSERT INTO report_runs (account_id, frequency, period_start, status, claimed_at, attempts) VALUES (?1, 'weekly', '2026-11-16', 'queued', ?2, 0)",
    )
      .bind(account.accountId, Date.now())
      .run();
    const brokenEnv = envWithFailingBatches();
    const job = { accountId: account.accountId, frequency: "weekly" as const, periodStart: "2026-11-16" };
    const notices = async () =>
      (await listAccountEvents(env, account.accountId, { type: "system" }, undefined, 200)).events
        .filter((event) => event.systemType === "scheduled_report_failed")
        .map((event) => JSON.parse(event.data));

    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      await expect(runReportJob(brokenEnv, job)).rejects.toThrow("D1 is unavailable");
      expect(await notices()).toEqual([]);
    }
    await expect(runReportJob(brokenEnv, job)).rejects.toThrow("D1 is unavailable");
    const [notice, ...more] = await notices();
    expect(more).toEqual([]);
    expect(notice).toMatchObject({
      system_type: "scheduled_report_failed",
      actor: "Herald",
      subject: { frequency: "weekly", period_start: "2026-11-16", attempts: MAX_ATTEMPTS, error: "D1 is unavailable" },
    });
    expect(notice.message).toContain("weekly report for 2026-11-16");

    const [delivered] = await waitForRequests(bucket, 1);
    expect(JSON.parse(delivered!.body)[0].details).toMatchObject({ notification_type: "scheduled_report_failed" });
    const deadline = Date.now() + 10_000;
    let mails = await mailTo(account.users.admin.email);
    while (!mails.some((m) => m.subject.includes("weekly report"))) {
      if (Date.now() > deadline) throw new Error("the admin email did not arrive");
      await new Promise((resolve) => setTimeout(resolve, 100));
      mails = await mailTo(account.users.admin.email);
    }
    expect(mails.find((m) => m.subject.includes("weekly report"))!.text).toContain("D1 is unavailable");
  });
});

describe("retention", () => {
  it("purges reports older than REPORT_RETENTION_DAYS", async () => {
    const account = await seedAccount("Old", "UTC");
    const oldAt = Date.now() - 400 * 86_400_000;
    const oldId = `${idFloorAt(oldAt).slice(0, 14)}7000-8000-000000000001`;
    const recentId = `${idFloorAt(Date.now() - 86_400_000).slice(0, 14)}7000-8000-000000000002`;
    for (const [id, createdAt] of [
      [oldId, oldAt],
      [recentId, Date.now() - 86_400_000],
    ] as const) {
      await env.DB.prepare(
        "INSERT INTO reports (id, account_id, frequency, period_start, period_end, time_zone, origin, data, created_at) VALUES (?1, ?2, 'daily', '2025-01-01', '2025-01-01', 'UTC', 'schedule', '{}', ?3)",
      )
        .bind(id, account.accountId, createdAt)
        .run();
    }
    await runReportSchedule(appEnv, Date.now());
    expect((await reportsOf(account.accountId)).map((r) => r.id)).toEqual([recentId]);
  });
});
