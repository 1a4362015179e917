/**
 * A report reaches the integrations subscribed to its frequency through the delivery engine and
 * the real receivers: email (SMTP server of the receiver hub) with the PDF attached, the webhook
 * with the report JSON, Slack with a summary and the link. Others are not sent anything.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { api, json, login, type Session, seedAccount } from "../helpers";
import { hubRequests, mailTo } from "../hub";
import { fixture } from "../integrations/fixtures";
import { hits, seedEvents } from "./seed";

async function waitFor<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

let admin: Session;
const recipient = `soc-${crypto.randomUUID().slice(0, 8)}@acme.test`;
const weeklyOnly = `weekly-${crypto.randomUUID().slice(0, 8)}@acme.test`;
let hookBucket: string;
let slackBucket: string;
let report: { id: string };
let deliveredTo: number;

async function createIntegration(type: string, name: string, settings: unknown, events: unknown) {
  const res = await api(admin, "POST", "/api/integrations", { type, name, settings, events });
  expect(res.status, await res.clone().text()).toBe(201);
}

beforeAll(async () => {
  const seeded = await seedAccount("Mail Co", "Europe/Paris");
  admin = await login(seeded.users.admin.email);
  await seedEvents(
    seeded.accountId,
    hits("2026-11-12T09:00:00Z", 42, {
      attack: "xss",
      block: "blocked",
      host: "m.example",
      path: "/",
      ip: "5.5.5.5",
    }),
  );
  await createIntegration("email", "SOC mail", { recipients: [recipient] }, { reports: ["daily"] });
  await createIntegration("email", "Weekly mail", { recipients: [weeklyOnly] }, { reports: ["weekly"] });
  const hook = fixture("webhook");
  hookBucket = hook.bucket as string;
  await createIntegration("webhook", "SIEM hook", hook.settings, { reports: ["daily"] });
  const slack = fixture("slack");
  slackBucket = slack.bucket as string;
  await createIntegration("slack", "Slack reports", slack.settings, { reports: ["daily"] });

  const res = await api(admin, "POST", "/api/reports", {
    frequency: "daily",
    period_start: "2026-11-12",
    deliver: true,
  });
  expect(res.status).toBe(201);
  const body = await json(res);
  report = body.report;
  deliveredTo = body.delivered_to;
});

describe("report delivery", () => {
  it("is queued for each integration subscribed to the frequency", () => {
    expect(deliveredTo).toBe(3);
  });

  it("arrives by email with the PDF attached (real SMTP server)", async () => {
    const [mail] = await waitFor(
      () => mailTo(recipient),
      (list) => list.length >= 1,
    );
    expect(mail?.subject).toContain("Daily security report");
    expect(mail?.attachments).toEqual([
      expect.objectContaining({ filename: "herald-daily-2026-11-12.pdf", contentType: "application/pdf" }),
    ]);
    expect(mail?.attachments[0]?.size).toBeGreaterThan(2_000);
    expect(`${mail?.text}`).toContain("42");
  });

  it("reaches the webhook as the report JSON", async () => {
    const [request] = await waitFor(
      () => hubRequests(hookBucket),
      (list) => list.length >= 1,
    );
    const [notification] = JSON.parse(request?.body ?? "[]");
    expect(notification.id).toBe(report.id);
    expect(notification.details).toMatchObject({
      notification_type: "report_daily",
      link: `https://herald.test/reports/${report.id}`,
      report: {
        period_start: "2026-11-12",
        time_zone: "Europe/Paris",
        pdf_url: `https://herald.test/api/reports/${report.id}/pdf`,
      },
    });
    expect(notification.details.report.totals.hits.current).toBe(42);
  });

  it("reaches Slack as a summary with the link", async () => {
    const [request] = await waitFor(
      () => hubRequests(slackBucket),
      (list) => list.length >= 1,
    );
    const body = JSON.parse(request?.body ?? "{}");
    expect(JSON.stringify(body)).toContain(`https://herald.test/reports/${report.id}`);
    expect(body.text).toContain("Daily security report");
  });

  it("shows in the integration health of a report whose period holds the requests, not of others", async () => {
    await waitFor(
      () => hubRequests(hookBucket),
      (list) => list.length >= 1,
    );
    const healthIn = async (periodStart: string) => {
      const report = await json(
        await api(admin, "POST", "/api/reports", { frequency: "daily", period_start: periodStart }),
      );
      return report.report.data.integration_health.integrations.find((i: { name: string }) => i.name === "SIEM hook");
    };
    // The account is in Paris; its "today" is the day the requests above were made.
    const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Paris" }).format(new Date());
    const current = await healthIn(today);
    expect(current).toMatchObject({ status: "enabled", success_rate: 1, failed: 0, window_seconds: 86_400 });
    expect(current.requests).toBeGreaterThanOrEqual(1);
    // A day long before the integration existed: no requests (and no 12-hour window standing in).
    expect(await healthIn("2026-11-13")).toMatchObject({ requests: 0, failed: 0, success_rate: null });
  });

  it("is not sent to integrations subscribed to other frequencies", async () => {
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await mailTo(weeklyOnly)).toEqual([]);
  });
});
