/**
 * Local D1 for `npm start` and the end-to-end tests: migrations applied, and — when the database
 * holds no account yet — the demo account (local development only).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { accountSql } from "./account-sql.ts";
import { BIN, DEMO, ROOT } from "./local-config.ts";

export function wrangler(args: string[], capture = false): string {
  return execFileSync(path.join(BIN, "wrangler"), args, {
    cwd: ROOT,
    stdio: ["ignore", capture ? "pipe" : "ignore", "inherit"],
    env: { ...process.env, CI: "1" },
    encoding: "utf8",
  });
}

/** Runs SQL from a file (statements too long for --command) against D1. */
export function executeSql(sql: string, target: string[]): void {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "herald-sql-")), "statements.sql");
  writeFileSync(file, sql);
  wrangler(["d1", "execute", "herald", ...target, "--file", file]);
}

function accountCount(target: string[]): number {
  const out = wrangler(
    ["d1", "execute", "herald", ...target, "--json", "--command", "SELECT count(*) AS n FROM accounts"],
    true,
  );
  const parsed = JSON.parse(out) as { results: { n: number }[] }[];
  return parsed[0]?.results[0]?.n ?? 0;
}

/**
 * Applies migrations to the local D1 under `persistTo` (wrangler's default when absent) and seeds
 * the demo account if the database is empty. Returns the demo node's token when it was just
 * created (it is shown once, like any node token).
 */
export function prepareLocalDatabase(persistTo?: string): { nodeToken?: string } {
  const target = ["--local", ...(persistTo ? ["--persist-to", persistTo] : [])];
  wrangler(["d1", "migrations", "apply", "herald", ...target]);
  if (accountCount(target) > 0) return {};
  const now = Date.now();
  const { sql, nodeTokens } = accountSql(
    {
      name: DEMO.accountName,
      timeZone: "UTC",
      // A week old, so the first cron run already owes it the last days' daily reports
      // (periods that ended before an account existed are skipped).
      createdAt: now - 8 * 86_400_000,
      users: [
        {
          email: DEMO.email,
          name: "Demo Admin",
          role: "admin",
          password: DEMO.password,
          mustChangePassword: false,
          notifications: {
            system: true,
            security_issue: ["critical", "high"],
            incident: true,
            reports: ["daily", "weekly", "monthly"],
          },
        },
        {
          email: DEMO.analystEmail,
          name: "Demo Analyst",
          role: "analyst",
          password: DEMO.password,
          mustChangePassword: false,
          notifications: { reports: ["weekly"] },
        },
      ],
      nodeNames: ["demo-node"],
    },
    now,
  );
  executeSql(sql, target);
  return { nodeToken: nodeTokens[0] };
}
