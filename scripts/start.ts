/**
 * `npm start`: builds the UI, prepares local D1 (the demo account when it is empty), and runs
 * Herald under `wrangler dev` (workerd, local D1 and Durable Objects, cron testable at
 * /__scheduled). Extra arguments go to wrangler: `npm start -- --var RETRY_SCHEDULE:1,2,3`.
 */
import { execFileSync, spawn } from "node:child_process";
import path from "node:path";
import { startReceiverHub } from "../test/support/receiver-hub.ts";
import { prepareLocalDatabase } from "./demo-seed.ts";
import { BIN, DEMO, ensureDevVars, ROOT } from "./local-config.ts";

const port = process.env.PORT ?? "8787";
const inboxPort = Number(process.env.INBOX_PORT ?? "8025");
const smtpPort = Number(process.env.SMTP_DEMO_PORT ?? "2525");

ensureDevVars();
console.log("Building the UI…");
execFileSync(path.join(BIN, "vite"), ["build", "ui", "--logLevel", "warn"], { cwd: ROOT, stdio: "inherit" });
console.log("Preparing the local database…");
// `npm start -- --persist-to DIR` keeps the local state elsewhere: the seed must write there too.
const persistAt = process.argv.indexOf("--persist-to");
const { nodeToken } = prepareLocalDatabase(persistAt > 0 ? process.argv[persistAt + 1] : undefined);
// A real SMTP server on 127.0.0.1 with a web inbox, so the demo's emails can be read.
const inbox = await startReceiverHub({ httpPort: inboxPort, smtpPort });

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
    "--var",
    "MAIL_TRANSPORT:smtp",
    "--var",
    "SMTP_HOST:127.0.0.1",
    "--var",
    `SMTP_PORT:${smtpPort}`,
    "--var",
    "SMTP_SECURE:none",
    "--var",
    "MAIL_FROM:herald@example.com",
    ...process.argv.slice(2),
  ],
  {
    cwd: ROOT,
    stdio: "inherit",
    // wrangler dev's local observability collector keeps every invocation for its dashboard: after
    // a burst of 50,000 events workerd held about 180 MiB more with it (docs/benchmarks.md, Memory) and it
    // costs the Workers' thread CPU. Off unless asked for (X_LOCAL_OBSERVABILITY=true npm start).
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY ?? "false",
    },
  },
);

console.log(`
  Herald is starting at http://localhost:${port}
  Sign in as ${DEMO.email} / ${DEMO.password} (admin) or ${DEMO.analystEmail} / ${DEMO.password} (analyst)
${nodeToken ? `  The demo node's token (shown this once): ${nodeToken}\n` : ""}  Demo inbox (every email Herald sends): http://localhost:${inboxPort}
  Trigger the hourly cron: http://localhost:${port}/__scheduled?cron=5+*+*+*+*
  Post sample events: npm run simulate
`);

// A process manager stops us with SIGTERM (npm passes it on: the script execs node, see
// package.json): stop wrangler, which stops workerd, then the inbox, and free every port.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
  process.on(signal, () => wrangler.kill(signal === "SIGINT" ? "SIGINT" : "SIGTERM"));
wrangler.on("exit", async (code) => {
  await inbox.close();
  process.exit(code ?? 0);
});
