import type { Channel } from "../../../worker/channels/types";
import type { Notification, NotificationType, ReportAttachment } from "../../../worker/domain/notification";
import type { Env } from "../../../worker/env";
import { secretValues } from "../../../worker/integrations/secret-fields";
import { sampleNotification } from "./samples";

/** Fixed inputs for renderer tests and golden files: nothing here depends on the clock. */
export const FIXED_NOW = Date.parse("2026-11-29T10:00:00Z");
export const PUBLIC_URL = "https://herald.example.com";

/** A stable UUID per notification type, so golden files do not change between runs. */
export function fixedId(type: string): string {
  let hash = 0;
  for (const c of type) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
  const hex = hash.toString(16).padStart(8, "0");
  return `0193a0b4-${hex.slice(0, 4)}-7${hex.slice(4, 7)}-8000-00000000${hex.slice(0, 4)}`;
}

export function sample(type: NotificationType): Notification {
  return sampleNotification(type, { accountName: "Acme", publicUrl: PUBLIC_URL, now: FIXED_NOW, id: fixedId });
}

/** A deployment for channel tests; vendor hosts default to their public addresses. */
export function testEnv(overrides: Partial<Env> = {}): Env {
  return {
    PUBLIC_URL,
    MAIL_TRANSPORT: "smtp",
    MAIL_FROM: "Herald <herald@herald.example.com>",
    SMTP_HOST: "127.0.0.1",
    SMTP_PORT: "25",
    SMTP_SECURE: "none",
    TELEGRAM_API_BASE: "https://api.telegram.org",
    PAGERDUTY_EVENTS_URL: "https://events.pagerduty.com/v2/enqueue",
    OPSGENIE_API_URL_US: "https://api.opsgenie.com/v2/alerts",
    OPSGENIE_API_URL_EU: "https://api.eu.opsgenie.com/v2/alerts",
    ...overrides,
  } as Env;
}

/** Settings with recognisable fake secrets, per system. */
export const TEST_SETTINGS: Record<string, Record<string, unknown>> = {
  personal_email: {},
  email: { recipients: ["soc@acme.example", "ciso@acme.example"] },
  slack: { webhook_url: "https://hooks.slack.com/services/T0000000/B0000000/SLACKSECRETPATH0000" },
  telegram: { bot_token: "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1", chat_id: "-1001234567890" },
  opsgenie: { api_key: "eb243592-faa2-4ba2-a551-1afdf565c889", region: "us" },
  insightconnect: {
    url: "https://us.api.insight.rapid7.com/connect/v1/workflows/5b3f0c2e/events/execute",
    api_key: "ic-api-key-7d1c4b9e2f",
  },
  pagerduty: { routing_key: "R0123456789ABCDEF0123456789ABCDE" },
  splunk: {
    url: "https://splunk.acme.example:8088",
    token: "B5A79AAD-D822-46CC-80D1-819F80D7BFB0",
    index: "security",
    sourcetype: "herald:notification",
  },
  sumologic: { url: "https://endpoint4.collection.us2.sumologic.com/receiver/v1/http/SUMOSECRETTOKEN0000" },
  webhook: {
    url: "https://hooks.acme.example/herald",
    method: "POST",
    headers: [{ name: "Authorization", value: "Bearer wh-header-secret-1234" }],
    format: "json_array",
    timeout_seconds: 15,
    signing_secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  },
};

/** A small but real PDF (header, one empty page, trailer) for report attachments. */
export const TINY_PDF = new TextEncoder().encode(
  "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj 3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
);

export function reportAttachment(type: NotificationType, pdf: Uint8Array | null = TINY_PDF): ReportAttachment {
  return {
    reportId: fixedId(type),
    fileName: `herald-${type.slice("report_".length)}-2026-11-28.pdf`,
    loadPdf: async () => {
      if (!pdf) throw new Error("not rendered yet");
      return pdf;
    },
  };
}

export interface RecordedCall {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | FormData;
}

/** A fetch that records requests and answers 200 (golden rendering only; contracts use the real hub). */
export function recordingFetch(calls: RecordedCall[]): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, key) => {
      headers[key] = value;
    });
    calls.push({
      url: String(input),
      method: init?.method ?? "GET",
      headers,
      body: init?.body instanceof FormData ? init.body : String(init?.body ?? ""),
    });
    return new Response('{"ok":true}', { status: 200 });
  }) as typeof fetch;
}

/** The secret values a channel is handed in its context, computed as the delivery engine does. */
export function secretsFor(channel: Pick<Channel<any>, "secretFields">, settings: Record<string, unknown>): string[] {
  return secretValues(settings, channel.secretFields);
}
