import { describe, expect, it } from "vitest";
import { type AnyChannel, getChannel } from "../../../worker/channels/catalog";
import type { SendContext } from "../../../worker/channels/types";
import {
  ISSUE_STATUS_NOTIFICATION_TYPES,
  type Notification,
  type NotificationType,
  TRIGGER_NOTIFICATION_TYPES,
} from "../../../worker/domain/notification";
import { SYSTEM_EVENT_TYPES } from "../../../worker/domain/system-events";
import {
  canonicalNotification,
  checkInsightconnect,
  checkOpsgenie,
  checkOpsgenieClose,
  checkPagerduty,
  checkSlack,
  checkSplunk,
  checkSumologic,
  checkTelegramSendDocument,
  checkTelegramSendMessage,
  checkWebhook,
  type RecordedRequest,
  splitConcatenatedJson,
} from "../../support/vendor-contracts";
import { reportAttachment, sample, secretsFor, TEST_SETTINGS, testEnv } from "../../unit/channels/fixtures";
import { bucketName, hubRequests, hubUrl } from "../hub";

/**
 * Contract tests: every notification type each system may receive goes through the real channel
 * code to the receiver hub on 127.0.0.1, and the recorded request is checked against the vendor's
 * documented format (test/support/vendor-contracts.ts).
 */

const EVENT_TYPES: NotificationType[] = [
  "security_issue",
  "incident",
  "new_hits",
  "scope_change",
  ...SYSTEM_EVENT_TYPES,
  ...TRIGGER_NOTIFICATION_TYPES,
  ...ISSUE_STATUS_NOTIFICATION_TYPES,
];
const REPORT_TYPES: NotificationType[] = ["report_daily", "report_weekly", "report_monthly"];

function typesFor(channel: AnyChannel): NotificationType[] {
  const categories = channel.categories as readonly string[];
  return [
    ...EVENT_TYPES.filter((t) => (t === "new_hits" ? categories.includes("hit") : true)),
    ...(categories.includes("reports") ? REPORT_TYPES : []),
  ];
}

interface Destination {
  settings: Record<string, unknown>;
  env: ReturnType<typeof testEnv>;
}

/** Settings and deployment pointing the system at a fresh hub bucket. */
function destination(type: string, name: string): Destination {
  const b = bucketName(name);
  const settings = { ...TEST_SETTINGS[type] };
  const overrides = {
    TELEGRAM_API_BASE: hubUrl(b),
    PAGERDUTY_EVENTS_URL: hubUrl(b, "/v2/enqueue"),
    OPSGENIE_API_URL_US: hubUrl(b, "/us/v2/alerts"),
    OPSGENIE_API_URL_EU: hubUrl(b, "/eu/v2/alerts"),
  };
  if (type === "slack") settings.webhook_url = hubUrl(b, "/services/T0000000/B0000000/SLACKSECRETPATH0000");
  if (type === "insightconnect") settings.url = hubUrl(b, "/connect/v1/workflows/5b3f0c2e/events/execute");
  if (type === "splunk") settings.url = hubUrl(b);
  if (type === "sumologic") settings.url = hubUrl(b, "/receiver/v1/http/SUMOSECRETTOKEN0000");
  if (type === "webhook") settings.url = hubUrl(b, "/herald");
  return { settings: { ...settings, __bucket: b }, env: testEnv(overrides) };
}

function context(channel: AnyChannel, dest: Destination, test = false): SendContext<Record<string, unknown>> {
  const { __bucket: _b, ...raw } = dest.settings;
  const settings = channel.settingsSchema.parse(raw);
  return {
    integrationId: crypto.randomUUID(),
    accountName: "Acme",
    settings,
    secrets: secretsFor(channel, settings),
    env: dest.env,
    fetch: globalThis.fetch.bind(globalThis),
    deliveryId: crypto.randomUUID(),
    test,
  };
}

async function sendOne(channel: AnyChannel, ctx: SendContext<Record<string, unknown>>, type: NotificationType) {
  const notification = sample(type);
  return type.startsWith("report_") && channel.sendReport
    ? channel.sendReport(ctx, notification, reportAttachment(type))
    : channel.send(ctx, [notification]);
}

/** The vendor check for one recorded request of a system. */
async function vendorProblems(type: string, req: RecordedRequest, ctx: SendContext<Record<string, unknown>>) {
  const s = ctx.settings as Record<string, string> & { headers?: { name: string; value: string }[] };
  switch (type) {
    case "slack":
      return checkSlack(req);
    case "telegram":
      return req.path.endsWith("/sendDocument")
        ? checkTelegramSendDocument(req, s.bot_token!)
        : checkTelegramSendMessage(req, s.bot_token!);
    case "opsgenie":
      return req.path.endsWith("/close")
        ? checkOpsgenieClose(req, s.api_key!).problems
        : checkOpsgenie(req, s.api_key!);
    case "pagerduty":
      return checkPagerduty(req, s.routing_key!);
    case "splunk":
      return checkSplunk(req, s.token!);
    case "sumologic":
      return checkSumologic(req);
    case "insightconnect":
      return checkInsightconnect(req, s.api_key!);
    case "webhook":
      return checkWebhook(req, {
        method: s.method as "POST" | "PUT",
        format: s.format as "json_array" | "ndjson",
        headers: s.headers ?? [],
        secrets: [s.signing_secret!],
      });
    default:
      throw new Error(`no contract for ${type}`);
  }
}

const HTTP_TYPES = ["slack", "telegram", "opsgenie", "insightconnect", "pagerduty", "splunk", "sumologic", "webhook"];

describe.each(HTTP_TYPES)("contract: %s", (type) => {
  const channel = getChannel(type)!;

  it.each(typesFor(channel))("%s reaches the receiver in the vendor's format", async (notificationType) => {
    const dest = destination(type, `${type}-${notificationType}`);
    const ctx = context(channel, dest);
    const outcome = await sendOne(channel, ctx, notificationType);
    expect(outcome).toMatchObject({ ok: true, status: 200 });
    const recorded = await hubRequests(dest.settings.__bucket as string);
    expect(recorded).toHaveLength(1);
    expect(await vendorProblems(type, recorded[0]!, ctx)).toEqual([]);
  });

  it("[Test message] is marked where people read it", async () => {
    const dest = destination(type, `${type}-test`);
    const ctx = context(channel, dest, true);
    expect((await sendOne(channel, ctx, "security_issue")).ok).toBe(true);
    const [req] = await hubRequests(dest.settings.__bucket as string);
    expect(await vendorProblems(type, req!, ctx)).toEqual([]);
    expect(req!.body).toContain("[Test message]");
  });
});

describe("contract details", () => {
  it("the delivery id is the idempotency key: webhook-id, PagerDuty dedup_key, Opsgenie alias", async () => {
    for (const type of ["webhook", "pagerduty", "opsgenie"]) {
      const channel = getChannel(type)!;
      const dest = destination(type, `idem-${type}`);
      const ctx = context(channel, dest);
      await channel.send(ctx, [sample("incident")]);
      await channel.send(ctx, [sample("incident")]); // a retry of the same delivery
      const recorded = await hubRequests(dest.settings.__bucket as string);
      const keys = recorded.map((r) =>
        type === "webhook"
          ? r.headers["webhook-id"]
          : type === "pagerduty"
            ? JSON.parse(r.body).dedup_key
            : JSON.parse(r.body).alias,
      );
      expect(keys).toEqual([ctx.deliveryId, ctx.deliveryId]);
    }
  });

  it("severity follows docs/channels.md#severity-mapping for PagerDuty and Opsgenie", async () => {
    const expectations: [string, string, string][] = [
      ["critical", "critical", "P1"],
      ["high", "error", "P2"],
      ["medium", "warning", "P3"],
      ["low", "info", "P4"],
      ["info", "info", "P5"],
    ];
    for (const [risk, severity, priority] of expectations) {
      const base = sample("security_issue");
      const n: Notification = {
        ...base,
        details: { ...base.details, security_issue: { ...(base.details.security_issue as object), risk } },
      };
      for (const type of ["pagerduty", "opsgenie"]) {
        const channel = getChannel(type)!;
        const dest = destination(type, `sev-${type}`);
        await channel.send(context(channel, dest), [n]);
        const body = JSON.parse((await hubRequests(dest.settings.__bucket as string))[0]!.body);
        if (type === "pagerduty") expect([risk, body.payload.severity]).toEqual([risk, severity]);
        else expect([risk, body.priority]).toEqual([risk, priority]);
      }
    }
    const channel = getChannel("pagerduty")!;
    const dest = destination("pagerduty", "sev-incident");
    await channel.send(context(channel, dest), [sample("incident")]);
    expect(JSON.parse((await hubRequests(dest.settings.__bucket as string))[0]!.body).payload.severity).toBe(
      "critical",
    );
  });

  it("Opsgenie EU integrations go to the EU host", async () => {
    const channel = getChannel("opsgenie")!;
    const dest = destination("opsgenie", "og-eu");
    dest.settings.region = "eu";
    await channel.send(context(channel, dest), [sample("scope_change")]);
    const [req] = await hubRequests(dest.settings.__bucket as string);
    expect(req!.path).toMatch(/\/eu\/v2\/alerts$/);
  });

  it("batches: Splunk, Sumo Logic and webhook carry many notifications in one request", async () => {
    const batch = [sample("security_issue"), sample("new_hits"), sample("incident"), sample("scope_change")];
    for (const type of ["splunk", "sumologic", "webhook"]) {
      const channel = getChannel(type)!;
      const dest = destination(type, `batch-${type}`);
      const ctx = context(channel, dest);
      expect((await channel.send(ctx, batch)).ok).toBe(true);
      const recorded = await hubRequests(dest.settings.__bucket as string);
      expect(recorded).toHaveLength(1);
      expect(await vendorProblems(type, recorded[0]!, ctx)).toEqual([]);
      const body = recorded[0]!.body;
      const carried =
        type === "splunk"
          ? (splitConcatenatedJson(body) as { event: unknown }[]).map((e) => e.event)
          : type === "sumologic"
            ? body.split("\n").map((l) => JSON.parse(l))
            : JSON.parse(body);
      expect(carried).toEqual(batch);
      for (const n of carried) expect(canonicalNotification.safeParse(n).success).toBe(true);
    }
  });

  it("webhook: PUT + NDJSON + custom headers, and both signatures during a secret rotation", async () => {
    const channel = getChannel("webhook")!;
    const dest = destination("webhook", "wh-rotation");
    const previous = TEST_SETTINGS.webhook!.signing_secret as string;
    const current = "whsec_cGxlYXNlIHJvdGF0ZSBtZSBzb29uIHRoYW5rcyE=";
    Object.assign(dest.settings, {
      method: "PUT",
      format: "ndjson",
      headers: [
        { name: "Authorization", value: "Bearer wh-header-secret-1234" },
        { name: "X-Tenant", value: "acme" },
      ],
      signing_secret: current,
      previous_signing_secret: previous,
      previous_signing_secret_expires_at: new Date(Date.now() + 3600_000).toISOString(),
    });
    const ctx = context(channel, dest);
    expect((await channel.send(ctx, [sample("new_hits"), sample("incident")])).ok).toBe(true);
    const [req] = await hubRequests(dest.settings.__bucket as string);
    expect(
      await checkWebhook(req!, {
        method: "PUT",
        format: "ndjson",
        headers: dest.settings.headers as { name: string; value: string }[],
        secrets: [current, previous],
      }),
    ).toEqual([]);
    expect(req!.headers["webhook-signature"]!.split(" ")).toHaveLength(2);

    // Once the overlap has ended, only the new secret signs.
    dest.settings.previous_signing_secret_expires_at = new Date(Date.now() - 1000).toISOString();
    const later = context(channel, dest);
    await channel.send(later, [sample("new_hits")]);
    const second = (await hubRequests(dest.settings.__bucket as string))[1]!;
    expect(second.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
  });

  it("Telegram reports are one sendDocument with the PDF and an HTML caption; without a PDF, a message", async () => {
    const channel = getChannel("telegram")!;
    const dest = destination("telegram", "tg-report");
    const ctx = context(channel, dest);
    expect((await channel.sendReport!(ctx, sample("report_daily"), reportAttachment("report_daily"))).ok).toBe(true);
    expect((await channel.sendReport!(ctx, sample("report_daily"), reportAttachment("report_daily", null))).ok).toBe(
      true,
    );
    const recorded = await hubRequests(dest.settings.__bucket as string);
    expect(recorded.map((r) => r.path.split("/").pop())).toEqual(["sendDocument", "sendMessage"]);
    expect(recorded[0]!.body).toContain('filename="herald-daily-2026-11-28.pdf"');
    expect(recorded[1]!.body).toContain("Open the report");
  });
});
