import { z } from "zod";
import type { Notification, ReportAttachment } from "../domain/notification";
import { type MessageView, viewOf } from "./format";
import { DEFAULT_TIMEOUT_MS, sendEach, sendHttp } from "./http";
import { destinationUrl } from "./settings-fields";
import { escapeAndCut, escapeSlackChar, fitParts, type MarkupPart } from "./text";
import type { Channel, SendContext } from "./types";

const slackSettingsSchema = z
  .object({
    /** The incoming webhook URL (https://hooks.slack.com/services/…): its path is the credential. */
    webhook_url: destinationUrl,
  })
  .strict();
type SlackSettings = z.infer<typeof slackSettingsSchema>;

/** Block Kit limits (messages). */
const SLACK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  contextText: 3000,
  /** The top-level text is the notification fallback; keep it as short as a section. */
  fallbackText: 3000,
};

/** Slack's link syntax <url|text>: the URL escaped like text, and "|" kept out of it. */
function slackLink(url: string, label: string): string {
  const safeUrl = Array.from(url.replace(/\|/g, "%7C"), escapeSlackChar).join("");
  return `<${safeUrl}|${label}>`;
}

type Block = Record<string, unknown>;

/** The incoming-webhook message for one notification: plain fallback `text` plus Block Kit `blocks`. */
export function renderSlackMessage(view: MessageView, linkLabel = "Open in Herald"): { text: string; blocks: Block[] } {
  const blocks: Block[] = [
    {
      type: "header",
      text: { type: "plain_text", text: escapeAndCut(view.headline, SLACK_LIMITS.headerText, escapeSlackChar) },
    },
  ];
  const short = view.fields.filter((f) => !f.long).slice(0, SLACK_LIMITS.sectionFields);
  if (short.length) {
    blocks.push({
      type: "section",
      fields: short.map((f) => ({
        type: "mrkdwn",
        text: fitParts(
          [{ before: `*${f.label}*\n`, value: f.value, after: "", required: true }],
          SLACK_LIMITS.fieldText,
          escapeSlackChar,
        ),
      })),
    });
  }
  // Long texts (descriptions, payloads) as quotes: an escaped ">" in the value cannot start one.
  for (const field of view.fields.filter((f) => f.long)) {
    const parts: MarkupPart[] = [{ before: `*${field.label}*`, value: "", after: "", required: true }];
    for (const line of field.value.split("\n")) parts.push({ before: ">", value: line, after: "" });
    blocks.push({
      type: "section",
      text: { type: "mrkdwn", text: fitParts(parts, SLACK_LIMITS.sectionText, escapeSlackChar) },
    });
  }
  const context = [view.link ? slackLink(view.link, linkLabel) : "", view.clientName, view.occurredAt]
    .filter(Boolean)
    .map((piece, i) => (i === 0 && view.link ? piece : escapeAndCut(piece, 500, escapeSlackChar)))
    .join(" · ");
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: context }] });
  const fallbackParts: MarkupPart[] = [
    { before: "", value: view.headline, after: "", required: true },
    ...view.fields.filter((f) => !f.long).map((f) => ({ before: `${f.label}: `, value: f.value, after: "" })),
  ];
  return {
    text: fitParts(fallbackParts, SLACK_LIMITS.fallbackText, escapeSlackChar),
    blocks: blocks.slice(0, SLACK_LIMITS.blocks),
  };
}

function post(ctx: SendContext<SlackSettings>, message: { text: string; blocks: Block[] }) {
  const body = JSON.stringify(message);
  return sendHttp({
    fetch: ctx.fetch,
    url: ctx.settings.webhook_url,
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body,
    loggedBody: body,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    secrets: ctx.secrets,
  });
}

export const slackChannel: Channel<SlackSettings> = {
  type: "slack",
  title: "Slack",
  block: "email_and_messengers",
  settingsSchema: slackSettingsSchema,
  secretFields: ["webhook_url"],
  urlFields: ["webhook_url"],
  categories: ["system", "security_issue", "scope_change", "incident", "reports"],
  batchLimit: 1,
  send: (ctx, notifications) => sendEach(notifications, (n) => post(ctx, renderSlackMessage(viewOf(n, ctx.test)))),
  // Slack gets the summary and a link to the report page (incoming webhooks cannot upload files).
  sendReport: (ctx, notification: Notification, _report: ReportAttachment) =>
    post(ctx, renderSlackMessage(viewOf(notification, ctx.test), "Open the report")),
};
