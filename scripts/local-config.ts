/**
 * Local development settings shared by `npm start`, the end-to-end tests and the benchmarks:
 * where wrangler keeps local state and how a local Herald is configured.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "..");
export const BIN = path.join(ROOT, "node_modules", ".bin");

/** The demo account `npm start` seeds into an empty local database (local development only). */
export const DEMO = {
  accountName: "Demo",
  email: "admin@example.com",
  analystEmail: "analyst@example.com",
  password: "herald-demo",
};

/** .dev.vars holds local secrets; created once with a fresh encryption key. */
export function ensureDevVars(): void {
  const file = path.join(ROOT, ".dev.vars");
  if (existsSync(file) && readFileSync(file, "utf8").includes("ENCRYPTION_KEY=")) return;
  const key = randomBytes(32).toString("base64");
  writeFileSync(
    file,
    ["# Local secrets for `wrangler dev` (never committed).", `ENCRYPTION_KEY=local1:${key}`, ""].join("\n"),
  );
}
