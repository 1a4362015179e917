import { describe, expect, it } from "vitest";
import { api, type Session } from "../helpers";
import { hubRequests, mailTo, script } from "../hub";
import { adminSession, fixture, leakedSecrets } from "./fixtures";

async function post(session: Session, path: string, body?: unknown) {
  const res = await api(session, "POST", path, body);
  const raw = await res.text();
  return { status: res.status, raw, body: raw ? JSON.parse(raw) : null, headers: res.headers };
}

describe("test sends against the receiver hub on 127.0.0.1", () => {
  it("sends one [Test message] sample per subscribed category of unsaved settings, and reports a 500", async () => {
    const admin = await adminSession("Acme Test Sends");
    const fx = fixture("webhook");
    // The second request (security_issue) gets a 500.
    await script(fx.bucket!, [{ status: 200 }, { status: 500, body: "receiver exploded" }]);
    const res = await post(admin, "/api/integrations/test", {
      type: "webhook",
      name: "unsaved",
      settings: fx.settings,
      events: { system: true, security_issue: ["medium"], hit: true, reports: ["monthly"] },
    });
    expect(res.status, res.raw).toBe(200);
    expect(res.body.results.map((r: { category: string }) => r.category)).toEqual([
      "system",
      "security_issue",
      "hit",
      "reports",
    ]);
    expect(res.body.results[0]).toMatchObject({ category: "system", ok: true, status: 200, error: null });
    expect(res.body.results[1]).toMatchObject({ category: "security_issue", ok: false, status: 500 });
    expect(res.body.results[1].error).toMatch(/500/);
    expect(res.body.results[2]).toMatchObject({ ok: true, status: 200 });
    for (const r of res.body.results) expect(r.latency_ms).toBeGreaterThanOrEqual(0);

    const received = await hubRequests(fx.bucket!);
    expect(received).toHaveLength(4);
    const bodies = received.map((r) => JSON.parse(r.body) as { summary: string; details: Record<string, unknown> }[]);
    for (const batch of bodies) expect(batch[0]!.summary.startsWith("[Test message]")).toBe(true);
    expect(bodies.map((b) => b[0]!.details.notification_type)).toEqual([
      "integration_created",
      "security_issue",
      "new_hits",
      "report_monthly",
    ]);
    // The sample follows the subscription: a medium-only subscriber sees a medium issue.
    expect((bodies[1]![0]!.details.security_issue as { risk: string }).risk).toBe("medium");
    expect(bodies[0]![0]!.details.client_name).toBe("Acme Test Sends");
    // Real signing and the configured headers, through the real channel code.
    expect(received[0]!.headers["webhook-signature"]).toMatch(/^v1,/);
    expect(received[0]!.headers.authorization).toBe(fx.secrets[0]);
    expect(leakedSecrets(res.raw, fx.secrets)).toEqual([]);
  });

  it("tests a saved integration, enabled or disabled, and reports an unreachable receiver once", async () => {
    const admin = await adminSession("Acme Test Sends");
    const fx = fixture("splunk");
    const created = await post(admin, "/api/integrations", {
      type: "splunk",
      name: "SIEM",
      settings: fx.settings,
      events: { incident: true, scope_change: true },
    });
    const id = created.body.integration.id;
    await post(admin, `/api/integrations/${id}/disable`);
    const ok = await post(admin, `/api/integrations/${id}/test`);
    expect(ok.body.results.map((r: { ok: boolean; status: number }) => [r.ok, r.status])).toEqual([
      [true, 200],
      [true, 200],
    ]);
    const requests = await hubRequests(fx.bucket!);
    expect(requests.map((r) => r.path)).toEqual([
      `/r/${fx.bucket}/services/collector/event`,
      `/r/${fx.bucket}/services/collector/event`,
    ]);
    expect(requests[0]!.headers.authorization).toBe(`Splunk ${fx.secrets[0]}`);

    // Nothing listens on port 9 of 127.0.0.1: one network error, the rest not attempted.
    const unreachable = await post(admin, "/api/integrations/test", {
      type: "splunk",
      name: "down",
      settings: { ...fx.settings, url: "http://127.0.0.1:9" },
      events: { incident: true, scope_change: true },
    });
    expect(unreachable.status).toBe(200);
    const [first, second] = unreachable.body.results;
    expect(first).toMatchObject({ ok: false, status: null });
    expect(first.error).toBeTruthy();
    expect(second).toMatchObject({ ok: false, status: null, latency_ms: 0 });
    expect(second.error).toMatch(/^Not sent/);
  });

  it("mails email tests over SMTP, the report sample with its PDF attached", async () => {
    const admin = await adminSession("Acme Test Sends");
    const fx = fixture("email");
    const to = (fx.settings.recipients as string[])[0]!;
    const res = await post(admin, "/api/integrations/test", {
      type: "email",
      settings: fx.settings,
      events: { incident: true, reports: ["weekly"] },
    });
    expect(res.body.results.map((r: { category: string; ok: boolean }) => [r.category, r.ok])).toEqual([
      ["incident", true],
      ["reports", true],
    ]);
    const mails = await mailTo(to);
    expect(mails).toHaveLength(2);
    for (const mail of mails) expect(mail.subject).toContain("[Test message]");
    const report = mails.find((m) => m.attachments.length > 0)!;
    expect(report.attachments[0]).toMatchObject({ contentType: "application/pdf" });
    expect(report.attachments[0]!.size).toBeGreaterThan(500);
  });

  it("sends only the report sample as a report: the other categories' tests carry no PDF", async () => {
    const admin = await adminSession("Acme Test Sends No PDF");
    const fx = fixture("email");
    const to = (fx.settings.recipients as string[])[0]!;
    const res = await post(admin, "/api/integrations/test", {
      type: "email",
      settings: fx.settings,
      events: { incident: true, security_issue: ["high"] },
    });
    expect(res.body.results.every((r: { ok: boolean }) => r.ok)).toBe(true);
    const mails = await mailTo(to);
    expect(mails).toHaveLength(2);
    for (const mail of mails) expect(mail.attachments).toHaveLength(0);
  });

  it("validates unsaved settings and subscriptions before sending anything", async () => {
    const admin = await adminSession("Acme Test Sends");
    const fx = fixture("slack");
    const bad = await post(admin, "/api/integrations/test", {
      type: "slack",
      settings: { webhook_url: "not a url" },
      events: { hit: true },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual([
      "events.hit",
      "settings.webhook_url",
    ]);
    const none = await post(admin, "/api/integrations/test", { type: "slack", settings: fx.settings, events: {} });
    expect(none.status).toBe(400);
    expect(none.body.error.details[0].field).toBe("events");
    expect(await hubRequests(fx.bucket!)).toEqual([]);
  });

  it("rate-limits test sends per account (10 a minute) with Retry-After", async () => {
    const admin = await adminSession("Acme Test Sends");
    const fx = fixture("webhook");
    const body = { type: "webhook", settings: fx.settings, events: { system: true } };
    for (let i = 0; i < 10; i++) expect((await post(admin, "/api/integrations/test", body)).status).toBe(200);
    const limited = await post(admin, "/api/integrations/test", body);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(limited.body.error.code).toBe("rate_limited");
    expect(await hubRequests(fx.bucket!)).toHaveLength(10);
    // Another account is not affected.
    const other = await adminSession("Acme Test Sends");
    expect((await post(other, "/api/integrations/test", body)).status).toBe(200);
  });
});
