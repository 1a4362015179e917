import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getChannel } from "../../../worker/channels/catalog";
import type { SendContext } from "../../../worker/channels/types";
import { sendMail } from "../../../worker/email/send";
import type { Env } from "../../../worker/env";
import { reportAttachment, sample, TINY_PDF } from "../../unit/channels/fixtures";
import { mailTo } from "../hub";

/**
 * Email through the real SMTP server of the receiver hub (smtp-server on 127.0.0.1, parsed by
 * mailparser): parts, headers, UTF-8 subject, attachment. The worker's env already points
 * MAIL_TRANSPORT=smtp at it (vitest.config.ts), with SMTP_SECURE=none.
 */

const address = (name: string) => `${name}-${crypto.randomUUID().slice(0, 8)}@acme.example`;

function mailEnv(overrides: Partial<Env> = {}): Env {
  return {
    ...env,
    PUBLIC_URL: "https://herald.example.com",
    MAIL_FROM: "Herald <herald@herald.example.com>",
    ...overrides,
  } as Env;
}

function ctxFor<S>(settings: S, recipients?: string[], test = false): SendContext<S> {
  return {
    integrationId: crypto.randomUUID(),
    accountName: "Acme",
    settings,
    env: mailEnv(),
    fetch: globalThis.fetch.bind(globalThis),
    deliveryId: crypto.randomUUID(),
    secrets: [],
    recipients,
    test,
  };
}

describe("sendMail over SMTP", () => {
  it("delivers multipart/alternative with a UTF-8 subject, Message-ID and List-Unsubscribe", async () => {
    const to = address("utf8");
    const subject = `Отчёт Herald — 攻撃 detected 🚨 ${"long ".repeat(30)}`;
    const result = await sendMail(mailEnv(), {
      to: [to],
      subject,
      text: "Plain body\n.leading dot line\nÜnïcödé",
      html: "<p>HTML body <b>bold</b> Ünïcödé</p>",
    });
    expect(result.ok).toBe(true);
    const [mail] = await mailTo(to);
    expect(mail).toBeDefined();
    expect(mail!.subject).toBe(subject.trim());
    expect(mail!.from).toBe("herald@herald.example.com");
    expect(mail!.text.trim()).toBe("Plain body\n.leading dot line\nÜnïcödé");
    expect(mail!.html).toContain("<b>bold</b> Ünïcödé");
    expect(mail!.headers["content-type"]).toMatch(/^multipart\/alternative/);
    expect(mail!.headers["message-id"]).toMatch(/^<[0-9a-f-]{36}@herald\.example\.com>$/);
    if (result.ok) expect(mail!.headers["message-id"]).toBe(result.messageId);
    expect(mail!.headers["list-unsubscribe"]).toBe("<https://herald.example.com/profile>");
    expect(mail!.headers["mime-version"]).toBe("1.0");
    expect(mail!.headers.date).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    // Every line of the raw message within RFC 5322's 998 octets, all 7-bit.
    for (const line of mail!.raw.split("\r\n")) expect(line.length).toBeLessThanOrEqual(998);
    expect([...mail!.raw].every((c) => c.charCodeAt(0) < 0x80)).toBe(true);
  });

  it("attaches files in multipart/mixed", async () => {
    const to = address("attach");
    const result = await sendMail(mailEnv(), {
      to: [to],
      subject: "with PDF",
      text: "see attached",
      html: "<p>see attached</p>",
      attachments: [{ filename: "herald-daily-2026-11-28.pdf", contentType: "application/pdf", content: TINY_PDF }],
    });
    expect(result.ok).toBe(true);
    const [mail] = await mailTo(to);
    expect(mail!.headers["content-type"]).toMatch(/^multipart\/mixed/);
    expect(mail!.attachments).toEqual([
      { filename: "herald-daily-2026-11-28.pdf", contentType: "application/pdf", size: TINY_PDF.byteLength },
    ]);
    expect(mail!.text.trim()).toBe("see attached");
  });

  it("sends one transaction to every recipient", async () => {
    const a = address("a");
    const b = address("b");
    expect((await sendMail(mailEnv(), { to: [a, b], subject: "two", text: "t", html: "<p>t</p>" })).ok).toBe(true);
    const [mailA] = await mailTo(a);
    const [mailB] = await mailTo(b);
    expect(mailA!.headers["message-id"]).toBe(mailB!.headers["message-id"]);
    expect(mailA!.to.sort()).toEqual([a, b].sort());
  });

  it("reports failures instead of throwing: refused connection, STARTTLS not offered, no configuration", async () => {
    const to = [address("fail")];
    const message = { to, subject: "x", text: "x", html: "x" };
    expect(await sendMail(mailEnv({ SMTP_PORT: "1" }), message)).toMatchObject({ ok: false, kind: "network" });
    // The hub's server offers no STARTTLS: credentials must not be sent in clear, so the send fails.
    const starttls = await sendMail(mailEnv({ SMTP_SECURE: "starttls", SMTP_USER: "u", SMTP_PASSWORD: "p" }), message);
    expect(starttls).toMatchObject({ ok: false, kind: "network", error: "SMTP: the server does not offer STARTTLS" });
    expect(await sendMail(mailEnv({ SMTP_HOST: "" }), message)).toMatchObject({ ok: false, kind: "invalid_settings" });
    // Plain SMTP with credentials only to a loopback server (development), never to a remote one.
    expect(
      await sendMail(mailEnv({ SMTP_HOST: "smtp.example.com", SMTP_USER: "u", SMTP_PASSWORD: "p" }), message),
    ).toMatchObject({ ok: false, kind: "invalid_settings" });
    expect(await mailTo(to[0]!)).toEqual([]);
  });

  it("authenticates with AUTH PLAIN when credentials are set", async () => {
    const to = address("auth");
    expect(
      (
        await sendMail(mailEnv({ SMTP_USER: "herald", SMTP_PASSWORD: "pässword" }), {
          to: [to],
          subject: "a",
          text: "a",
          html: "a",
        })
      ).ok,
    ).toBe(true);
    expect(await mailTo(to)).toHaveLength(1);
  });
});

describe("sendMail through the send_email binding", () => {
  it("hands the same MIME message to the Workers binding, one copy per recipient", async () => {
    expect(env.SEND_EMAIL).toBeDefined();
    const result = await sendMail(mailEnv({ MAIL_TRANSPORT: "send_email" }), {
      to: ["soc@acme.example", "ciso@acme.example"],
      subject: "Binding check — ünïcödé",
      text: "text",
      html: "<p>html</p>",
      attachments: [{ filename: "r.pdf", contentType: "application/pdf", content: TINY_PDF }],
    });
    expect(result).toMatchObject({ ok: true });
    const missing = await sendMail(
      { ...mailEnv({ MAIL_TRANSPORT: "send_email" }), SEND_EMAIL: undefined },
      {
        to: ["soc@acme.example"],
        subject: "x",
        text: "x",
        html: "x",
      },
    );
    expect(missing).toMatchObject({ ok: false, kind: "invalid_settings" });
  });
});

describe("email channels", () => {
  it("email: a notification to the configured recipients, readable in text and HTML, escaped", async () => {
    const to = [address("soc"), address("ciso")];
    const channel = getChannel("email")!;
    const n = sample("new_hits");
    const outcome = await channel.send(ctxFor({ recipients: to }), [n]);
    expect(outcome).toMatchObject({ ok: true, status: 250 });
    const [mail] = await mailTo(to[0]!);
    expect(mail!.subject).toBe("[Herald] New attack detected — xss on shop.example.com/search");
    expect(mail!.text).toContain("Payload:\n<script>alert(document.cookie)</script>");
    expect(mail!.text).toContain(`Open in Herald: ${n.details.link}`);
    // The attack payload is shown, never executed.
    expect(mail!.html).toContain("&lt;script&gt;alert(document.cookie)&lt;/script&gt;");
    expect(mail!.html).not.toContain("<script>");
    expect(mail!.html).toContain(`href="${n.details.link}"`);
    if (outcome.ok) expect(outcome.requestBody).toContain(`To: ${to.join(", ")}`);
  });

  it("personal_email: to the address the caller resolved, marked as a test when it is one", async () => {
    const to = address("dana");
    const outcome = await getChannel("personal_email")!.send(ctxFor({}, [to], true), [sample("security_issue")]);
    expect(outcome.ok).toBe(true);
    const [mail] = await mailTo(to);
    expect(mail!.subject).toBe(
      "[Test message] [Herald] New security issue detected — SQL injection in /api/login on shop.example.com (high)",
    );
    const missing = await getChannel("personal_email")!.send(ctxFor({}, []), [sample("security_issue")]);
    expect(missing).toMatchObject({ ok: false, kind: "invalid_settings" });
  });

  it("reports: HTML summary with the link and the PDF attached", async () => {
    const to = address("report");
    const n = sample("report_weekly");
    const outcome = await getChannel("email")!.sendReport!(
      ctxFor({ recipients: [to] }),
      n,
      reportAttachment("report_weekly"),
    );
    expect(outcome.ok).toBe(true);
    const [mail] = await mailTo(to);
    expect(mail!.subject).toBe("[Herald] Weekly security report: 2026-11-16 – 2026-11-22");
    expect(mail!.attachments).toEqual([
      { filename: "herald-weekly-2026-11-28.pdf", contentType: "application/pdf", size: TINY_PDF.byteLength },
    ]);
    expect(mail!.html).toContain("Hits</th>");
    expect(mail!.html).toContain(`href="${n.details.link}"`);
    expect(mail!.text).toContain("Hits: 1284 (+20% vs previous)");
  });
});
