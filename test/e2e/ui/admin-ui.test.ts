import { randomUUID } from "node:crypto";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../../../scripts/local-config.ts";
import { type ApiSession, type HeraldProcess, signIn, startHerald } from "../../support/herald-process.ts";
import { type ReceiverHub, startReceiverHub } from "../../support/receiver-hub.ts";
import { buildUi, launchBrowser, openPage, screenshot, type WatchedPage } from "./browser.ts";

/**
 * The admin's whole path through the UI in real Chromium against Herald under wrangler dev:
 * add a webhook integration, test and save it, watch deliveries, see it auto-disabled by a
 * failing receiver, re-enable and replay; create a threshold trigger, fire it with posted events
 * and find its notice at the receiver; create a recurring silence;
 * an analyst sees no admin pages, and reads triggers and silences without changing them. Under
 * `npm run screenshots` it also writes the README's screenshots to docs/screenshots/.
 */
const BUCKET = "ui-webhook";
const WAIT = { timeout: 30_000 };

describe("admin UI in Chromium", () => {
  let herald: HeraldProcess;
  let hub: ReceiverHub;
  let browser: Browser;
  let admin: WatchedPage;
  let page: Page;
  let api: ApiSession;
  let nodeToken = "";
  let integrationId = "";

  beforeAll(async () => {
    buildUi(); // the UI under test is the current source, not a stale ui/dist
    hub = await startReceiverHub();
    herald = await startHerald({
      // Short cycles so a failing receiver exhausts retries and trips auto-disable in seconds.
      vars: { RETRY_SCHEDULE: "1,1", FAILURE_MIN_REQUESTS: "4", FAILURE_RATIO: "0.6" },
    });
    browser = await launchBrowser();
    admin = await openPage(browser);
    page = admin.page;
    api = await herald.signIn();
    const node = await api.call<{ token: string }>("POST", "/api/nodes", { name: "waf-eu-1" });
    expect(node.status).toBe(201);
    nodeToken = node.body.token;
  }, 300_000); // wrangler dev, migrations and Chromium start slowly on a busy two-core machine

  afterAll(async () => {
    await browser?.close();
    await herald?.stop();
    await hub?.close();
  });

  /** Issues posted so far: each is a distinct vulnerability (a re-reported open one is not notified again). */
  let issuesPosted = 0;

  async function postEvents(count: number, risk = "high"): Promise<void> {
    const now = Date.now();
    const events = Array.from({ length: count }, (_, i) => ({
      id: randomUUID(),
      type: "security_issue",
      occurred_at: new Date(now - i * 1000).toISOString(),
      risk,
      title: `SQL injection in /api/login (${i + 1})`,
      vuln_type: "sqli",
      host: "shop.example.com",
      method: "POST",
      path: `/api/login/${++issuesPosted}`,
      parameter: "user",
      discovered_by: "scanner",
    }));
    const res = await fetch(`${herald.url}/v1/events`, {
      method: "POST",
      headers: { Authorization: `Bearer ${nodeToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ events }),
    });
    expect(res.status).toBe(202);
  }

  /** Attacks spread over the last hours, for the report's charts and top lists. */
  async function postHits(count: number): Promise<void> {
    const attacks = ["sqli", "xss", "rce", "ptrav", "scanner"];
    const hosts = ["shop.example.com", "api.example.com", "admin.example.com"];
    const now = Date.now();
    const events = Array.from({ length: count }, (_, i) => ({
      type: "hit",
      occurred_at: new Date(now - (i % 8) * 45 * 60_000 - i * 1000).toISOString(),
      attack_type: attacks[i % attacks.length],
      host: hosts[i % hosts.length],
      method: i % 3 ? "GET" : "POST",
      path: `/api/v1/items/${i % 4}`,
      remote_addr: `203.0.113.${(i % 7) + 1}`,
      remote_country: ["DE", "US", "BR"][i % 3],
      response_status: i % 4 ? 403 : 200,
      block_status: i % 4 ? "blocked" : "monitored",
    }));
    const res = await fetch(`${herald.url}/v1/events`, {
      method: "POST",
      headers: { Authorization: `Bearer ${nodeToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ events }),
    });
    expect(res.status).toBe(202);
  }

  it("signs the demo admin in and shows the integrations overview with its three blocks", async () => {
    await page.goto(`${herald.url}/integrations`);
    await page.getByLabel("Email").waitFor(WAIT);
    // Not being signed in yet is no error: the session probe logs nothing in the console.
    expect(admin.problems).toEqual([]);
    await page.getByLabel("Email").fill(DEMO.email);
    await page.getByLabel("Password").fill("wrong password!");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent(), WAIT).toContain("email or password is wrong");

    await page.getByLabel("Password").fill(DEMO.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Integrations", level: 1 }).waitFor(WAIT);
    for (const block of ["Email and messengers", "Incident management and SIEM", "Other systems"]) {
      await page.getByRole("heading", { name: block }).waitFor(WAIT);
    }
    const nav = page.getByRole("navigation", { name: "Main" });
    const items = [
      "Integrations",
      "Triggers",
      "Silences",
      "Nodes",
      "Users",
      "Audit log",
      "Events",
      "Reports",
      "Profile",
    ];
    for (const item of items) {
      expect(await nav.getByRole("link", { name: item, exact: true }).count()).toBe(1);
    }
  });

  it("adds a webhook from its card: inline errors, a test send, then save with the secret shown once", async () => {
    await page.getByRole("button", { name: "Add a Webhook integration" }).click();
    await page.getByRole("heading", { name: "Add Webhook integration" }).waitFor(WAIT);
    await page.getByLabel("Name").fill("SIEM webhook");

    // The API's field error appears next to the URL field.
    await page.getByLabel("URL").fill("ftp://example.com/hook");
    await page.getByRole("button", { name: "Add integration" }).click();
    const urlError = page.locator("#setting-url-error");
    await urlError.waitFor(WAIT);
    expect(await urlError.textContent()).toBeTruthy();
    expect(await page.getByLabel("URL").getAttribute("aria-invalid")).toBe("true");
    // That 400 was the point; later checks want a clean console.
    expect(admin.problems.filter((p) => /status of 400/.test(p))).toHaveLength(1);
    admin.problems.splice(0);

    await page.getByLabel("URL").fill(hub.urlFor(BUCKET));
    await page.getByRole("button", { name: "Test integration" }).click();
    await page.getByText("The receiver accepted all").waitFor(WAIT);
    expect(await page.locator(".test-results").textContent()).toContain("HTTP 200");
    const tests = await hub.waitForRequests(BUCKET, 1);
    expect(tests.some((r) => r.body.includes("[Test message]"))).toBe(true);
    await screenshot(page, "add-integration-form");

    await page.getByRole("button", { name: "Add integration" }).click();
    const secret = page.getByLabel("Signing secret", { exact: true });
    await secret.waitFor(WAIT);
    expect(await secret.inputValue()).toMatch(/^whsec_/);
    await page.getByRole("button", { name: "Copy" }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toMatch(/^whsec_/);
    await page.getByRole("button", { name: "I have copied it" }).click();
    await page.getByRole("heading", { name: "SIEM webhook", level: 1 }).waitFor(WAIT);
    integrationId = page.url().split("/").pop() ?? "";
    expect(integrationId).not.toBe("");
  });

  it("lists it under Active, and search finds it by name and by system", async () => {
    await page.goto(`${herald.url}/integrations?tab=active`);
    const card = page.getByRole("article", { name: "Webhook" });
    await card.waitFor(WAIT);
    expect(await card.textContent()).toContain("1 active");
    expect(await card.getByRole("link", { name: "SIEM webhook" }).count()).toBe(1);

    await page.goto(`${herald.url}/integrations?tab=disabled`);
    await page.getByText("No disabled integrations").waitFor(WAIT);

    await page.goto(`${herald.url}/integrations`);
    await page.getByLabel("Search by system or integration name").fill("siem web");
    await page.getByRole("link", { name: "SIEM webhook" }).waitFor(WAIT);
    expect(await page.getByRole("article").count()).toBe(1);
    await page.getByLabel("Search by system or integration name").fill("");
    await page.getByRole("article", { name: "Webhook" }).waitFor(WAIT);
    await screenshot(page, "integrations-overview");
  });

  it("fills the delivery log as the node posts events", async () => {
    await postEvents(3);
    await hub.waitForRequests(BUCKET, 2);
    await page.goto(`${herald.url}/integrations/${integrationId}`);
    const log = page.getByRole("region", { name: "Delivery log" });
    await log.locator("td .pill", { hasText: "delivered" }).first().waitFor(WAIT);
    expect(await log.textContent()).toContain("New security issue detected");
    // Each notification links to its event's page.
    expect(await log.locator('a[href^="/events/"]').count()).toBeGreaterThan(0);
    await page.getByRole("heading", { name: /Delivery health/ }).waitFor(WAIT);
    await page.locator(".chart canvas").first().waitFor(WAIT);
    await screenshot(page, "integration-detail");
  });

  it("shows the integration under Disabled with its reason after the receiver keeps failing", async () => {
    hub.script(BUCKET, [], { status: 500, body: "receiver down" });
    await postEvents(1);
    await expect
      .poll(async () => (await api.call("GET", `/api/integrations/${integrationId}`)).body.integration.status, {
        timeout: 60_000,
        interval: 500,
      })
      .toBe("disabled");

    await page.goto(`${herald.url}/integrations?tab=disabled`);
    const card = page.getByRole("article", { name: "Webhook" });
    await card.waitFor(WAIT);
    expect(await card.textContent()).toContain("Auto-disabled");

    await card.getByRole("link", { name: "SIEM webhook" }).click();
    const reason = page.getByText("Disabled automatically: too many failed requests");
    await reason.waitFor(WAIT);
    await page
      .getByRole("region", { name: "Delivery log" })
      .locator("td .pill", { hasText: "dead" })
      .first()
      .waitFor(WAIT);
    await page.locator(".chart canvas").first().waitFor(WAIT);
    expect(await page.locator(".banner-warning").first().textContent()).toMatch(
      /\d+ of \d+ requests \([\d.]+ %\) failed/,
    );
    await screenshot(page, "integration-auto-disabled");
  });

  it("re-enables with resume, replay of what was missed and of the dead deliveries in one step", async () => {
    hub.script(BUCKET, [], { status: 200, body: '{"ok":true}' });
    await postEvents(1, "critical"); // arrives while disabled: replayed on enable
    const before = hub.requests(BUCKET).length;

    await page.getByRole("button", { name: "Enable" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel(/Resume them/).check();
    await dialog.getByLabel("Also send the events that arrived while it was disabled").check();
    await dialog.getByLabel(/Also replay the deliveries that died/).check();
    await dialog.getByRole("button", { name: "Enable" }).click();
    const notice = page.getByText(/^Enabled\./);
    await notice.waitFor(WAIT);
    // The auto-disable left at least one dead delivery: replayed along with the missed event.
    expect(await notice.textContent()).toMatch(/[1-9]\d* dead deliveries replayed/);
    await hub.waitForRequests(BUCKET, before + 2);

    // Later dead deliveries are replayed from the log.
    const afterEnable = hub.requests(BUCKET).length;
    const log = page.getByRole("region", { name: "Delivery log" });
    await log.getByRole("tab", { name: "Dead" }).click();
    await log.getByRole("button", { name: "Replay all dead" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Replay all dead" }).click();
    await log.getByText(/dead deliveries queued again/).waitFor(WAIT);
    await expect.poll(() => hub.requests(BUCKET).length, { timeout: 30_000 }).toBeGreaterThan(afterEnable);
    expect((await api.call("GET", `/api/integrations/${integrationId}`)).body.integration.status).toBe("enabled");
  });

  it("shows events and the event page that notification links point at", async () => {
    await page.goto(`${herald.url}/events`);
    await page
      .getByRole("link", { name: /SQL injection in \/api\/login/ })
      .first()
      .waitFor(WAIT);
    await page.getByLabel("Risk").selectOption("critical");
    await expect.poll(() => page.locator("tbody tr").count(), WAIT).toBe(1);
    await screenshot(page, "events");

    await page
      .getByRole("link", { name: /SQL injection/ })
      .first()
      .click();
    await page.getByRole("heading", { name: "Summary" }).waitFor(WAIT);
    const eventUrl = page.url();
    // A fresh load of the link (as from an email) gets the UI, not JSON.
    await page.goto(eventUrl);
    await page.getByRole("heading", { name: "As reported" }).waitFor(WAIT);
    expect(await page.textContent("main")).toContain("shop.example.com");
  });

  it("lists security issues and closes a fixed one", async () => {
    await page.goto(`${herald.url}/security-issues`);
    const rows = page.locator("tbody tr");
    await rows.first().waitFor(WAIT);
    const open = await rows.count();
    expect(open).toBeGreaterThan(0);
    const path = (await rows.first().locator("code").textContent())?.trim() ?? "";
    await screenshot(page, "security-issues");
    await rows.first().getByRole("button", { name: "Close" }).click();
    await page.getByRole("button", { name: "Close issue" }).click();
    await expect.poll(() => rows.count(), WAIT).toBe(open - 1);
    await page.getByRole("tab", { name: "Closed" }).click();
    await expect.poll(() => rows.first().locator("code").textContent(), WAIT).toBe(path);
    expect(await rows.first().textContent()).toContain("closed");
    const closed = await api.call<{ issues: { path: string }[] }>("GET", "/api/security-issues?status=closed");
    expect(closed.body.issues.map((i) => i.path)).toEqual([path]);
  });

  it("shows a report page with charts and a PDF link", async () => {
    await postHits(40);
    const today = new Date().toISOString().slice(0, 10);
    const built = await api.call<{ report: { id: string } }>("POST", "/api/reports", {
      frequency: "daily",
      period_start: today,
    });
    expect(built.status).toBe(201);
    await page.goto(`${herald.url}/reports`);
    await page
      .getByRole("link", { name: /Daily security report/ })
      .first()
      .click();
    await page.getByRole("heading", { name: /Attacks over time/ }).waitFor(WAIT);
    await page.getByRole("heading", { name: "New security issues by risk" }).waitFor(WAIT);
    const pdf = await page.getByRole("link", { name: "Download PDF" }).getAttribute("href");
    const res = await fetch(`${herald.url}${pdf}`, { headers: { Cookie: api.cookie } });
    expect(res.headers.get("Content-Type")).toBe("application/pdf");
    await screenshot(page, "report");
  });

  it("creates an API token shown once, lists it with its creator, and revokes it", async () => {
    const withToken = (secret: string, path: string) =>
      fetch(`${herald.url}${path}`, { headers: { Authorization: `Bearer ${secret}` } });
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API tokens" }).click();
    await page.getByRole("heading", { name: "API tokens", level: 1 }).waitFor(WAIT);
    await page.getByText("No API tokens yet").waitFor(WAIT);

    await page.getByRole("button", { name: "Create token" }).first().click();
    await page.getByLabel("Name").fill("terraform");
    await page.getByLabel("Role").selectOption("analyst");
    await page.getByRole("dialog").getByRole("button", { name: "Create token" }).click();
    const secretField = page.getByLabel("API token", { exact: true });
    await secretField.waitFor(WAIT);
    const secret = await secretField.inputValue();
    expect(secret).toMatch(/^hrld_/);
    await page.getByRole("button", { name: "Done" }).click();

    const row = page.locator("tbody tr", { hasText: "terraform" });
    await row.waitFor(WAIT);
    const text = (await row.textContent()) ?? "";
    expect(text).toContain("Analyst");
    expect(text).toContain(secret.slice(0, 12));
    expect(text).not.toContain(secret);
    expect(await row.locator(`[title="${DEMO.email}"]`).count()).toBe(1);
    await screenshot(page, "api-tokens");

    // The token works with its role: analysts read events but not users.
    expect((await withToken(secret, "/api/events")).status).toBe(200);
    expect((await withToken(secret, "/api/users")).status).toBe(403);

    await row.getByRole("button", { name: "Revoke" }).click();
    await page.getByRole("button", { name: "Revoke token" }).click();
    await page.getByText("No API tokens yet").waitFor(WAIT);
    expect((await withToken(secret, "/api/events")).status).toBe(401);
  });

  it("creates a threshold trigger: field errors in place, a preview over the stored events, listed in words", async () => {
    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "Triggers", exact: true }).click();
    await page.getByRole("heading", { name: "Triggers", level: 1 }).waitFor(WAIT);
    await page.getByText("No triggers yet").waitFor(WAIT);
    await page.getByRole("link", { name: "New trigger" }).click();
    await page.getByRole("heading", { name: "New trigger", level: 1 }).waitFor(WAIT);

    await page.getByLabel("Name", { exact: true }).fill("Hit flood per host");
    await page.getByLabel("Threshold").check();
    await page.getByLabel("At least (events)").fill("3");
    await page.getByLabel("Within (minutes)").fill("120");
    await page.getByLabel("Hits (attacks)").check();
    await page.getByRole("group", { name: "Group by" }).getByLabel("host", { exact: true }).check();
    await page.getByLabel("Throttle (minutes)").fill("30");

    // No integration chosen: the API's error stands next to the integrations.
    await page.getByRole("button", { name: "Create trigger" }).click();
    await page.getByRole("group", { name: "Integrations" }).getByRole("alert").waitFor(WAIT);
    expect(admin.problems.filter((p) => /status of 400/.test(p))).toHaveLength(1);
    admin.problems.splice(0);
    await page.getByLabel("SIEM webhook").check();

    // The 40 hits of the report step, about 14 per host spread over six hours: 3 within two hours fire.
    await page.getByRole("button", { name: "Preview" }).click();
    const preview = page.getByText(/^Would have fired/);
    await preview.waitFor(WAIT);
    expect(await preview.textContent()).toMatch(
      /Would have fired [1-9]\d* times? in the last 24 h \(groups: .*shop\.example\.com/,
    );
    await page.getByLabel("At least (events)").fill("100");
    await page.getByLabel("Within (minutes)").fill("5");
    await page.getByRole("button", { name: "Preview" }).click();
    await expect.poll(() => preview.textContent(), WAIT).toContain("Would have fired 0 times in the last 24 h");
    await screenshot(page, "trigger-form");

    await page.getByRole("button", { name: "Create trigger" }).click();
    await page.getByRole("heading", { name: "Hit flood per host", level: 1 }).waitFor(WAIT);
    expect(await page.locator("dl.facts").textContent()).toContain("SIEM webhook");

    await nav.getByRole("link", { name: "Triggers", exact: true }).click();
    const row = page.locator("tbody tr", { hasText: "Hit flood per host" });
    await row.waitFor(WAIT);
    const text = (await row.textContent()) ?? "";
    for (const part of [
      "≥ 100 hits in 5 min per host",
      "SIEM webhook",
      "At most once per 30 min per group",
      "Enabled",
    ]) {
      expect(text).toContain(part);
    }
    await screenshot(page, "triggers");
    // What the form sent is what the API stored.
    const stored = await api.call<{ triggers: Record<string, unknown>[] }>("GET", "/api/triggers");
    expect(stored.body.triggers).toMatchObject([
      {
        name: "Hit flood per host",
        enabled: true,
        condition: { kind: "threshold", count: 100, window_minutes: 5 },
        filters: { event_types: ["hit"] },
        group_by: ["host"],
        throttle_minutes: 30,
        integration_ids: [integrationId],
      },
    ]);

    // Fired through the real ingest route: 100 hits on one host within 5 minutes make one notice.
    const before = hub.requests(BUCKET).length;
    const now = Date.now();
    const flood = Array.from({ length: 100 }, (_, i) => ({
      id: randomUUID(),
      type: "hit",
      occurred_at: new Date(now - i * 100).toISOString(),
      attack_type: "sqli",
      host: "flood.example.com",
      method: "POST",
      path: "/api/login",
      remote_addr: `198.51.100.${(i % 5) + 1}`,
      response_status: 403,
      block_status: "blocked",
    }));
    const posted = await fetch(`${herald.url}/v1/events`, {
      method: "POST",
      headers: { Authorization: `Bearer ${nodeToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ events: flood }),
    });
    expect(posted.status).toBe(202);
    const thresholdNotices = () =>
      hub
        .requests(BUCKET)
        .slice(before)
        .flatMap((r) => r.body.split("\n").filter((line) => line.trim()))
        .flatMap((text) => [JSON.parse(text)].flat() as { details: Record<string, any> }[])
        .filter((n) => n.details.notification_type === "trigger_threshold");
    await expect.poll(() => thresholdNotices().length, { timeout: 30_000 }).toBe(1);
    expect(thresholdNotices()[0]?.details).toMatchObject({
      trigger: { name: "Hit flood per host" },
      threshold: { group: { host: "flood.example.com" }, count: 100, threshold: 100, window_seconds: 300 },
    });
  });

  it("creates a recurring silence in the account's time zone, previews it and lists it with its state", async () => {
    const me = await api.call<{ account: { time_zone: string } }>("GET", "/api/me");
    const timeZone = me.body.account.time_zone;
    const dayFromNow = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
    const startsAt = `${dayFromNow(2)}T09:00`;
    const endsAt = `${dayFromNow(30)}T18:00`;

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Silences", exact: true }).click();
    await page.getByRole("heading", { name: "Silences", level: 1 }).waitFor(WAIT);
    await page.getByText("No silences").waitFor(WAIT);
    await page.getByRole("link", { name: "New silence" }).click();
    await page.getByRole("heading", { name: "New silence", level: 1 }).waitFor(WAIT);
    await page.getByLabel("Name", { exact: true }).fill("Staging pentest");
    await page.getByLabel("Comment").fill("Quarterly test by the red team");
    await page.getByLabel("Starts").fill(startsAt);
    await page.getByLabel("Ends").fill(endsAt);
    await page.getByLabel("Repeat weekly").check();
    await page.getByRole("group", { name: "Days" }).getByLabel("Fri").check();
    await page.getByLabel("From", { exact: true }).fill("18:00");
    await page.getByLabel("To", { exact: true }).fill("22:00");
    await page.getByLabel("Hosts").fill("*.staging.example.com");
    await page.getByLabel("Source IPs").fill("198.51.100.0/24");

    // No stored event came from the pentesters' range.
    await page.getByRole("button", { name: "Preview" }).click();
    await page.getByText("Would have muted 0 events in the last 24 h").waitFor(WAIT);
    await page.getByRole("button", { name: "Create silence" }).click();
    await page.getByRole("heading", { name: "Staging pentest", level: 1 }).waitFor(WAIT);

    await page.getByRole("link", { name: "Silences", exact: true }).first().click();
    const row = page.locator("tbody tr", { hasText: "Staging pentest" });
    await row.waitFor(WAIT);
    const text = (await row.textContent()) ?? "";
    for (const part of ["Scheduled", "Every Fri 18:00–22:00", "hosts *.staging.example.com", "from 198.51.100.0/24"]) {
      expect(text).toContain(part);
    }
    expect(await row.locator("td.num").textContent()).toBe("0");
    await screenshot(page, "silences");

    // The times typed are wall-clock times of the account's zone, whatever the browser's zone.
    const wallClock = (iso: string) =>
      new Intl.DateTimeFormat("sv-SE", {
        timeZone,
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
      })
        .format(new Date(iso))
        .replace(" ", "T");
    const stored = await api.call<{ silences: { starts_at: string; ends_at: string }[] }>("GET", "/api/silences");
    expect(stored.body.silences).toMatchObject([
      {
        name: "Staging pentest",
        comment: "Quarterly test by the red team",
        filters: { hosts: ["*.staging.example.com"], source_ips: ["198.51.100.0/24"] },
        recurrence: { days: ["fri"], from: "18:00", to: "22:00" },
        state: "scheduled",
        silenced_count: 0,
      },
    ]);
    expect(stored.body.silences.map((s) => [wallClock(s.starts_at), wallClock(s.ends_at)])).toEqual([
      [startsAt, endsAt],
    ]);

    // The edit page reads the saved times back in the account's zone; Cancel returns to the silence.
    await row.getByRole("link", { name: "Edit" }).click();
    await page.getByRole("heading", { name: "Edit Staging pentest", level: 1 }).waitFor(WAIT);
    expect(await page.getByLabel("Starts").inputValue()).toBe(startsAt);
    expect(await page.getByLabel("Ends").inputValue()).toBe(endsAt);
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.getByRole("heading", { name: "Staging pentest", exact: true, level: 1 }).waitFor(WAIT);
    await page.getByText(/Created .* by /).waitFor(WAIT);
    await page.getByRole("link", { name: "Edit" }).click();
    await page.getByLabel("Comment").fill("Quarterly test by the blue team");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("heading", { name: "Staging pentest", exact: true, level: 1 }).waitFor(WAIT);
    const edited = await api.call<{ silences: { comment: string; starts_at: string }[] }>("GET", "/api/silences");
    expect(edited.body.silences).toMatchObject([
      { comment: "Quarterly test by the blue team", starts_at: stored.body.silences[0]?.starts_at },
    ]);
  });

  it("works at phone width", async () => {
    const phone = await openPage(browser, { width: 390, height: 844 });
    await phone.page.goto(`${herald.url}/login`);
    await phone.page.getByLabel("Email").fill(DEMO.email);
    await phone.page.getByLabel("Password").fill(DEMO.password);
    await phone.page.getByRole("button", { name: "Sign in" }).click();
    await phone.page.getByRole("heading", { name: "Integrations", level: 1 }).waitFor(WAIT);
    // The navigation folds behind a menu button.
    expect(await phone.page.getByRole("link", { name: "Users" }).isVisible()).toBe(false);
    await phone.page.getByRole("button", { name: "Menu" }).click();
    expect(await phone.page.getByRole("link", { name: "Users" }).isVisible()).toBe(true);
    await phone.page.getByRole("button", { name: "Close" }).click();
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(phone.page, "integrations-phone");
    await phone.page.context().close();
  });

  it("gives an analyst no admin pages, and the API answers 403", async () => {
    const created = await api.call<{ one_time_password: string }>("POST", "/api/users", {
      email: "analyst@demo.herald.local",
      name: "Ana Lyst",
      role: "analyst",
    });
    expect(created.status).toBe(201);
    const analyst = await openPage(browser);
    const p = analyst.page;
    await p.goto(`${herald.url}/login`);
    await p.getByLabel("Email").fill("analyst@demo.herald.local");
    await p.getByLabel("Password").fill(created.body.one_time_password);
    await p.getByRole("button", { name: "Sign in" }).click();

    // First sign-in: a new password before anything else.
    await p.getByRole("heading", { name: "Choose a new password" }).waitFor(WAIT);
    await p.getByLabel("Current password").fill(created.body.one_time_password);
    await p.getByLabel("New password", { exact: true }).fill("analyst-password-1");
    await p.getByLabel("Repeat the new password").fill("analyst-password-1");
    await p.getByRole("button", { name: "Change password" }).click();
    await p.getByRole("heading", { name: "Events", level: 1 }).waitFor(WAIT);

    const nav = p.getByRole("navigation", { name: "Main" });
    for (const hidden of ["Integrations", "Nodes", "Users", "Audit log"]) {
      expect(await nav.getByRole("link", { name: hidden, exact: true }).count()).toBe(0);
    }
    expect(await nav.getByRole("link", { name: "Reports", exact: true }).count()).toBe(1);
    await p.goto(`${herald.url}/integrations`);
    await p.getByRole("heading", { name: "Administrators only" }).waitFor(WAIT);
    // Security issues: listed for analysts too, but only admins close them.
    await p.goto(`${herald.url}/security-issues`);
    await p.locator("tbody tr").first().waitFor(WAIT);
    expect(await p.getByRole("button", { name: "Close" }).count()).toBe(0);

    const session = await signIn(herald.url, "analyst@demo.herald.local", "analyst-password-1");
    expect((await session.call("GET", "/api/integrations")).status).toBe(403);
    expect((await session.call("GET", "/api/integration-types")).status).toBe(403);
    const issues = await session.call<{ issues: { id: string }[] }>("GET", "/api/security-issues");
    expect(issues.status).toBe(200);
    const closing = await session.call("PATCH", `/api/security-issues/${issues.body.issues[0]?.id}`, {
      status: "closed",
    });
    expect(closing.status).toBe(403);
    await p.context().close();
  });

  it("shows an analyst the triggers and silences, with no control to change them", async () => {
    const analyst = await openPage(browser);
    const p = analyst.page;
    await p.goto(`${herald.url}/login`);
    await p.getByLabel("Email").fill("analyst@demo.herald.local");
    await p.getByLabel("Password").fill("analyst-password-1");
    await p.getByRole("button", { name: "Sign in" }).click();
    await p.getByRole("heading", { name: "Events", level: 1 }).waitFor(WAIT);
    const nav = p.getByRole("navigation", { name: "Main" });

    await nav.getByRole("link", { name: "Triggers", exact: true }).click();
    const trigger = p.locator("tbody tr", { hasText: "Hit flood per host" });
    await trigger.waitFor(WAIT);
    // Analysts may not read integrations: the row says how many it notifies.
    expect(await trigger.textContent()).toContain("≥ 100 hits in 5 min per host");
    expect(await trigger.textContent()).toContain("1 integration");
    expect(await p.getByRole("link", { name: "New trigger" }).count()).toBe(0);
    expect(await p.getByRole("link", { name: "Edit" }).count()).toBe(0);
    await trigger.getByRole("link", { name: "Hit flood per host" }).click();
    await p.getByRole("heading", { name: "Hit flood per host", level: 1 }).waitFor(WAIT);
    expect(await p.locator("dl.facts dd").allTextContents()).toEqual([
      "≥ 100 hits in 5 min per host",
      "hits",
      "host",
      "At most once per 30 min per group",
      "1 integration",
    ]);
    expect(await p.getByRole("link", { name: "Edit" }).count()).toBe(0);
    expect(await p.getByRole("button", { name: "Delete" }).count()).toBe(0);
    await p.goto(`${herald.url}/triggers/new`);
    await p.getByRole("heading", { name: "Administrators only" }).waitFor(WAIT);

    await nav.getByRole("link", { name: "Silences", exact: true }).click();
    const silence = p.locator("tbody tr", { hasText: "Staging pentest" });
    await silence.waitFor(WAIT);
    expect(await silence.textContent()).toContain("Every Fri 18:00–22:00");
    expect(await p.getByRole("link", { name: "New silence" }).count()).toBe(0);
    expect(await p.getByRole("link", { name: "Edit" }).count()).toBe(0);
    await silence.getByRole("link", { name: "Staging pentest" }).click();
    await p.getByRole("heading", { name: "Staging pentest", level: 1 }).waitFor(WAIT);
    expect(await p.getByRole("button", { name: "Delete" }).count()).toBe(0);
    // The pages read nothing the analyst may not: no 403 in the console.
    expect(analyst.problems).toEqual([]);
    await p.context().close();

    const session = await signIn(herald.url, "analyst@demo.herald.local", "analyst-password-1");
    const triggers = await session.call<{ triggers: { id: string }[] }>("GET", "/api/triggers");
    expect(triggers.status).toBe(200);
    const id = triggers.body.triggers[0]?.id;
    expect((await session.call("PATCH", `/api/triggers/${id}`, { enabled: false })).status).toBe(403);
    expect((await session.call("DELETE", `/api/triggers/${id}`)).status).toBe(403);
    expect((await session.call("GET", "/api/silences")).status).toBe(200);
  });

  it("serves Swagger UI at /api/docs under the strict CSP", async () => {
    for (const asset of ["/api-docs/", "/api-docs/init.js", "/integrations"]) {
      const res = await fetch(`${herald.url}${asset}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Security-Policy")).toContain("script-src 'self';");
      expect(res.headers.get("Content-Security-Policy")).toContain("frame-ancestors 'none'");
      expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    }
    const docs = await openPage(browser);
    await docs.page.goto(`${herald.url}/api/docs`);
    await docs.page.locator(".swagger-ui .info .title").waitFor(WAIT);
    expect(await docs.page.locator(".swagger-ui .info .title").textContent()).toContain("Herald API");
    await docs.page.locator(".opblock").first().waitFor(WAIT);
    expect(docs.problems.filter((p) => /Content Security Policy|Refused to/i.test(p))).toEqual([]);
    await docs.page.context().close();
  });

  it("raised no script errors and no CSP violations in the admin's session", () => {
    // The 401 of the wrong password was before the reset.
    expect(admin.problems).toEqual([]);
  });
});
