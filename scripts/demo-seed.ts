/**
 * The demo account `npm start` creates in local D1: an account, its admin, the admin's
 * personal email integration. Idempotent (INSERT OR IGNORE), so every start can run it.
 */
import { execFileSync } from "node:child_process";
import { pbkdf2Sync, randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BIN, DEMO, ROOT } from "./local-config.ts";

/** Same format as worker/security/hashing.ts. */
function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = pbkdf2Sync(password, salt, 100_000, 32, "sha256");
  return `pbkdf2-sha256$100000$${salt.toString("base64")}$${hash.toString("base64")}`;
}

const q = (text: string) => `'${text.replace(/'/g, "''")}'`;

export function demoSeedSql(now = Date.now()): string {
  const accountId = "00000000-0000-7000-8000-000000000001";
  const userId = "00000000-0000-7000-8000-000000000002";
  // The account exists since a week ago, so the first cron run already owes it yesterday's daily
  // report (periods that ended before an account existed are skipped).
  const since = now - 8 * 86_400_000;
  return [
    `INSERT OR IGNORE INTO accounts (id, name, time_zone, created_at) VALUES (${q(accountId)}, ${q(DEMO.accountName)}, 'UTC', ${since});`,
    `INSERT OR IGNORE INTO users (id, account_id, email, name, role, password_hash, must_change_password, created_at, updated_at)
     VALUES (${q(userId)}, ${q(accountId)}, ${q(DEMO.email)}, 'Demo Admin', 'admin', ${q(hashPassword(DEMO.password))}, 0, ${now}, ${now});`,
    `INSERT OR IGNORE INTO integrations (id, account_id, type, name, status, settings, secrets, events, user_id, created_at, updated_at)
     VALUES (${q(randomUUID())}, ${q(accountId)}, 'personal_email', ${q(`Personal email (${DEMO.email})`)}, 'enabled', '{}', NULL,
     '{"system":true,"security_issue":["critical","high"],"incident":true,"reports":["daily","weekly","monthly"]}', ${q(userId)}, ${now}, ${now});`,
  ].join("\n");
}

/** Applies migrations and the demo seed to the local D1 under `persistTo` (wrangler's default when absent). */
export function prepareLocalDatabase(persistTo?: string): void {
  const persist = persistTo ? ["--persist-to", persistTo] : [];
  const run = (args: string[]) =>
    execFileSync(path.join(BIN, "wrangler"), args, {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, CI: "1" },
    });
  run(["d1", "migrations", "apply", "herald", "--local", ...persist]);
  const dir = mkdtempSync(path.join(tmpdir(), "herald-seed-"));
  const file = path.join(dir, "seed.sql");
  writeFileSync(file, demoSeedSql());
  run(["d1", "execute", "herald", "--local", "--file", file, ...persist]);
}
