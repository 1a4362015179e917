import { describe, expect, it } from "vitest";
import { type AnyChannel, CHANNELS } from "../../../worker/channels/catalog";
import { renderEmail } from "../../../worker/channels/email-render";
import { viewOf } from "../../../worker/channels/format";
import {
  ISSUE_STATUS_NOTIFICATION_TYPES,
  type NotificationType,
  TRIGGER_NOTIFICATION_TYPES,
} from "../../../worker/domain/notification";
import { SYSTEM_EVENT_TYPES } from "../../../worker/domain/system-events";
import {
  fixedId,
  type RecordedCall,
  recordingFetch,
  reportAttachment,
  sample,
  secretsFor,
  TEST_SETTINGS,
  testEnv,
} from "./fixtures";

/**
 * Golden files: every system × every notification type it may receive, rendered exactly as sent
 * (method, URL, headers, body) into test/golden/<system>/<type>.txt. They were generated with
 * `npx vitest run test/unit/channels/golden.test.ts -u` and reviewed by eye; any change in what
 * Herald sends now shows up as a diff to review. Volatile values (webhook timestamp and
 * signature) are replaced by placeholders here and checked by the contract tests instead.
 */

function typesFor(channel: AnyChannel): NotificationType[] {
  const c = channel.categories as readonly string[];
  const types: NotificationType[] = [];
  if (c.includes("security_issue")) types.push("security_issue");
  if (c.includes("incident")) types.push("incident");
  if (c.includes("hit")) types.push("new_hits");
  if (c.includes("scope_change")) types.push("scope_change");
  if (c.includes("system")) types.push(...SYSTEM_EVENT_TYPES);
  if (c.includes("reports")) types.push("report_daily", "report_weekly", "report_monthly");
  // Triggers notify integrations of any type; issue status changes go wherever security issues may.
  types.push(...TRIGGER_NOTIFICATION_TYPES, ...ISSUE_STATUS_NOTIFICATION_TYPES);
  return types;
}

const VOLATILE_HEADERS: Record<string, string> = {
  "webhook-timestamp": "<unix seconds at send time>",
  "webhook-signature": "v1,<base64 HMAC-SHA256, checked by the contract tests>",
};

function prettyBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    // Concatenated (Splunk) or one-per-line (Sumo Logic, NDJSON) objects.
    return body
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.stringify(JSON.parse(line), null, 2))
      .join("\n");
  }
}

function describeCall(call: RecordedCall): string {
  const lines = [`${call.method} ${call.url}`];
  for (const name of Object.keys(call.headers).sort()) {
    if (name === "content-type" && call.body instanceof FormData) lines.push("content-type: multipart/form-data");
    else lines.push(`${name}: ${VOLATILE_HEADERS[name] ?? call.headers[name]}`);
  }
  lines.push("");
  if (call.body instanceof FormData) {
    for (const [key, value] of call.body as unknown as Iterable<[string, string | File]>) {
      if (typeof value === "string") lines.push(`[${key}]`, value);
      else lines.push(`[${key}] file ${value.name} (${value.type}, ${value.size} bytes)`);
    }
    return lines.join("\n");
  }
  lines.push(prettyBody(call.body));
  // The text people read, unescaped from JSON, for review.
  try {
    const parsed = JSON.parse(call.body) as { text?: unknown; blocks?: { text?: { text?: string } }[] };
    if (typeof parsed.text === "string") lines.push("", "--- text as sent ---", parsed.text);
  } catch {
    // not a single JSON document
  }
  return lines.join("\n");
}

async function renderHttp(channel: AnyChannel, type: NotificationType, test = false): Promise<string> {
  const calls: RecordedCall[] = [];
  const settings = channel.settingsSchema.parse(TEST_SETTINGS[channel.type]);
  const ctx = {
    integrationId: "0193a0b4-0000-7000-8000-000000000001",
    accountName: "Acme",
    settings,
    secrets: secretsFor(channel, settings),
    env: testEnv(),
    fetch: recordingFetch(calls),
    deliveryId: fixedId(`delivery-${type}`),
    test,
  };
  const notification = sample(type);
  const outcome =
    type.startsWith("report_") && channel.sendReport
      ? await channel.sendReport(ctx, notification, reportAttachment(type))
      : await channel.send(ctx, [notification]);
  expect(outcome.ok).toBe(true);
  expect(calls).toHaveLength(1);
  return `${calls.map(describeCall).join("\n\n")}\n`;
}

function renderMail(type: NotificationType, test = false): string {
  const mail = renderEmail(
    viewOf(sample(type), test),
    "https://herald.example.com",
    type.startsWith("report_") ? "Open the report" : undefined,
  );
  return `Subject: ${mail.subject}\n\n--- text/plain ---\n${mail.text}\n\n--- text/html ---\n${mail.html}`;
}

const isMail = (channel: AnyChannel) => channel.type === "email" || channel.type === "personal_email";

describe.each(CHANNELS.map((c) => [c.type, c] as const))("golden: %s", (type, channel) => {
  it.each(typesFor(channel))("%s", async (notificationType) => {
    const rendered = isMail(channel) ? renderMail(notificationType) : await renderHttp(channel, notificationType);
    await expect(rendered).toMatchFileSnapshot(`../../golden/${type}/${notificationType}.txt`);
  });

  it("[Test message] variant", async () => {
    const rendered = isMail(channel)
      ? renderMail("security_issue", true)
      : await renderHttp(channel, "security_issue", true);
    expect(rendered).toContain("[Test message]");
    await expect(rendered).toMatchFileSnapshot(`../../golden/${type}/security_issue.test-message.txt`);
  });
});

describe("golden: batches", () => {
  it.each(CHANNELS.filter((c) => c.batchLimit > 1).map((c) => [c.type, c] as const))("%s", async (type, channel) => {
    const calls: RecordedCall[] = [];
    const settings = channel.settingsSchema.parse(TEST_SETTINGS[type]);
    const ctx = {
      integrationId: "0193a0b4-0000-7000-8000-000000000001",
      accountName: "Acme",
      settings,
      secrets: secretsFor(channel, settings),
      env: testEnv(),
      fetch: recordingFetch(calls),
      deliveryId: fixedId("delivery-batch"),
    };
    await channel.send(ctx, [sample("security_issue"), sample("new_hits"), sample("scope_change")]);
    await expect(`${describeCall(calls[0]!)}\n`).toMatchFileSnapshot(`../../golden/${type}/batch-of-3.txt`);
    if (type === "webhook") {
      const ndjsonCalls: RecordedCall[] = [];
      await channel.send(
        { ...ctx, settings: { ...settings, format: "ndjson", method: "PUT" }, fetch: recordingFetch(ndjsonCalls) },
        [sample("security_issue"), sample("new_hits")],
      );
      await expect(`${describeCall(ndjsonCalls[0]!)}\n`).toMatchFileSnapshot(
        `../../golden/webhook/batch-of-2.ndjson.txt`,
      );
    }
  });
});

describe("headlines", () => {
  it("tell apart one finding on two hosts (email subjects, messenger headlines)", () => {
    const onHost = (host: string) => {
      const notification = sample("security_issue");
      const issue = notification.details.security_issue as Record<string, unknown>;
      return { ...notification, details: { ...notification.details, security_issue: { ...issue, host } } };
    };
    const shop = renderEmail(viewOf(onHost("shop.example.com")), "https://herald.example.com").subject;
    const api = renderEmail(viewOf(onHost("api.example.com")), "https://herald.example.com").subject;
    expect(shop).not.toBe(api);
    expect(shop).toContain("shop.example.com");
  });
});
