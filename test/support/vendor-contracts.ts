/**
 * Each vendor's documented request format, as checks on a request recorded by the receiver hub.
 * A check returns the list of problems (empty = the vendor would accept the request). Sources:
 * Slack incoming webhooks and Block Kit reference; Telegram Bot API (sendMessage, sendDocument);
 * Opsgenie Alert API v2 (create alert, close alert by alias); PagerDuty Events API v2 (/v2/enqueue:
 * trigger, acknowledge, resolve); Splunk HTTP Event
 * Collector (/services/collector/event); Sumo Logic HTTP Logs source; Rapid7 InsightConnect API
 * trigger; Standard Webhooks (webhook-id / webhook-timestamp / webhook-signature).
 * Runs in workerd and in Node (WebCrypto only).
 */
import { z } from "zod";
import type { RecordedRequest as HubRecordedRequest } from "./hub-protocol.ts";

/** A request as the hub recorded it; the checks do not look at when it arrived. */
export type RecordedRequest = Omit<HubRecordedRequest, "receivedAt">;

type Problems = string[];

function header(req: RecordedRequest, name: string): string | undefined {
  return req.headers[name.toLowerCase()];
}

function zodProblems(schema: z.ZodType, value: unknown, where: string): Problems {
  const parsed = schema.safeParse(value);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${where}.${i.path.join(".")}: ${i.message}`);
}

function parseJson(req: RecordedRequest, problems: Problems): unknown {
  try {
    return JSON.parse(req.body);
  } catch {
    problems.push("body is not JSON");
    return undefined;
  }
}

function expectJsonPost(req: RecordedRequest, problems: Problems, method = "POST") {
  if (req.method !== method) problems.push(`method ${req.method}, expected ${method}`);
  if (!/^application\/json\b/i.test(header(req, "content-type") ?? "")) {
    problems.push(`content-type ${header(req, "content-type")}, expected application/json`);
  }
}

/** No lone surrogates (the body would not be valid UTF-8) and no NUL. */
function wellFormed(text: string, where: string): Problems {
  try {
    encodeURIComponent(text);
  } catch {
    return [`${where}: contains a lone surrogate`];
  }
  return text.includes("\u0000") ? [`${where}: contains NUL`] : [];
}

/** Characters counted as Slack/Telegram/Opsgenie do (code points: never more than UTF-16 units). */
const chars = (max: number) => z.string().refine((s) => Array.from(s).length <= max, `longer than ${max} characters`);

// ---- Slack: incoming webhook + Block Kit ----

const slackText = (type: "plain_text" | "mrkdwn" | "either", max: number) =>
  z.object({
    type: type === "either" ? z.enum(["plain_text", "mrkdwn"]) : z.literal(type),
    text: chars(max).pipe(z.string().min(1)),
    emoji: z.boolean().optional(),
  });

const slackBlock = z.discriminatedUnion("type", [
  z.object({ type: z.literal("header"), text: slackText("plain_text", 150), block_id: chars(255).optional() }),
  z
    .object({
      type: z.literal("section"),
      text: slackText("either", 3000).optional(),
      fields: z.array(slackText("either", 2000)).max(10).optional(),
    })
    .refine((b) => b.text || b.fields?.length, "a section needs text or fields"),
  z.object({ type: z.literal("context"), elements: z.array(slackText("either", 3000)).min(1).max(10) }),
  z.object({ type: z.literal("divider") }),
]);

const slackMessage = z.object({ text: z.string().min(1).max(40000), blocks: z.array(slackBlock).max(50).optional() });

/** Slack's control characters & < > appear only escaped, or as its own <url|label> links. */
export function slackEscapingProblems(text: string, where: string): Problems {
  const withoutLinks = text.replace(/<https?:\/\/[^|<>\s]+\|[^<>]*>/g, "");
  const problems: Problems = [];
  if (/[<>]/.test(withoutLinks.replace(/^>/gm, "")))
    problems.push(`${where}: unescaped < or > in ${JSON.stringify(text.slice(0, 80))}`);
  if (/&(?!(amp|lt|gt);)/.test(text)) problems.push(`${where}: bare & in ${JSON.stringify(text.slice(0, 80))}`);
  return problems;
}

export function checkSlack(req: RecordedRequest): Problems {
  const problems: Problems = [];
  expectJsonPost(req, problems);
  const body = parseJson(req, problems) as z.infer<typeof slackMessage> | undefined;
  if (!body) return problems;
  problems.push(...zodProblems(slackMessage, body, "slack"), ...wellFormed(req.body, "body"));
  problems.push(...slackEscapingProblems(body.text, "text"));
  for (const [i, block] of (body.blocks ?? []).entries()) {
    const texts = [
      (block as { text?: { text: string } }).text?.text,
      ...((block as { fields?: { text: string }[] }).fields ?? []).map((f) => f.text),
      ...((block as { elements?: { text: string }[] }).elements ?? []).map((e) => e.text),
    ].filter((t): t is string => typeof t === "string");
    for (const t of texts) problems.push(...slackEscapingProblems(t, `blocks.${i}`));
  }
  return problems;
}

// ---- Telegram Bot API ----

const TELEGRAM_TAGS = new Set([
  "b",
  "strong",
  "i",
  "em",
  "u",
  "ins",
  "s",
  "strike",
  "del",
  "a",
  "code",
  "pre",
  "blockquote",
  "tg-spoiler",
  "span",
]);

/** Telegram's HTML parse mode: only its tags, balanced; only its entities; no stray < >. */
export function telegramHtmlProblems(html: string, where: string): Problems {
  const problems: Problems = [];
  const stack: string[] = [];
  const tag = /<(\/?)([a-z-]+)((?:\s+[a-z-]+="[^"<>]*")*)\s*>/g;
  let last = 0;
  for (let m = tag.exec(html); m; m = tag.exec(html)) {
    const between = html.slice(last, m.index);
    if (/[<>]/.test(between)) problems.push(`${where}: stray < or > near ${JSON.stringify(between.slice(0, 60))}`);
    last = m.index + m[0].length;
    const name = m[2]!;
    if (!TELEGRAM_TAGS.has(name)) problems.push(`${where}: tag <${name}> is not supported`);
    if (m[1]) {
      if (stack.pop() !== name) problems.push(`${where}: </${name}> closes nothing`);
    } else stack.push(name);
  }
  if (/[<>]/.test(html.slice(last))) problems.push(`${where}: stray < or > at the end`);
  if (stack.length) problems.push(`${where}: unclosed <${stack.join(">, <")}>`);
  if (/&(?!(amp|lt|gt|quot);|#\d+;|#x[0-9a-f]+;)/i.test(html)) problems.push(`${where}: bare &`);
  return problems;
}

/** Length after entity parsing (what Telegram's 4096 / 1024 limits count). */
export function telegramVisibleLength(html: string): number {
  const text = html
    .replace(/<[^>]+>/g, "")
    .replace(/&(amp|lt|gt|quot);/g, "x")
    .replace(/&#x?[0-9a-f]+;/gi, "x");
  // Telegram counts UTF-16 code units.
  return text.length;
}

const telegramMessage = z.object({
  chat_id: z.union([z.number().int(), z.string().regex(/^(-?\d+|@[A-Za-z]\w{3,31})$/)]),
  text: z.string().min(1),
  parse_mode: z.literal("HTML"),
  disable_web_page_preview: z.boolean().optional(),
});

export function checkTelegramSendMessage(req: RecordedRequest, botToken: string): Problems {
  const problems: Problems = [];
  expectJsonPost(req, problems);
  if (!req.path.endsWith(`/bot${botToken}/sendMessage`))
    problems.push(`path ${req.path} is not /bot<token>/sendMessage`);
  const body = parseJson(req, problems) as z.infer<typeof telegramMessage> | undefined;
  if (!body) return problems;
  problems.push(...zodProblems(telegramMessage, body, "telegram"), ...wellFormed(req.body, "body"));
  if (typeof body.text === "string") {
    if (telegramVisibleLength(body.text) > 4096) problems.push("text longer than 4096 characters");
    problems.push(...telegramHtmlProblems(body.text, "text"));
  }
  return problems;
}

export interface MultipartPart {
  name: string;
  filename?: string;
  contentType?: string;
  content: string;
}

/** A multipart/form-data body split into its parts (the hub records bodies as UTF-8 text). */
export function parseMultipart(req: RecordedRequest): MultipartPart[] | string {
  const type = header(req, "content-type") ?? "";
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (!/^multipart\/form-data/i.test(type) || !boundary) return `content-type ${type} is not multipart/form-data`;
  const parts: MultipartPart[] = [];
  for (const chunk of req.body.split(`--${boundary}`).slice(1)) {
    if (chunk.startsWith("--")) break;
    const [head = "", ...rest] = chunk.replace(/^\r\n/, "").split("\r\n\r\n");
    const disposition = /content-disposition:\s*form-data;([^\r\n]*)/i.exec(head)?.[1] ?? "";
    parts.push({
      name: /\bname="([^"]*)"/.exec(disposition)?.[1] ?? "",
      filename: /\bfilename="([^"]*)"/.exec(disposition)?.[1],
      contentType: /content-type:\s*([^\r\n]+)/i.exec(head)?.[1],
      content: rest.join("\r\n\r\n").replace(/\r\n$/, ""),
    });
  }
  return parts;
}

export function checkTelegramSendDocument(req: RecordedRequest, botToken: string): Problems {
  const problems: Problems = [];
  if (req.method !== "POST") problems.push(`method ${req.method}`);
  if (!req.path.endsWith(`/bot${botToken}/sendDocument`))
    problems.push(`path ${req.path} is not /bot<token>/sendDocument`);
  const parts = parseMultipart(req);
  if (typeof parts === "string") return [...problems, parts];
  const part = (name: string) => parts.find((p) => p.name === name);
  if (!part("chat_id")?.content) problems.push("chat_id part missing");
  const document = part("document");
  if (!document?.filename) problems.push("document part is not a file");
  else if (!document.content.startsWith("%PDF-")) problems.push("document is not a PDF");
  const caption = part("caption")?.content;
  if (caption !== undefined) {
    if (telegramVisibleLength(caption) > 1024) problems.push("caption longer than 1024 characters");
    if (part("parse_mode")?.content !== "HTML") problems.push("caption without parse_mode HTML");
    problems.push(...telegramHtmlProblems(caption, "caption"));
  }
  return problems;
}

// ---- Opsgenie Alert API v2 ----

const opsgenieAlert = z.object({
  message: chars(130).pipe(z.string().min(1)),
  alias: chars(512).optional(),
  description: chars(15000).optional(),
  details: z.record(z.string(), z.string()).optional(),
  priority: z.enum(["P1", "P2", "P3", "P4", "P5"]).optional(),
  tags: z.array(chars(50)).max(20).optional(),
  entity: chars(512).optional(),
  source: chars(100).optional(),
  user: chars(100).optional(),
  note: chars(25000).optional(),
});

/** Create alert: POST /v2/alerts. */
export function checkOpsgenie(req: RecordedRequest, apiKey: string): Problems {
  const problems: Problems = [];
  expectJsonPost(req, problems);
  if (header(req, "authorization") !== `GenieKey ${apiKey}`) problems.push("authorization is not GenieKey <key>");
  const body = parseJson(req, problems);
  return [...problems, ...zodProblems(opsgenieAlert.strict(), body, "opsgenie"), ...wellFormed(req.body, "body")];
}

/** Close alert: optional user (100), source (100) and note (25000), nothing else. */
const opsgenieClose = z
  .object({ user: chars(100).optional(), source: chars(100).optional(), note: chars(25000).optional() })
  .strict();

/**
 * Close alert by alias: POST /v2/alerts/{alias}/close?identifierType=alias (the alias URL-encoded
 * in the path). Answers the alias it closes, so a test can match it with the alert's.
 */
export function checkOpsgenieClose(req: RecordedRequest, apiKey: string): { problems: Problems; alias?: string } {
  const problems: Problems = [];
  expectJsonPost(req, problems);
  if (header(req, "authorization") !== `GenieKey ${apiKey}`) problems.push("authorization is not GenieKey <key>");
  const match = /\/v2\/alerts\/([^/]+)\/close$/.exec(req.path);
  if (!match) problems.push(`path ${req.path} is not …/v2/alerts/{identifier}/close`);
  if (new URLSearchParams(req.query).get("identifierType") !== "alias")
    problems.push(`query ${JSON.stringify(req.query)} does not say identifierType=alias`);
  let alias: string | undefined;
  try {
    alias = match ? decodeURIComponent(match[1]!) : undefined;
  } catch {
    problems.push("the identifier is not URL-encoded");
  }
  if (alias !== undefined && Array.from(alias).length > 512) problems.push("alias longer than 512 characters");
  const body = parseJson(req, problems);
  problems.push(...zodProblems(opsgenieClose, body, "opsgenie close"), ...wellFormed(req.body, "body"));
  return { problems, ...(alias !== undefined ? { alias } : {}) };
}

// ---- PagerDuty Events API v2 ----

const pagerdutyCommon = {
  routing_key: z.string().length(32),
  dedup_key: chars(255).optional(),
};

const pagerdutyTrigger = z
  .object({
    ...pagerdutyCommon,
    event_action: z.literal("trigger"),
    payload: z.object({
      summary: chars(1024).pipe(z.string().min(1)),
      source: z.string().min(1).max(255),
      severity: z.enum(["critical", "error", "warning", "info"]),
      timestamp: z.iso.datetime().optional(),
      component: z.string().optional(),
      group: z.string().optional(),
      class: z.string().optional(),
      custom_details: z.record(z.string(), z.unknown()).optional(),
    }),
    client: z.string().optional(),
    client_url: z.url().optional(),
    links: z.array(z.object({ href: z.url(), text: z.string().optional() })).optional(),
    images: z.array(z.object({ src: z.url(), href: z.url().optional(), alt: z.string().optional() })).optional(),
  })
  .strict();

/** Acknowledge and resolve name the alert by its dedup_key (required) and carry no payload. */
const pagerdutyFollowUp = z
  .object({
    routing_key: pagerdutyCommon.routing_key,
    event_action: z.enum(["acknowledge", "resolve"]),
    dedup_key: chars(255).pipe(z.string().min(1)),
  })
  .strict();

const pagerdutyEvent = z.discriminatedUnion("event_action", [pagerdutyTrigger, pagerdutyFollowUp]);

export function checkPagerduty(req: RecordedRequest, routingKey: string): Problems {
  const problems: Problems = [];
  expectJsonPost(req, problems);
  const body = parseJson(req, problems) as { routing_key?: string } | undefined;
  if (body && body.routing_key !== routingKey) problems.push("routing_key is not the integration key");
  if (req.body.length > 512 * 1024) problems.push("event larger than 512 KB");
  return [...problems, ...zodProblems(pagerdutyEvent, body, "pagerduty"), ...wellFormed(req.body, "body")];
}

// ---- Splunk HTTP Event Collector ----

const splunkEvent = z
  .object({
    time: z.number().positive(),
    host: z.string().optional(),
    source: z.string().optional(),
    sourcetype: z.string().optional(),
    index: z.string().optional(),
    fields: z.record(z.string(), z.unknown()).optional(),
    event: z.unknown().refine((e) => e !== undefined && e !== null && e !== "", "event is required"),
  })
  .strict();

/** Splits concatenated JSON objects ("{…}{…}" or newline-separated), as HEC reads them. */
export function splitConcatenatedJson(body: string): unknown[] | string {
  const out: unknown[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{") {
      if (depth === 0) start = i;
      depth++;
    } else if (c === "}") {
      depth--;
      if (depth === 0) out.push(JSON.parse(body.slice(start, i + 1)));
    } else if (depth === 0 && !/\s/.test(c)) return `unexpected ${JSON.stringify(c)} between events`;
  }
  return depth === 0 ? out : "unterminated event object";
}

export function checkSplunk(req: RecordedRequest, token: string): Problems {
  const problems: Problems = [];
  expectJsonPost(req, problems);
  if (!req.path.endsWith("/services/collector/event"))
    problems.push(`path ${req.path} is not …/services/collector/event`);
  if (header(req, "authorization") !== `Splunk ${token}`) problems.push("authorization is not Splunk <token>");
  const events = splitConcatenatedJson(req.body);
  if (typeof events === "string") return [...problems, events];
  if (events.length === 0) problems.push("no events");
  events.forEach((e, i) => {
    problems.push(...zodProblems(splunkEvent, e, `event ${i}`));
  });
  return [...problems, ...wellFormed(req.body, "body")];
}

// ---- Sumo Logic HTTP Logs source ----

export function checkSumologic(req: RecordedRequest): Problems {
  const problems: Problems = [];
  if (req.method !== "POST") problems.push(`method ${req.method}`);
  for (const name of ["x-sumo-category", "x-sumo-name", "x-sumo-host"]) {
    if (!header(req, name)) problems.push(`${name} header missing`);
  }
  if (req.body.length > 1024 * 1024) problems.push("request larger than 1 MB (Sumo Logic's recommended maximum)");
  const lines = req.body.split("\n");
  lines.forEach((line, i) => {
    try {
      JSON.parse(line);
    } catch {
      problems.push(`line ${i} is not one JSON message`);
    }
  });
  return [...problems, ...wellFormed(req.body, "body")];
}

// ---- InsightConnect API trigger ----

export function checkInsightconnect(req: RecordedRequest, apiKey: string): Problems {
  const problems: Problems = [];
  expectJsonPost(req, problems);
  if (header(req, "x-api-key") !== apiKey) problems.push("X-API-Key is not the key");
  const body = parseJson(req, problems);
  if (body !== undefined && (typeof body !== "object" || body === null || Array.isArray(body))) {
    problems.push("body is not a JSON object");
  }
  return [...problems, ...wellFormed(req.body, "body")];
}

// ---- Standard Webhooks ----

function base64ToBytes(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** Verifies webhook-signature the way a Standard Webhooks receiver does; answers which secrets match. */
export async function verifyStandardWebhook(
  req: RecordedRequest,
  secrets: string[],
): Promise<{ problems: Problems; matched: string[] }> {
  const problems: Problems = [];
  const id = header(req, "webhook-id");
  const timestamp = header(req, "webhook-timestamp");
  const signature = header(req, "webhook-signature");
  if (!id) problems.push("webhook-id missing");
  if (!timestamp || !/^\d+$/.test(timestamp)) problems.push("webhook-timestamp is not integer seconds");
  else if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300)
    problems.push("webhook-timestamp more than 5 minutes off");
  if (!signature) problems.push("webhook-signature missing");
  const matched: string[] = [];
  if (id && timestamp && signature) {
    const sent = signature.split(" ").map((s) => s.split(","));
    if (sent.some((s) => s[0] !== "v1" || s.length !== 2))
      problems.push(`webhook-signature ${signature} is not "v1,<base64>"…`);
    for (const secret of secrets) {
      const key = await crypto.subtle.importKey(
        "raw",
        base64ToBytes(secret.replace(/^whsec_/, "")),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign"],
      );
      const mac = new Uint8Array(
        await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${id}.${timestamp}.${req.body}`)),
      );
      const expected = btoa(String.fromCharCode(...mac));
      if (sent.some((s) => s[1] === expected)) matched.push(secret);
    }
  }
  return { problems, matched };
}

export interface WebhookExpectation {
  method: "POST" | "PUT";
  format: "json_array" | "ndjson";
  headers: { name: string; value: string }[];
  secrets: string[];
}

export async function checkWebhook(req: RecordedRequest, expected: WebhookExpectation): Promise<Problems> {
  const problems: Problems = [];
  if (req.method !== expected.method) problems.push(`method ${req.method}, expected ${expected.method}`);
  const type = header(req, "content-type") ?? "";
  if (expected.format === "json_array") {
    if (!/^application\/json\b/.test(type)) problems.push(`content-type ${type}`);
    const body = parseJson(req, problems);
    if (body !== undefined && !Array.isArray(body)) problems.push("body is not a JSON array");
  } else {
    if (!/^application\/x-ndjson\b/.test(type)) problems.push(`content-type ${type}`);
    if (!req.body.endsWith("\n")) problems.push("NDJSON body does not end with a newline");
    req.body
      .split("\n")
      .filter(Boolean)
      .forEach((line, i) => {
        try {
          JSON.parse(line);
        } catch {
          problems.push(`NDJSON line ${i} is not JSON`);
        }
      });
  }
  for (const h of expected.headers) {
    if (header(req, h.name) !== h.value) problems.push(`configured header ${h.name} missing`);
  }
  const { problems: signatureProblems, matched } = await verifyStandardWebhook(req, expected.secrets);
  problems.push(...signatureProblems);
  for (const secret of expected.secrets)
    if (!matched.includes(secret)) problems.push("a signing secret's signature is missing");
  return [...problems, ...wellFormed(req.body, "body")];
}

/** The canonical notification (docs/channels.md#the-canonical-notification), for bodies that carry it as is. */
export const canonicalNotification = z.object({
  id: z.string().min(1),
  summary: z.string().min(1),
  description: z.string(),
  details: z
    .object({
      client_name: z.string(),
      notification_type: z.string(),
      occurred_at: z.iso.datetime(),
      link: z.url(),
    })
    .loose(),
});
