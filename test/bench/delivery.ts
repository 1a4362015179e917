/**
 * Delivery benchmark (issue 5). Herald under `wrangler dev` sends to a local receiver in this
 * process; each figure is printed next to a baseline measured in the same run against the same
 * receiver (these machines are noisy: read the ratios).
 *
 * - Throughput through one integration: a webhook (up to 100 notifications per request) and a
 *   Slack integration (one per request), from the moment the node's events are accepted until the
 *   receiver has every notification. Baseline: a plain fetch loop from Node sending the same
 *   request shapes to the same receiver, one request at a time.
 * - Throughput through 100 webhook integrations at once. Baseline: 100 such fetch loops at once.
 * - Retry lateness: how late each retry leaves against its planned time (from the delivery log:
 *   `at` − `planned_at`), for 20 failing integrations × 10 retries 1 s apart. Baseline: Node
 *   timers set for the same delays, in the same run.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type ApiSession, type HeraldProcess, startHerald } from "../support/herald-process.ts";
import { type BenchResult, percentile } from "./bench-result.ts";

/**
 * An API call that tries again while wrangler dev reloads the Worker (a source file changed under
 * it: it answers 503 "Your worker restarted mid-request" as plain text).
 */
async function call(
  admin: ApiSession,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await admin.call(method, path, body);
      if (res.status !== 503 || attempt >= 5) return res;
    } catch (error) {
      if (attempt >= 5) throw error;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

const ONE_EVENTS = Number(process.env.BENCH_DELIVERY_EVENTS ?? 5000);
const SLACK_EVENTS = Number(process.env.BENCH_DELIVERY_SLACK_EVENTS ?? 600);
const MANY_INTEGRATIONS = 100;
const MANY_EVENTS = Number(process.env.BENCH_DELIVERY_MANY_EVENTS ?? 300);
const LATE_INTEGRATIONS = 20;
const RETRIES = 10;

/** A receiver that answers at once: 200 under /ok/, 500 under /fail/; counts notifications per path. */
async function startReceiver() {
  const counts = new Map<string, number>();
  const waiters: { path: string; count: number; resolve: () => void }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      if (path.startsWith("/fail/")) {
        res.writeHead(500).end();
        return;
      }
      const body = Buffer.concat(chunks).toString("utf8");
      // A webhook body is a JSON array of notifications; Slack's one message object.
      const n = body.startsWith("[") ? (JSON.parse(body) as unknown[]).length : 1;
      counts.set(path, (counts.get(path) ?? 0) + n);
      res.writeHead(200, { "Content-Type": "application/json" }).end('{"ok":true}');
      for (const w of [...waiters]) {
        if ((counts.get(w.path) ?? 0) >= w.count) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    });
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    counts,
    /** Resolves when `path` has received `count` notifications in all. */
    waitFor: (path: string, count: number, timeoutMs = 300_000) =>
      new Promise<void>((resolve, reject) => {
        if ((counts.get(path) ?? 0) >= count) return resolve();
        const timer = setTimeout(() => reject(new Error(`${path}: ${counts.get(path) ?? 0} of ${count}`)), timeoutMs);
        waiters.push({
          path,
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function notification(i: number) {
  const id = randomUUID();
  return {
    id,
    summary: "[Herald] New security issue detected",
    description: `Notification type: security_issue\nRisk: medium\nTitle: bench ${i}`,
    details: {
      client_name: "Acme Security",
      notification_type: "security_issue",
      occurred_at: new Date().toISOString(),
      link: `http://localhost/events/${id}`,
      security_issue: {
        id,
        risk: "medium",
        title: `bench ${i}`,
        host: "api.acme.test",
        method: "POST",
        path: "/login",
      },
    },
  };
}

/** Baseline: `loops` concurrent Node fetch loops, each sending `requests` bodies of `perRequest` notifications. */
async function fetchLoopBaseline(url: string, loops: number, requests: number, perRequest: number): Promise<number> {
  const bodies = Array.from({ length: requests }, (_, r) =>
    JSON.stringify(Array.from({ length: perRequest }, (_, i) => notification(r * perRequest + i))),
  );
  const started = performance.now();
  await Promise.all(
    Array.from({ length: loops }, async (_, loop) => {
      for (const body of bodies) {
        const res = await fetch(`${url}/ok/baseline-${loop}`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body,
        });
        await res.arrayBuffer();
      }
    }),
  );
  return (loops * requests * perRequest) / ((performance.now() - started) / 1000);
}

/** Issues posted so far: each is a distinct vulnerability (a re-reported open one is not notified again). */
let issuesPosted = 0;

async function postEvents(herald: HeraldProcess, token: string, count: number, label: string) {
  for (let offset = 0; offset < count; offset += 1000) {
    const n = Math.min(1000, count - offset);
    const events = Array.from({ length: n }, (_, i) => ({
      id: randomUUID(),
      type: "security_issue",
      occurred_at: new Date().toISOString(),
      risk: "medium",
      title: `${label} ${offset + i}`,
      vuln_type: "sqli",
      host: "api.acme.test",
      method: "POST",
      path: `/login/${++issuesPosted}`,
    }));
    // A node re-sends on 503 (the ids make it idempotent); wrangler dev answers 503 while it
    // reloads the Worker because a source file changed.
    for (let attempt = 1; ; attempt++) {
      const res = await fetch(`${herald.url}/v1/events`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ events }),
      });
      if (res.status === 202) break;
      if (res.status !== 503 || attempt >= 5) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function createIntegration(admin: ApiSession, type: "webhook" | "slack", url: string): Promise<string> {
  const settings =
    type === "webhook"
      ? { url, method: "POST", headers: [], format: "json_array", timeout_seconds: 15 }
      : { webhook_url: url };
  const res = await call(admin, "POST", "/api/integrations", {
    type,
    name: `bench ${type} ${randomUUID().slice(0, 6)}`,
    settings,
    events: { security_issue: ["medium"] },
  });
  if (res.status !== 201) throw new Error(`create integration: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.integration.id;
}

async function setStatus(admin: ApiSession, ids: string[], action: "enable" | "disable") {
  for (const id of ids) {
    const res = await call(admin, "POST", `/api/integrations/${id}/${action}`, action === "enable" ? {} : undefined);
    if (res.status !== 200) throw new Error(`${action} ${id}: ${res.status}`);
  }
}

/**
 * Notifications/s through the delivery engine: from the first 202 (the events are stored and their
 * notifications queued) until the receiver has all of them. Ingest's own cost is benchmarked
 * separately (test/bench/ingest.ts).
 */
async function throughput(
  herald: HeraldProcess,
  token: string,
  receiver: Awaited<ReturnType<typeof startReceiver>>,
  paths: string[],
  events: number,
): Promise<number> {
  let firstAccepted: number | null = null;
  for (let offset = 0; offset < events; offset += 1000) {
    await postEvents(herald, token, Math.min(1000, events - offset), `bench ${offset}`);
    firstAccepted ??= performance.now();
  }
  await Promise.all(paths.map((path) => receiver.waitFor(path, events)));
  return (paths.length * events) / ((performance.now() - (firstAccepted ?? 0)) / 1000);
}

/** Node timers for the same delays: how late a plain setTimeout fires on this machine right now. */
async function timerLatenessBaseline(count: number, delayMs: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) => {
      const planned = Date.now() + delayMs + (i % 10) * 7;
      return new Promise<number>((resolve) => setTimeout(() => resolve(Date.now() - planned), planned - Date.now()));
    }),
  );
}

export async function benchDelivery(): Promise<BenchResult[]> {
  const receiver = await startReceiver();
  const herald = await startHerald({
    vars: {
      RETRY_SCHEDULE: Array(RETRIES).fill("1").join(","),
      FAILURE_MIN_REQUESTS: "1000000",
    },
  });
  const results: BenchResult[] = [];
  try {
    const admin = await herald.signIn();
    const node = await call(admin, "POST", "/api/nodes", { name: "bench node" });
    const token: string = node.body.token;

    // One integration at a time: the others are disabled so fan-out skips them.
    const webhook = await createIntegration(admin, "webhook", `${receiver.url}/ok/one-webhook`);
    const baselineBatched = await fetchLoopBaseline(receiver.url, 1, Math.ceil(ONE_EVENTS / 100), 100);
    const oneWebhook = await throughput(herald, token, receiver, ["/ok/one-webhook"], ONE_EVENTS);
    results.push({
      name: `1 webhook integration, ${ONE_EVENTS} notifications (≤ 100 per request): notifications/s`,
      value: oneWebhook,
      unit: "notifications/s",
      baseline: baselineBatched,
    });
    await setStatus(admin, [webhook], "disable");

    const slack = await createIntegration(admin, "slack", `${receiver.url}/ok/one-slack`);
    const baselineSingle = await fetchLoopBaseline(receiver.url, 1, SLACK_EVENTS, 1);
    const oneSlack = await throughput(herald, token, receiver, ["/ok/one-slack"], SLACK_EVENTS);
    results.push({
      name: `1 Slack integration, ${SLACK_EVENTS} notifications (1 per request): notifications/s`,
      value: oneSlack,
      unit: "notifications/s",
      baseline: baselineSingle,
    });
    await setStatus(admin, [slack], "disable");

    const many: string[] = [];
    for (let i = 0; i < MANY_INTEGRATIONS; i++) {
      many.push(await createIntegration(admin, "webhook", `${receiver.url}/ok/many-${i}`));
    }
    const baselineMany = await fetchLoopBaseline(receiver.url, MANY_INTEGRATIONS, Math.ceil(MANY_EVENTS / 100), 100);
    const manyRate = await throughput(
      herald,
      token,
      receiver,
      many.map((_, i) => `/ok/many-${i}`),
      MANY_EVENTS,
    );
    results.push({
      name: `${MANY_INTEGRATIONS} webhook integrations at once, ${MANY_EVENTS} notifications each: notifications/s`,
      value: manyRate,
      unit: "notifications/s",
      baseline: baselineMany,
    });
    await setStatus(admin, many, "disable");

    // Retry lateness: failing receivers, 10 retries 1 s apart each, read back from the delivery log.
    const failing: string[] = [];
    for (let i = 0; i < LATE_INTEGRATIONS; i++) {
      failing.push(await createIntegration(admin, "webhook", `${receiver.url}/fail/${i}`));
    }
    const timerBaseline = timerLatenessBaseline(LATE_INTEGRATIONS * RETRIES, 1000);
    await postEvents(herald, token, 1, "late");
    const lateness: number[] = [];
    const deadline = Date.now() + 120_000;
    for (const id of failing) {
      for (;;) {
        const page = await call(admin, "GET", `/api/integrations/${id}/deliveries?state=dead&limit=1`);
        const dead = page.body.deliveries[0] as
          | { attempts: { number: number; at: string; planned_at: string | null }[] }
          | undefined;
        if (dead) {
          for (const a of dead.attempts) {
            if (a.number > 1 && a.planned_at) lateness.push(Date.parse(a.at) - Date.parse(a.planned_at));
          }
          break;
        }
        if (Date.now() > deadline) {
          const health = await call(admin, "GET", `/api/integrations/${id}/health`);
          const log = await call(admin, "GET", `/api/integrations/${id}/deliveries?limit=3`);
          throw new Error(
            `integration ${id} did not finish its retries: ${JSON.stringify(health.body)} ${JSON.stringify(log.body).slice(0, 3000)}\n${herald.logs().slice(-3000)}`,
          );
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const timers = await timerBaseline;
    results.push(
      {
        name: `retry lateness p50 (${lateness.length} retries, 1 s apart, ${LATE_INTEGRATIONS} integrations; Node timers p50 ${percentile(timers, 50)} ms)`,
        value: percentile(lateness, 50),
        unit: "ms",
        baseline: percentile(timers, 50),
      },
      {
        name: `retry lateness p99 (Node timers p99 ${percentile(timers, 99)} ms)`,
        value: percentile(lateness, 99),
        unit: "ms",
        baseline: percentile(timers, 99),
      },
    );
  } finally {
    await herald.stop();
    await receiver.close();
  }
  return results;
}
