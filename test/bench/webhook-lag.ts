/**
 * `node test/bench/webhook-lag.ts [seconds] [batch] [nodes] [--trace]`: where a webhook request's time goes while ingest
 * runs. Puts the ingest benchmark's load on Herald (10 nodes unless told) with one webhook subscribed to every hit,
 * the receiver in a separate Node process (so the load generator's event loop cannot delay it), and
 * for each request made during the load compares the receiver's clock with the attempt log: the
 * IntegrationDO's start of the attempt → the request's headers at the receiver → its body → the
 * latency the object recorded; and the gap between one response and the next attempt (the object's
 * own claim, record and alarm work). Findings: docs/benchmarks.md (Notification latency).
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { startHerald } from "../support/herald-process.ts";
import { enableAsyncTrace, printTurns, summarizeTurns } from "./async-trace.ts";
import { percentile } from "./bench-result.ts";
import { createNodes, runLoad, subscribeReceiver } from "./ingest.ts";

const [seconds = 8, batch = 100, nodes = 10] = process.argv
  .slice(2)
  .filter((a) => !a.startsWith("--"))
  .map(Number);
/** `--trace`: also the share of the thread each Worker and object took during the load (async-trace.ts). */
const traceDir = process.argv.includes("--trace") ? mkdtempSync(path.join(tmpdir(), "herald-trace-")) : null;
if (traceDir) await enableAsyncTrace(traceDir);
const WARMUP_MS = 1_500; // runLoad's warm-up

/** One line of JSON per request: when its headers and when its body's end arrived, and its event ids. */
const RECEIVER_SOURCE = `
const server = require("node:http").createServer((req, res) => {
  const headersAt = Date.now();
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const bodyAt = Date.now();
    let ids = [];
    try {
      const parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      ids = (Array.isArray(parsed) ? parsed : [parsed]).map((n) => n.id);
    } catch {}
    res.writeHead(200, { "Content-Type": "application/json" }).end('{"ok":true}');
    process.stdout.write(JSON.stringify({ headersAt, bodyAt, ids }) + "\\n");
  });
});
server.listen(0, "127.0.0.1", () => process.stdout.write(JSON.stringify({ port: server.address().port }) + "\\n"));
`;

interface Arrival {
  headersAt: number;
  bodyAt: number;
  ids: string[];
}
interface Attempt {
  at: string;
  latency_ms: number | null;
}
interface Delivery {
  created_at: string;
  notifications: { event_id: string | null }[];
  attempts: Attempt[];
}

const child = spawn(process.execPath, ["-e", RECEIVER_SOURCE], { stdio: ["ignore", "pipe", "inherit"] });
const received: Arrival[] = [];
const arrivals = new Map<string, number>();
const port = await new Promise<number>((resolve) => {
  createInterface({ input: child.stdout }).on("line", (line) => {
    const message = JSON.parse(line) as { port: number } | Arrival;
    if ("port" in message) return resolve(message.port);
    received.push(message);
    for (const id of message.ids) if (!arrivals.has(id)) arrivals.set(id, message.bodyAt);
  });
});

const herald = await startHerald({ vars: { NODE_RATE_LIMIT_PER_MINUTE: "100000000" } });
try {
  const tokens = await createNodes(herald, nodes);
  await subscribeReceiver(herald, `http://127.0.0.1:${port}/hook`);
  const loadStart = Date.now() + WARMUP_MS;
  const load = await runLoad(herald.url, tokens, batch, seconds * 1000, { receiver: { arrivals } });
  const loadEnd = Date.now();
  console.log(
    `ingest: ${Math.round(load.eventsPerSecond)} events/s, p50 ${load.p50.toFixed(0)} ms; ` +
      `notified ${Math.round(load.notifiedPerSecond ?? 0)}/s`,
  );
  await new Promise((r) => setTimeout(r, 3_000));

  const admin = await herald.signIn();
  const listed = await admin.call<{ integrations: { id: string; name: string }[] }>("GET", "/api/integrations");
  const integration = listed.body.integrations.find((i) => i.name === "bench receiver");
  if (!integration) throw new Error("the bench receiver's integration is missing");
  const byFirstEvent = new Map<string, Delivery>();
  let cursor = "";
  for (let page = 0; page < 50; page++) {
    const res = await admin.call<{ deliveries: Delivery[]; next_cursor: string | null }>(
      "GET",
      `/api/integrations/${integration.id}/deliveries?limit=100${cursor}`,
    );
    for (const d of res.body.deliveries) byFirstEvent.set(d.notifications[0]?.event_id ?? "", d);
    if (!res.body.next_cursor) break;
    cursor = `&cursor=${res.body.next_cursor}`;
  }

  const claimToStart: number[] = [];
  const toHeaders: number[] = [];
  const headersToBody: number[] = [];
  const latency: number[] = [];
  const betweenRequests: number[] = [];
  let previousResponse = 0;
  for (const arrival of received) {
    if (arrival.headersAt < loadStart || arrival.headersAt >= loadEnd) continue;
    const delivery = byFirstEvent.get(arrival.ids[0] ?? "");
    const attempt = delivery?.attempts.at(-1);
    if (!delivery || !attempt || attempt.latency_ms === null) continue;
    const startedAt = Date.parse(attempt.at);
    claimToStart.push(startedAt - Date.parse(delivery.created_at));
    toHeaders.push(arrival.headersAt - startedAt);
    headersToBody.push(arrival.bodyAt - arrival.headersAt);
    latency.push(attempt.latency_ms);
    if (previousResponse) betweenRequests.push(startedAt - previousResponse);
    previousResponse = startedAt + attempt.latency_ms;
  }
  const line = (name: string, values: number[]) =>
    `${name.padEnd(46)} p50 ${String(percentile(values, 50)).padStart(5)}  p99 ${String(percentile(values, 99)).padStart(5)}  sum ${values.reduce((a, b) => a + b, 0)} ms`;
  console.log(`${latency.length} requests during the load`);
  console.log(line("delivery formed → attempt starts", claimToStart));
  console.log(line("attempt starts → headers at the receiver", toHeaders));
  console.log(line("headers → body at the receiver", headersToBody));
  console.log(line("attempt's latency (object's fetch → response)", latency));
  console.log(line("response → next attempt starts", betweenRequests));
  if (traceDir) {
    console.log(`\nduring the load (async trace in ${traceDir}):`);
    printTurns(summarizeTurns(traceDir, loadStart, loadEnd));
  }
} finally {
  await herald.stop();
  child.kill();
}
