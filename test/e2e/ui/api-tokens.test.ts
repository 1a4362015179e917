import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../../../scripts/local-config.ts";
import { type HeraldProcess, startHerald } from "../../support/herald-process.ts";
import { buildUi, launchBrowser, openPage, type WatchedPage } from "./browser.ts";

/**
 * The API tokens page in real Chromium against Herald under wrangler dev: an admin creates a
 * token, sees it once, finds it listed with its creator, uses it, and revokes it.
 */
const WAIT = { timeout: 30_000 };

describe("API tokens page in Chromium", () => {
  let herald: HeraldProcess;
  let browser: Browser;
  let admin: WatchedPage;
  let page: Page;

  beforeAll(async () => {
    buildUi();
    herald = await startHerald();
    browser = await launchBrowser();
    admin = await openPage(browser);
    page = admin.page;
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await herald?.stop();
  });

  const withToken = (secret: string, path: string) =>
    fetch(`${herald.url}${path}`, { headers: { Authorization: `Bearer ${secret}` } });

  it("creates a token shown once, lists it with its creator, and revokes it", async () => {
    await page.goto(`${herald.url}/login`);
    await page.getByLabel("Email").fill(DEMO.email);
    await page.getByLabel("Password").fill(DEMO.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Integrations", level: 1 }).waitFor(WAIT);

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

    // The token works with its role: analysts read events but not users.
    expect((await withToken(secret, "/api/events")).status).toBe(200);
    expect((await withToken(secret, "/api/users")).status).toBe(403);

    await row.getByRole("button", { name: "Revoke" }).click();
    await page.getByRole("button", { name: "Revoke token" }).click();
    await page.getByText("No API tokens yet").waitFor(WAIT);
    expect((await withToken(secret, "/api/events")).status).toBe(401);
    expect(admin.problems).toEqual([]);
  });
});
