import { z } from "zod";
import type { Notification, ReportAttachment } from "../domain/notification";
import { type MessageView, viewOf } from "./format";
import { DEFAULT_TIMEOUT_MS, sendEach, sendHttp } from "./http";
import { credential } from "./settings-fields";
import { fitParts, type MarkupPart } from "./text";
import type { Channel, SendContext } from "./types";

const telegramSettingsSchema = z
  .object({
    /** From @BotFather: "<bot id>:<secret>". */
    bot_token: credential(20, 100, /^\d{3,15}:[A-Za-z0-9_-]{30,80}$/),
    /** A numeric chat id (groups are negative) or a public channel's @username. */
    chat_id: z
      .union([z.string().trim(), z.number().int().transform(String)])
      .pipe(
        z
          .string()
          .regex(/^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$/, { error: "must be a numeric chat id or @channelname" }),
      ),
  })
  .strict();
type TelegramSettings = z.infer<typeof telegramSettingsSchema>;

export const TELEGRAM_LIMITS = { text: 4096, caption: 1024 };

const TELEGRAM_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };

/** Telegram's HTML mode knows only &lt; &gt; &amp; &quot; (and numeric entities). */
function escapeTelegramChar(char: string): string {
  return TELEGRAM_ESCAPES[char] ?? char;
}

function href(url: string): string {
  return Array.from(url, escapeTelegramChar).join("");
}

/** The HTML message for a notification, within `max` characters (4096 for text, 1024 for a caption). */
export function renderTelegramHtml(view: MessageView, max: number, linkLabel = "Open in Herald"): string {
  const parts: MarkupPart[] = [{ before: "<b>", value: view.headline, after: "</b>", required: true }];
  for (const field of view.fields) {
    if (field.long) parts.push({ before: `<b>${field.label}:</b>\n<pre>`, value: field.value, after: "</pre>" });
    else parts.push({ before: `<b>${field.label}:</b> `, value: field.value, after: "" });
  }
  const footer = [view.clientName, view.occurredAt].filter(Boolean).join(" · ");
  if (footer) parts.push({ before: "<i>", value: footer, after: "</i>", required: true });
  if (view.link)
    parts.push({ before: `<a href="${href(view.link)}">`, value: linkLabel, after: "</a>", required: true });
  return fitParts(parts, max, escapeTelegramChar);
}

const retryAfterFromBody = (body: string): number | undefined => {
  try {
    const value = (JSON.parse(body) as { parameters?: { retry_after?: unknown } }).parameters?.retry_after;
    return typeof value === "number" && value >= 0 ? value : undefined;
  } catch {
    return undefined;
  }
};

/** https://api.telegram.org/bot<token>/<method>: the token is in the path, so the URL is a secret. */
function methodUrl(ctx: SendContext<TelegramSettings>, method: string): string {
  return `${ctx.env.TELEGRAM_API_BASE.replace(/\/+$/, "")}/bot${ctx.settings.bot_token}/${method}`;
}

function sendMessage(ctx: SendContext<TelegramSettings>, text: string) {
  const body = JSON.stringify({
    chat_id: ctx.settings.chat_id,
    text,
    parse_mode: "HTML",
    disable_web_page_preview: true,
  });
  return sendHttp({
    fetch: ctx.fetch,
    url: methodUrl(ctx, "sendMessage"),
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body,
    loggedBody: body,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    secrets: ctx.secrets,
    retryAfterFromBody,
  });
}

/**
 * A report is ONE sendDocument request: the PDF with the summary as its HTML caption, so a retry
 * never posts the summary twice. Without a PDF (not rendered yet), the summary goes as a message.
 */
async function sendReport(ctx: SendContext<TelegramSettings>, notification: Notification, report: ReportAttachment) {
  const view = viewOf(notification, ctx.test);
  let pdf: Uint8Array;
  try {
    pdf = await report.loadPdf();
  } catch {
    return sendMessage(ctx, renderTelegramHtml(view, TELEGRAM_LIMITS.text, "Open the report"));
  }
  const caption = renderTelegramHtml(view, TELEGRAM_LIMITS.caption, "Open the report");
  const form = new FormData();
  form.set("chat_id", ctx.settings.chat_id);
  form.set("caption", caption);
  form.set("parse_mode", "HTML");
  form.set("document", new File([new Uint8Array(pdf)], report.fileName, { type: "application/pdf" }));
  return sendHttp({
    fetch: ctx.fetch,
    url: methodUrl(ctx, "sendDocument"),
    method: "POST",
    headers: {},
    body: form,
    loggedBody: JSON.stringify({
      chat_id: ctx.settings.chat_id,
      caption,
      parse_mode: "HTML",
      document: `${report.fileName} (application/pdf, ${pdf.byteLength} bytes)`,
    }),
    timeoutMs: DEFAULT_TIMEOUT_MS,
    secrets: ctx.secrets,
    retryAfterFromBody,
  });
}

export const telegramChannel: Channel<TelegramSettings> = {
  type: "telegram",
  title: "Telegram",
  block: "email_and_messengers",
  settingsSchema: telegramSettingsSchema,
  secretFields: ["bot_token"],
  urlFields: [],
  categories: ["system", "security_issue", "scope_change", "incident", "reports"],
  batchLimit: 1,
  send: (ctx, notifications) =>
    sendEach(notifications, (n) => sendMessage(ctx, renderTelegramHtml(viewOf(n, ctx.test), TELEGRAM_LIMITS.text))),
  sendReport,
};
