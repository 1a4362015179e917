/**
 * Debian's Chromium driven by playwright-core (playwright's own browser download is not
 * available here). Console errors and CSP violations are collected so tests can assert none.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { BIN, ROOT } from "../../../scripts/local-config.ts";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/**
 * Where the README's screenshots go, only under `npm run screenshots`: a test run must leave the
 * work tree as it found it.
 */
const SCREENSHOTS = process.env.HERALD_SCREENSHOTS === "1" ? path.join(ROOT, "docs", "screenshots") : null;

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

export interface WatchedPage {
  page: Page;
  /** Console errors, page errors and CSP violations seen so far. */
  problems: string[];
}

export async function openPage(
  browser: Browser,
  options: { width?: number; height?: number; timezoneId?: string } = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 860 },
    timezoneId: options.timezoneId ?? "Europe/Berlin",
    locale: "en-GB",
    permissions: ["clipboard-read", "clipboard-write"],
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  return { page, problems };
}

export async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage });
}

/** Builds ui/dist (about a second), which wrangler dev serves as the assets. */
export function buildUi(): void {
  execFileSync(path.join(BIN, "vite"), ["build", "ui", "--logLevel", "warn"], { cwd: ROOT, stdio: "inherit" });
}
