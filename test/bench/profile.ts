/**
 * `node test/bench/profile.ts [batch] [seconds] [--webhook] [--triggers]`: where ingest's CPU time
 * goes. Starts Herald under `wrangler dev`, puts the ingest benchmark's load on it (10 nodes,
 * batches of `batch`) and records a V8 CPU profile of the Worker's isolate (the Worker and its
 * Durable Objects share it locally) through wrangler's inspector port (Chrome DevTools protocol
 * `Profiler`), then prints the functions by self and by total time. `--triggers` first creates the
 * triggers benchmark's 50 triggers (test/bench/triggers.ts), enabled, notifying a webhook that no
 * hit is subscribed to. `perf` sees only workerd's native frames (wrangler gives no way to pass
 * V8's `--perf-basic-prof`): it shows SQLite and the commits' fsync; this names the JavaScript frames.
 * Runs on Node 22 or later (its WebSocket).
 */
import { writeFileSync } from "node:fs";
import { startHerald } from "../support/herald-process.ts";
import { createNodes, runLoad, startReceiver, subscribeReceiver } from "./ingest.ts";
import { createLoadTriggers, noticeWebhook } from "./triggers.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}

const batch = Number(process.argv[2] ?? 10);
const seconds = Number(process.argv[3] ?? 6);
const withWebhook = process.argv.includes("--webhook");
const withTriggers = process.argv.includes("--triggers");

async function inspectorSocket(port: number): Promise<WebSocket> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  const target = targets[0];
  if (!target) throw new Error("no inspector target");
  // wrangler's inspector proxy refuses an upgrade that has a User-Agent (Node sends one) but no
  // allowed Origin; Node's WebSocket takes headers in its (non-standard) second argument.
  const socket = new WebSocket(target.webSocketDebuggerUrl, {
    headers: { Origin: `http://127.0.0.1:${port}` },
  } as unknown as string[]);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", reject, { once: true });
  });
  return socket;
}

function client(socket: WebSocket) {
  let next = 1;
  const waiting = new Map<number, (result: unknown) => void>();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) waiting.get(message.id)?.(message.result);
  });
  return <T>(method: string, params: object = {}) =>
    new Promise<T>((resolve) => {
      const id = next++;
      waiting.set(id, resolve as (result: unknown) => void);
      socket.send(JSON.stringify({ id, method, params }));
    });
}

function summarize(nodes: ProfileNode[], totalSamples: number): void {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const label = (n: ProfileNode) =>
    `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.split("/").slice(-2).join("/")}:${n.callFrame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const walk = (node: ProfileNode, onStack: Set<string>): number => {
    let hits = node.hitCount;
    const name = label(node);
    self.set(name, (self.get(name) ?? 0) + node.hitCount);
    const inner = new Set(onStack).add(name);
    for (const child of node.children ?? []) hits += walk(byId.get(child) as ProfileNode, inner);
    if (!onStack.has(name)) total.set(name, (total.get(name) ?? 0) + hits);
    return hits;
  };
  walk(nodes[0] as ProfileNode, new Set());
  const top = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, hits]) => `${((100 * hits) / totalSamples).toFixed(1).padStart(5)} %  ${name}`)
      .join("\n");
  console.log(`\n## self time (${totalSamples} samples)\n${top(self, 45)}`);
  console.log(`\n## total time\n${top(total, 60)}`);
}

/** PROFILE=0: the load alone, without the profiler (its figures without the sampling's cost). */
class Done {
  readonly result: unknown;
  constructor(result: unknown) {
    this.result = result;
  }
}

/** The 50 benchmark triggers, enabled, notifying a webhook that no plain subscription uses. */
async function addLoadTriggers(url: string): Promise<void> {
  const admin = await herald.signIn();
  const integrationId = await noticeWebhook(admin, url);
  const nodes = await admin.call<{ nodes: { id: string }[] }>("GET", "/api/nodes");
  const nodeIds = nodes.body.nodes.map((n) => n.id);
  await createLoadTriggers(admin, integrationId, nodeIds, true);
}

const herald = await startHerald({ vars: { NODE_RATE_LIMIT_PER_MINUTE: "100000000" } });
try {
  const tokens = await createNodes(herald);
  const receiver = withWebhook ? await startReceiver() : null;
  if (receiver) await subscribeReceiver(herald, receiver.url);
  const triggerReceiver = withTriggers ? await startReceiver() : null;
  if (triggerReceiver) await addLoadTriggers(triggerReceiver.url);
  const load = runLoad(herald.url, tokens, batch, seconds * 1000, receiver ? { receiver } : {});
  await new Promise((r) => setTimeout(r, 1_500));
  if (process.env.PROFILE === "0") throw new Done(await load);
  const socket = await inspectorSocket(herald.inspectorPort);
  const send = client(socket);
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: Number(process.env.PROFILE_INTERVAL_US ?? 200) });
  await send("Profiler.start");
  await new Promise((r) => setTimeout(r, seconds * 1000 - 500));
  const { profile } = await send<{ profile: { nodes: ProfileNode[]; samples: number[] } }>("Profiler.stop");
  socket.close();
  const result = await load;
  console.log(`batch ${batch}: ${Math.round(result.eventsPerSecond)} events/s, p50 ${result.p50.toFixed(0)} ms`);
  if (result.notifiedPerSecond !== undefined) console.log(`notified ${Math.round(result.notifiedPerSecond)}/s`);
  writeFileSync(`/tmp/herald-ingest-${batch}.cpuprofile`, JSON.stringify(profile));
  summarize(profile.nodes, profile.samples.length);
  await receiver?.close();
  await triggerReceiver?.close();
} catch (error) {
  if (!(error instanceof Done)) {
    console.error(herald.logs().slice(-3000));
    throw error;
  }
  console.log(error.result);
  if (process.env.PROFILE_LOGS) console.log(herald.logs().slice(-2000));
} finally {
  await herald.stop();
}
