import { randomUUID } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../../../scripts/local-config.ts";
import { type ApiSession, type HeraldProcess, startHerald } from "../../support/herald-process.ts";
import { type ReceiverHub, startReceiverHub } from "../../support/receiver-hub.ts";
import { buildUi, launchBrowser, openPage, type WatchedPage } from "./browser.ts";

/**
 * The fallback integration in real Chromium against Herald under wrangler dev
 * (docs/delivery.md#fallback): the admin names it in the integration form, a delivery dies, the
 * fallback receives its notification, the delivery_dead notice mailed to the admin links to the
 * dead delivery and the link opens it in the delivery log.
 */
const WAIT = { timeout: 30_000 };

describe("fallback integration in Chromium", () => {
  let herald: HeraldProcess;
  let hub: ReceiverHub;
  let browser: Browser;
  let watched: WatchedPage;
  let page: Page;
  let api: ApiSession;

  beforeAll(async () => {
    buildUi();
    hub = await startReceiverHub();
    // One retry a second after the first request: a delivery dies within seconds.
    herald = await startHerald({
      vars: {
        RETRY_SCHEDULE: "1",
        MAIL_TRANSPORT: "smtp",
        SMTP_HOST: "127.0.0.1",
        SMTP_PORT: String(hub.smtpPort),
        SMTP_SECURE: "none",
        MAIL_FROM: "herald@herald.test",
      },
    });
    browser = await launchBrowser();
    watched = await openPage(browser);
    page = watched.page;
    api = await herald.signIn();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await herald?.stop();
    await hub?.close();
  });

  async function createWebhook(name: string, bucket: string, events: Record<string, unknown>): Promise<string> {
    const res = await api.call("POST", "/api/integrations", {
      type: "webhook",
      name,
      settings: { url: hub.urlFor(bucket), method: "POST", headers: [], format: "json_array", timeout_seconds: 5 },
      events,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.integration.id;
  }

  it("is chosen in the form, receives a dead delivery's notification, and the notice's link opens that delivery", async () => {
    const primary = await createWebhook("Primary SIEM", "fallback-primary", { security_issue: ["high"] });
    // The backup subscribes to no security issue: what it receives comes from the fallback.
    const backup = await createWebhook("Backup SIEM", "fallback-backup", { scope_change: true });
    hub.script("fallback-primary", [], { status: 503 });

    await page.goto(`${herald.url}/integrations`);
    await page.getByLabel("Email").fill(DEMO.email);
    await page.getByLabel("Password").fill(DEMO.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Integrations", level: 1 }).waitFor(WAIT);
    await page.goto(`${herald.url}/integrations/${primary}/edit`);
    const field = page.getByLabel("Fallback integration");
    await field.waitFor(WAIT);
    await page.getByRole("option", { name: "Backup SIEM" }).waitFor({ state: "attached", ...WAIT });
    await field.selectOption({ label: "Backup SIEM" });
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("heading", { name: "Primary SIEM", level: 1 }).waitFor(WAIT);
    expect((await api.call("GET", `/api/integrations/${primary}`)).body.integration.fallback_integration_id).toBe(
      backup,
    );

    // The backup is some integration's fallback now: its own form offers no fallback.
    await page.goto(`${herald.url}/integrations/${backup}/edit`);
    await page.getByText('This integration is the fallback of "Primary SIEM"').waitFor(WAIT);
    expect(await page.getByLabel("Fallback integration").isDisabled()).toBe(true);

    const node = await api.call<{ token: string }>("POST", "/api/nodes", { name: "waf-fallback" });
    const eventId = randomUUID();
    const posted = await fetch(`${herald.url}/v1/events`, {
      method: "POST",
      headers: { Authorization: `Bearer ${node.body.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        events: [
          {
            id: eventId,
            type: "security_issue",
            occurred_at: new Date().toISOString(),
            risk: "high",
            title: "SQL injection in /api/orders",
            vuln_type: "sqli",
            host: "shop.example.com",
            method: "POST",
            path: "/api/orders",
          },
        ],
      }),
    });
    expect(posted.status).toBe(202);

    // Two failed requests, then the backup gets the notification (a copy with its own id).
    const [rescued] = await hub.waitForRequests("fallback-backup", 1, 30_000);
    const body = JSON.parse(rescued!.body) as { id: string; details: { security_issue: { id: string } } }[];
    expect(body[0]!.details.security_issue.id).toBe(eventId);
    expect(body[0]!.id).not.toBe(eventId);
    expect(hub.requests("fallback-primary")).toHaveLength(2);

    // The demo admin's personal email subscribes to system events: the notice comes that way.
    const notice = () => hub.mail(DEMO.email).filter((m) => m.subject.includes("Delivery failed after its last retry"));
    await expect.poll(() => notice().length, WAIT).toBe(1);
    const [mail] = notice();
    expect(mail!.text).toContain('sent to the fallback integration "Backup SIEM"');
    const link = mail!.text.match(/https?:\/\/\S+\?delivery=\S+/)?.[0];
    expect(link).toBeDefined();
    const deliveryId = new URL(link!).searchParams.get("delivery");

    await page.goto(`${herald.url}${new URL(link!).pathname}${new URL(link!).search}`);
    const row = page.locator(`#delivery-${deliveryId}`);
    await row.waitFor(WAIT);
    expect(await row.getAttribute("class")).toContain("row-linked");
    expect(await row.locator("details").getAttribute("open")).not.toBeNull();
    expect(await row.textContent()).toContain("dead");
    expect(watched.problems).toEqual([]);
  });
});
