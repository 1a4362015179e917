import type { Notification, ReportAttachment } from "../domain/notification";
import type { MailAttachment, MailMessage, MailResult } from "../email/send";
import { sendMail } from "../email/send";
import type { Env } from "../env";
import { type MessageView, viewOf } from "./format";
import { cut, escapeHtml } from "./text";
import type { SendContext, SendOutcome } from "./types";

/** Email subjects stay short enough for every mail client's list view and the 998-octet line limit. */
export const EMAIL_SUBJECT_LIMIT = 200;

interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

function profileUrl(publicUrl: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/profile`;
}

/** Plain text and HTML versions of a notification (or a report summary). */
export function renderEmail(view: MessageView, publicUrl: string, linkLabel = "Open in Herald"): RenderedEmail {
  const subject = cut(view.headline, EMAIL_SUBJECT_LIMIT);
  const footerText = `You receive this because ${view.clientName || "your account"} sends Herald notifications to this address. Manage them at ${profileUrl(publicUrl)}`;

  const textLines = [view.headline, ""];
  for (const field of view.fields) {
    if (field.long) textLines.push(`${field.label}:`, field.value, "");
    else textLines.push(`${field.label}: ${field.value}`);
  }
  textLines.push("", `${linkLabel}: ${view.link}`, `${view.clientName} · ${view.occurredAt}`, "", "-- ", footerText);

  const rows = view.fields
    .map((field) =>
      field.long
        ? `<tr><th colspan="2" style="text-align:left;padding:8px 0 2px">${escapeHtml(field.label)}</th></tr>` +
          `<tr><td colspan="2"><pre style="white-space:pre-wrap;word-break:break-all;background:#f4f4f5;padding:8px;margin:0;font-size:12px">${escapeHtml(field.value)}</pre></td></tr>`
        : `<tr><th style="text-align:left;padding:2px 12px 2px 0;vertical-align:top;white-space:nowrap">${escapeHtml(field.label)}</th>` +
          `<td style="padding:2px 0;word-break:break-word">${escapeHtml(field.value)}</td></tr>`,
    )
    .join("\n");
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${escapeHtml(subject)}</title></head>
<body style="margin:0;padding:16px;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#18181b;background:#ffffff">
<h1 style="font-size:18px;margin:0 0 12px">${escapeHtml(view.headline)}</h1>
<table role="presentation" style="border-collapse:collapse;font-size:14px;margin-bottom:16px">
${rows}
</table>
<p><a href="${escapeHtml(view.link)}" style="display:inline-block;padding:8px 14px;background:#2563eb;color:#ffffff;text-decoration:none;border-radius:4px">${escapeHtml(linkLabel)}</a></p>
<p style="font-size:12px;color:#71717a">${escapeHtml(view.clientName)} · ${escapeHtml(view.occurredAt)}</p>
<hr style="border:none;border-top:1px solid #e4e4e7">
<p style="font-size:12px;color:#71717a">You receive this because ${escapeHtml(view.clientName || "your account")} sends Herald notifications to this address.
<a href="${escapeHtml(profileUrl(publicUrl))}" style="color:#71717a">Manage notifications</a>.</p>
</body></html>
`;
  return { subject, text: textLines.join("\n"), html };
}

/** What the delivery log shows for an email: envelope, subject and the text part. */
function loggedEmail(message: MailMessage): string {
  const attachments = (message.attachments ?? []).map(
    (a) => `Attachment: ${a.filename} (${a.contentType}, ${a.content.byteLength} bytes)`,
  );
  return [`To: ${message.to.join(", ")}`, `Subject: ${message.subject}`, ...attachments, "", message.text].join("\n");
}

function outcomeOf(result: MailResult, message: MailMessage): SendOutcome {
  const requestBody = loggedEmail(message);
  if (result.ok) return { ok: true, status: 250, latencyMs: result.latencyMs, requestBody };
  return {
    ok: false,
    kind: result.kind,
    ...(result.code ? { status: result.code } : {}),
    latencyMs: result.latencyMs,
    error: result.error,
    requestBody,
  };
}

export function recipientsOf(ctx: SendContext<unknown>, fallback: string[] = []): string[] {
  return ctx.recipients?.length ? ctx.recipients : fallback;
}

/** Sends each notification as its own email to the recipients. */
export async function emailNotifications(
  ctx: { env: Env; test?: boolean },
  recipients: string[],
  notifications: Notification[],
): Promise<SendOutcome> {
  let last: SendOutcome = {
    ok: false,
    kind: "invalid_settings",
    latencyMs: 0,
    error: "nothing to send",
    requestBody: "",
  };
  for (const notification of notifications) {
    const rendered = renderEmail(viewOf(notification, ctx.test), ctx.env.PUBLIC_URL);
    const message: MailMessage = { to: recipients, ...rendered };
    last = outcomeOf(await sendMail(ctx.env, message), message);
    if (!last.ok) return last;
  }
  return last;
}

/** A report email: the HTML summary, a link to the report page, and the PDF attached. */
export async function emailReport(
  ctx: { env: Env; test?: boolean },
  recipients: string[],
  notification: Notification,
  report: ReportAttachment,
): Promise<SendOutcome> {
  const rendered = renderEmail(viewOf(notification, ctx.test), ctx.env.PUBLIC_URL, "Open the report");
  const attachments: MailAttachment[] = [];
  try {
    attachments.push({ filename: report.fileName, contentType: "application/pdf", content: await report.loadPdf() });
  } catch {
    // No PDF (not rendered yet): the summary and the link to the report page still go out.
  }
  const message: MailMessage = { to: recipients, ...rendered, attachments };
  return outcomeOf(await sendMail(ctx.env, message), message);
}
