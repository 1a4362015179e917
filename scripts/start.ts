/**
 * `npm start`: builds the UI, prepares local D1 with the demo account, and runs Herald under
 * `wrangler dev` (workerd, local D1 and Durable Objects, cron testable at /__scheduled).
 */
import { execFileSync, spawn } from "node:child_process";
import path from "node:path";
import { prepareLocalDatabase } from "./demo-seed.ts";
import { BIN, DEMO, ensureDevVars, ROOT } from "./local-config.ts";

const port = process.env.PORT ?? "8787";

ensureDevVars();
console.log("Building the UI…");
execFileSync(path.join(BIN, "vite"), ["build", "ui", "--logLevel", "warn"], { cwd: ROOT, stdio: "inherit" });
console.log("Preparing the local database…");
prepareLocalDatabase();

const wrangler = spawn(
  path.join(BIN, "wrangler"),
  [
    "dev",
    "--port",
    port,
    "--ip",
    "127.0.0.1",
    "--test-scheduled",
    "--var",
    `PUBLIC_URL:http://localhost:${port}`,
    "--var",
    "ALLOW_HTTP_DESTINATIONS:true",
    "--var",
    "ALLOW_PRIVATE_DESTINATIONS:true",
  ],
  { cwd: ROOT, stdio: "inherit", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
);

console.log(`
  Herald is starting at http://localhost:${port}
  Sign in as ${DEMO.email} / ${DEMO.password}
  Trigger the hourly cron: http://localhost:${port}/__scheduled?cron=5+*+*+*+*
`);

for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => wrangler.kill(signal));
wrangler.on("exit", (code) => process.exit(code ?? 0));
