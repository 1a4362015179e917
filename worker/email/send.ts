import { EmailMessage } from "cloudflare:email";
import type { Env } from "../env";
import { buildMime, type MailAttachment, type MimeInput } from "./mime";
import { plaintextCredentialsProblem, SmtpError, type SmtpSecurity, smtpSend } from "./smtp";

/**
 * sendMail: the one way Herald sends email (notifications, reports, admin notices). The
 * transport is a deployment setting: MAIL_TRANSPORT = "send_email" (the Workers binding,
 * default) or "smtp" (SMTP_HOST, SMTP_PORT, SMTP_SECURE = tls | starttls | none, optional
 * SMTP_USER / SMTP_PASSWORD). Never throws for a delivery failure: it returns it.
 */

/** What callers say; sendMail adds the sender, Message-ID and date. */
export interface MailMessage extends Pick<MimeInput, "to" | "subject" | "text" | "html" | "attachments"> {
  /** Extra headers; List-Unsubscribe defaults to the profile page. */
  headers?: Record<string, string>;
}

export type MailResult =
  | { ok: true; messageId: string; latencyMs: number }
  | {
      ok: false;
      kind: "status" | "network" | "timeout" | "invalid_settings";
      /** SMTP reply code (4xx temporary, 5xx permanent), when the server answered one. */
      code?: number;
      error: string;
      latencyMs: number;
    };

export type { MailAttachment };

const MAIL_TIMEOUT_MS = 15_000;

/** MAIL_FROM is "addr@example.com" or "Name <addr@example.com>". */
function parseMailFrom(value: string): { name?: string; address: string } {
  const match = /^\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(value);
  if (match) return { name: match[1]?.replace(/^"|"$/g, "") || undefined, address: match[2]! };
  return { name: "Herald", address: value.trim() };
}

function messageIdFor(fromAddress: string): string {
  const domain = fromAddress.split("@")[1] || "herald.invalid";
  return `<${crypto.randomUUID()}@${domain}>`;
}

function smtpSecurity(value: string): SmtpSecurity | undefined {
  return value === "tls" || value === "starttls" || value === "none" ? value : undefined;
}

export async function sendMail(env: Env, message: MailMessage): Promise<MailResult> {
  const started = Date.now();
  const latency = () => Date.now() - started;
  const from = parseMailFrom(env.MAIL_FROM || "herald@example.com");
  const recipients = [...new Set(message.to.map((a) => a.trim()).filter(Boolean))];
  if (recipients.length === 0) {
    return { ok: false, kind: "invalid_settings", error: "no recipients", latencyMs: 0 };
  }
  const messageId = messageIdFor(from.address);
  const publicUrl = (env.PUBLIC_URL || "").replace(/\/+$/, "");
  const build = (to: string[]) =>
    buildMime({
      from,
      to,
      subject: message.subject,
      text: message.text,
      html: message.html,
      attachments: message.attachments,
      messageId,
      headers: {
        "List-Unsubscribe": `<${publicUrl}/profile>`,
        "Auto-Submitted": "auto-generated",
        ...message.headers,
      },
    });

  if (env.MAIL_TRANSPORT === "smtp") {
    const security = smtpSecurity(env.SMTP_SECURE);
    const port = Number(env.SMTP_PORT);
    if (!env.SMTP_HOST || !security || !Number.isInteger(port) || port < 1 || port > 65535) {
      return {
        ok: false,
        kind: "invalid_settings",
        error: "SMTP is not configured (SMTP_HOST, SMTP_PORT, SMTP_SECURE = tls | starttls | none)",
        latencyMs: 0,
      };
    }
    const config = {
      host: env.SMTP_HOST,
      port,
      security,
      user: env.SMTP_USER || undefined,
      password: env.SMTP_PASSWORD,
      heloName: from.address.split("@")[1] || "localhost",
      timeoutMs: MAIL_TIMEOUT_MS,
    };
    const problem = plaintextCredentialsProblem(config);
    if (problem) return { ok: false, kind: "invalid_settings", error: problem, latencyMs: 0 };
    try {
      await smtpSend(config, from.address, recipients, build(recipients));
      return { ok: true, messageId, latencyMs: latency() };
    } catch (error) {
      const smtp = error instanceof SmtpError ? error : new SmtpError(String(error), "network");
      const secretFree = env.SMTP_PASSWORD ? smtp.message.split(env.SMTP_PASSWORD).join("[redacted]") : smtp.message;
      return {
        ok: false,
        kind: smtp.kind,
        ...(smtp.code ? { code: smtp.code } : {}),
        error: `SMTP: ${secretFree}`,
        latencyMs: latency(),
      };
    }
  }

  // The binding takes one envelope recipient per message: each recipient gets their own copy.
  if (!env.SEND_EMAIL) {
    return { ok: false, kind: "invalid_settings", error: "the SEND_EMAIL binding is missing", latencyMs: 0 };
  }
  for (const recipient of recipients) {
    try {
      await env.SEND_EMAIL.send(new EmailMessage(from.address, recipient, build([recipient])));
    } catch (error) {
      return {
        ok: false,
        kind: "network",
        error: `send_email: ${error instanceof Error ? error.message : String(error)}`.slice(0, 300),
        latencyMs: latency(),
      };
    }
  }
  return { ok: true, messageId, latencyMs: latency() };
}
