// biome-ignore-all lint/suspicious/noControlCharactersInRegex: these properties are about control characters
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${x}" is one of the hostile strings
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EMAIL_SUBJECT_LIMIT, renderEmail } from "../../../worker/channels/email-render";
import { viewOf } from "../../../worker/channels/format";
import { renderOpsgenieAlert } from "../../../worker/channels/opsgenie";
import { renderPagerdutyEvent } from "../../../worker/channels/pagerduty";
import { renderSlackMessage } from "../../../worker/channels/slack";
import { renderSplunkBody } from "../../../worker/channels/splunk";
import { renderSumologicBody } from "../../../worker/channels/sumologic";
import { renderTelegramHtml, TELEGRAM_LIMITS } from "../../../worker/channels/telegram";
import { clean, escapeAndCut, escapeHtmlChar, escapeSlackChar } from "../../../worker/channels/text";
import { renderWebhookBody } from "../../../worker/channels/webhook";
import {
  ISSUE_STATUS_NOTIFICATION_TYPES,
  type Notification,
  type NotificationType,
  TRIGGER_NOTIFICATION_TYPES,
} from "../../../worker/domain/notification";
import { SYSTEM_EVENT_TYPES } from "../../../worker/domain/system-events";
import { buildMime, encodeHeaderText } from "../../../worker/email/mime";
import {
  checkOpsgenie,
  checkPagerduty,
  checkSlack,
  type RecordedRequest,
  splitConcatenatedJson,
  telegramHtmlProblems,
  telegramVisibleLength,
} from "../../support/vendor-contracts";
import { PUBLIC_URL, sample } from "./fixtures";

/**
 * Hostile input for every renderer: markup of each destination, entities, control characters,
 * bidi overrides, lone surrogates, emoji and combining sequences, and huge repeated text. The
 * properties: the vendor's limits hold, escaping is complete (nothing from an event becomes
 * markup), UTF-8 stays well formed, and nothing is cut inside an escape or a surrogate pair.
 */

const NASTY = [
  "<",
  ">",
  "&",
  "&amp;",
  "&lt;",
  "&#39;",
  "<b>",
  "</pre>",
  '<a href="https://evil.example">x</a>',
  "<script>alert(1)</script>",
  "<!channel>",
  "<@U123>",
  "<https://evil.example|click here>",
  "*bold*",
  "_it_",
  "`",
  "```",
  "\u0000",
  "\u0007",
  "\u001b[31m",
  "\r\n",
  "\n",
  "\t",
  "\u2028",
  "\u202e",
  "\u2066",
  "\ud800",
  "\udfff",
  "😀",
  "👨‍👩‍👧",
  "é",
  "e\u0301",
  "𝕏",
  "\u00a0",
  '"',
  "'",
  "=?UTF-8?B?",
  ".",
  "\r\n.\r\n",
  "Bcc: victim@example.com",
  "%s%n",
  "${x}",
  "{{x}}",
  "\\",
  "ｘ",
];

const nasty = fc.constantFrom(...NASTY);
const hostile = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(fc.oneof(nasty, fc.string({ unit: "binary", maxLength: 12 })), { maxLength: 30 })
      .map((a) => a.join("")),
  },
  { weight: 1, arbitrary: fc.tuple(nasty, fc.integer({ min: 200, max: 6000 })).map(([s, n]) => s.repeat(n)) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength: 1000, maxLength: 5000 }) },
);

const TYPES: NotificationType[] = [
  "security_issue",
  "incident",
  "new_hits",
  "scope_change",
  ...SYSTEM_EVENT_TYPES,
  "report_daily",
  ...TRIGGER_NOTIFICATION_TYPES,
  ...ISSUE_STATUS_NOTIFICATION_TYPES,
];

/** A sample notification whose every event string (and the account name) is hostile. */
function hostileNotification(type: NotificationType, values: string[]): Notification {
  const base = sample(type);
  let i = 0;
  const next = () => values[i++ % values.length]!;
  const poison = (value: unknown): unknown => {
    if (typeof value === "string") return next();
    if (Array.isArray(value)) return value.map(poison);
    if (value && typeof value === "object")
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, poison(v)]));
    return value;
  };
  const details = { ...base.details };
  for (const key of [
    "security_issue",
    "hit",
    "scope_change",
    "system",
    "report",
    "trigger",
    "threshold",
    "node",
    "actor",
  ]) {
    if (details[key]) details[key] = poison(details[key]);
  }
  return { ...base, description: next(), details: { ...details, client_name: next() } };
}

const notificationArb = fc
  .tuple(fc.constantFrom(...TYPES), fc.array(hostile, { minLength: 1, maxLength: 6 }), fc.boolean())
  .map(([type, values, test]) => ({ notification: hostileNotification(type, values), test }));

const RUNS = { numRuns: 60 };

const wellFormed = (text: string) => {
  try {
    encodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
};

const jsonRequest = (body: unknown, headers: Record<string, string> = {}): RecordedRequest => ({
  method: "POST",
  path: "/",
  query: "",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

describe("renderers under hostile input", () => {
  it("Slack: Block Kit limits, & < > escaped everywhere, only Herald's own link", () => {
    fc.assert(
      fc.property(notificationArb, ({ notification, test }) => {
        const message = renderSlackMessage(viewOf(notification, test));
        expect(checkSlack(jsonRequest(message))).toEqual([]);
        const links = JSON.stringify(message).match(/<https?:[^>]*>/g) ?? [];
        for (const link of links) expect(link).toMatch(/^<https:\/\/herald\.example\.com\/[^|]*\|Open in Herald>$/);
      }),
      RUNS,
    );
  });

  it("Telegram: ≤ 4096 (caption ≤ 1024), only Herald's tags, balanced, every event string escaped", () => {
    fc.assert(
      fc.property(notificationArb, ({ notification, test }) => {
        for (const max of [TELEGRAM_LIMITS.text, TELEGRAM_LIMITS.caption]) {
          const html = renderTelegramHtml(viewOf(notification, test), max);
          expect(html.length).toBeLessThanOrEqual(max);
          expect(telegramVisibleLength(html)).toBeLessThanOrEqual(max);
          expect(telegramHtmlProblems(html, "text")).toEqual([]);
          expect(wellFormed(html)).toBe(true);
          for (const tag of html.match(/<[a-z]+/g) ?? []) expect(["<b", "<i", "<pre", "<a"]).toContain(tag);
          // The headline and the link back to Herald are always there, however long the rest.
          expect(html.startsWith("<b>")).toBe(true);
          // In the attribute, as HTML: "&" of a query string (the threshold notice's link) as "&amp;".
          expect(html).toContain(`<a href="${notification.details.link.replaceAll("&", "&amp;")}">`);
        }
      }),
      RUNS,
    );
  });

  it("Opsgenie: message ≤ 130, description ≤ 15000, details a string map, tags ≤ 20 × 50", () => {
    fc.assert(
      fc.property(notificationArb, fc.string({ maxLength: 600 }), ({ notification, test }, alias) => {
        const alert = renderOpsgenieAlert(notification, alias || "a", test);
        expect(checkOpsgenie(jsonRequest(alert, { authorization: "GenieKey k" }), "k")).toEqual([]);
        expect(wellFormed(JSON.stringify(alert))).toBe(true);
      }),
      RUNS,
    );
  });

  it("PagerDuty: summary ≤ 1024, dedup_key ≤ 255, source set, severity valid", () => {
    const key = "R0123456789ABCDEF0123456789ABCDE";
    fc.assert(
      fc.property(notificationArb, fc.string({ minLength: 1, maxLength: 400 }), ({ notification, test }, dedup) => {
        const event = renderPagerdutyEvent(key, notification, dedup, PUBLIC_URL, test);
        expect(checkPagerduty(jsonRequest(event), key)).toEqual([]);
      }),
      RUNS,
    );
  });

  it("email: HTML has only Herald's markup, subject is one short line, text is clean", () => {
    const OUR_TAGS = new Set([
      "!doctype",
      "html",
      "head",
      "meta",
      "title",
      "body",
      "h1",
      "table",
      "tr",
      "th",
      "td",
      "pre",
      "p",
      "a",
      "hr",
    ]);
    fc.assert(
      fc.property(notificationArb, ({ notification, test }) => {
        const mail = renderEmail(viewOf(notification, test), PUBLIC_URL);
        expect(Array.from(mail.subject).length).toBeLessThanOrEqual(EMAIL_SUBJECT_LIMIT);
        expect(mail.subject).not.toMatch(/[\r\n\u0000-\u001f]/);
        const tags = mail.html.match(/<\/?([a-z0-9!]+)/gi) ?? [];
        for (const tag of tags) expect(OUR_TAGS.has(tag.replace(/^<\/?/, "").toLowerCase())).toBe(true);
        // Between Herald's tags, no < or > and no bare &: every event character arrived escaped.
        const text = mail.html.replace(/<(\/?[a-z0-9!]+)(\s+[a-z-]+(="[^"<>]*")?)*\s*>/gi, "");
        expect(text).not.toMatch(/[<>]/);
        expect(text).not.toMatch(/&(?!(amp|lt|gt|quot|#39);)/);
        expect(wellFormed(mail.html) && wellFormed(mail.text)).toBe(true);
        expect(mail.text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u202e]/);
      }),
      RUNS,
    );
  });

  it("webhook, Splunk, Sumo Logic: the canonical notifications survive exactly, one per line/event", () => {
    fc.assert(
      fc.property(fc.array(notificationArb, { minLength: 1, maxLength: 5 }), (items) => {
        const batch = items.map((i) => i.notification);
        const roundTrip = JSON.parse(JSON.stringify(batch));
        expect(JSON.parse(renderWebhookBody("json_array", batch))).toEqual(roundTrip);
        const ndjson = renderWebhookBody("ndjson", batch);
        expect(
          ndjson
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l)),
        ).toEqual(roundTrip);
        expect(
          renderSumologicBody(batch)
            .split("\n")
            .map((l) => JSON.parse(l)),
        ).toEqual(roundTrip);
        const events = splitConcatenatedJson(
          renderSplunkBody({ url: "https://s:8088", token: "t" }, PUBLIC_URL, batch),
        );
        expect((events as { event: unknown }[]).map((e) => e.event)).toEqual(roundTrip);
        for (const body of [ndjson, JSON.stringify(batch)]) expect(wellFormed(body)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });
});

describe("text primitives", () => {
  it("escapeAndCut never exceeds the limit, never splits an escape or a surrogate pair", () => {
    fc.assert(
      fc.property(
        hostile,
        fc.integer({ min: 1, max: 5000 }),
        fc.constantFrom(escapeHtmlChar, escapeSlackChar),
        (raw, max, esc) => {
          const input = clean(raw);
          const out = escapeAndCut(input, max, esc);
          expect(out.length).toBeLessThanOrEqual(max);
          expect(wellFormed(out)).toBe(true);
          expect(out.replace(/&(amp|lt|gt|quot|#39);/g, "")).not.toMatch(/[&<>]/);
          // Uncut output is the whole escaped input; cut output is a prefix of it plus "…".
          const whole = Array.from(input, esc).join("");
          if (out.endsWith("…") && out !== whole) expect(whole.startsWith(out.slice(0, -1))).toBe(true);
          else expect(out).toBe(whole);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("clean leaves no control characters, bidi overrides or lone surrogates", () => {
    fc.assert(
      fc.property(hostile, (raw) => {
        const out = clean(raw);
        expect(wellFormed(out)).toBe(true);
        expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      }),
      { numRuns: 200 },
    );
  });

  it("encodeHeaderText: no line breaks but folding, encoded words ≤ 75, decodes to the cleaned text", () => {
    const decode = (header: string) =>
      header
        .split("\r\n ")
        .map((part) => {
          const m = /^=\?UTF-8\?B\?([A-Za-z0-9+/=]*)\?=$/.exec(part);
          if (!m) return part;
          return new TextDecoder().decode(Uint8Array.from(atob(m[1]!), (c) => c.charCodeAt(0)));
        })
        .join("");
    fc.assert(
      fc.property(hostile, (raw) => {
        const encoded = encodeHeaderText(raw);
        expect(encoded.replace(/\r\n /g, "")).not.toMatch(/[\r\n]/);
        for (const part of encoded.split("\r\n ")) {
          if (part.startsWith("=?")) expect(part.length).toBeLessThanOrEqual(75);
        }
        const expected = raw
          .replace(/[\u0000-\u001f\u007f]+/g, " ")
          .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd")
          .trim();
        expect(decode(encoded)).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });

  it("buildMime: 7-bit, lines ≤ 998, no header injected from a subject or file name", () => {
    fc.assert(
      fc.property(hostile, hostile, hostile, (subject, body, fileName) => {
        const raw = buildMime({
          from: { name: "Herald", address: "herald@herald.example.com" },
          to: ["soc@acme.example"],
          subject,
          text: body,
          html: `<p>${body}</p>`,
          attachments: [
            { filename: fileName, contentType: "application/pdf", content: new Uint8Array([37, 80, 68, 70]) },
          ],
          messageId: "<id@herald.example.com>",
          headers: { "List-Unsubscribe": "<https://herald.example.com/profile>" },
        });
        const headerBlock = raw.slice(0, raw.indexOf("\r\n\r\n"));
        const names = headerBlock
          .split("\r\n")
          .filter((l) => !l.startsWith(" "))
          .map((l) => l.slice(0, l.indexOf(":")));
        expect(names).toEqual([
          "From",
          "To",
          "Subject",
          "Date",
          "Message-ID",
          "MIME-Version",
          "List-Unsubscribe",
          "Content-Type",
        ]);
        for (const line of raw.split("\r\n")) expect(line.length).toBeLessThanOrEqual(998);
        expect([...raw].every((c) => c.charCodeAt(0) < 0x80)).toBe(true);
        expect(raw).not.toMatch(/\r(?!\n)|(?<!\r)\n/);
      }),
      { numRuns: 60 },
    );
  });
});
