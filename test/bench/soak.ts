/**
 * Memory soak: ten bursts of 50,000 hits (10 nodes, batches of 100) into Herald under `wrangler
 * dev`, each notified to a webhook receiver subscribed to hits, with a pause after each. workerd's
 * memory (VmRSS and RssAnon in /proc/<pid>/status) is read after every burst's pause. The stored
 * databases grow with every burst and workerd's memory grows with them, whoever stores the rows,
 * so the same bursts also go, in the same run, to a baseline Worker on the same runtime that
 * stores every event's shard row and notification with Herald's own storage code and does
 * nothing else (test/bench/floor-worker, its `enqueue` step). The baseline's anonymous growth per
 * byte its stores grew is the runtime's; what must level off is Herald's share: its anonymous
 * growth less that much per byte Herald's own stores grew (README, Benchmarks).
 * Only 127.0.0.1; every wait has a deadline.
 * BENCH_SOAK_BURSTS=n runs fewer bursts; BENCH_SOAK_NOTIFY=0 stores without any integration.
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { startHerald } from "../support/herald-process.ts";
import type { BenchResult } from "./bench-result.ts";
import { batchBody, createNodes, startBenchWorker, startReceiver, subscribeReceiver } from "./ingest.ts";
import { postEvents } from "./post-events.ts";
import { workerdMemory } from "./workerd-procs.ts";

const BURSTS = Number(process.env.BENCH_SOAK_BURSTS ?? 10);
const EVENTS_PER_BURST = 50_000;
const BATCH = 100;
/** After each burst (its notifications delivered), before reading the resident size. */
const PAUSE_MS = 10_000;
/** Herald's share may grow at most this much over the last five bursts together: levelled off. */
const LEVEL_OFF_MIB = 48;

const MIB = 1024 * 1024;

/** Bytes of a `wrangler dev` state folder's local SQLite stores: D1 and the Durable Objects. */
function storedBytes(stateDir: string): number {
  let bytes = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const at = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(at);
      else bytes += statSync(at).size;
    }
  };
  walk(path.join(stateDir, "v3"));
  return bytes;
}

/** After each burst's pause, index 0 at the start: workerd's anonymous memory and the stores' bytes. */
interface MemorySeries {
  anon: number[];
  stored: number[];
}

/**
 * One burst from 10 nodes to `<base>/v1/events`, each batch re-sent as a node does (postEvents) when
 * it is refused for now or its connection drops; the events stored.
 */
async function burst(base: string, tokens: string[]): Promise<number> {
  let next = 0;
  let stored = 0;
  const requests = EVENTS_PER_BURST / BATCH;
  await Promise.all(
    tokens.map(async (token) => {
      for (let i = next++; i < requests; i = next++) {
        // Awaited first: `stored += await …` would read `stored` before the wait and lose the other loops' counts.
        const posted = await postEvents(base, token, batchBody(BATCH, i * BATCH).body);
        stored += posted.stored;
      }
    }),
  );
  return stored;
}

/** The baseline Worker's series under the same bursts. */
async function baselineMemory(): Promise<MemorySeries> {
  const baseline = await startBenchWorker("floor-worker");
  try {
    const group = baseline.processGroup;
    if (!group) throw new Error("the baseline's wrangler has no pid");
    const tokens = Array.from({ length: 10 }, (_, i) => `soak-node-${i}`);
    const series: MemorySeries = { anon: [workerdMemory(group).anon], stored: [storedBytes(baseline.stateDir)] };
    for (let n = 1; n <= BURSTS; n++) {
      const accepted = await burst(`${baseline.url}/enqueue`, tokens);
      if (accepted < EVENTS_PER_BURST) throw new Error(`the baseline took ${accepted} of ${EVENTS_PER_BURST} events`);
      await new Promise((r) => setTimeout(r, PAUSE_MS));
      series.anon.push(workerdMemory(group).anon);
      series.stored.push(storedBytes(baseline.stateDir));
      console.log(
        `soak: baseline burst ${n}: anonymous ${(series.anon[n]! / MIB).toFixed(0)} MiB, stores ${(series.stored[n]! / MIB).toFixed(0)} MiB`,
      );
    }
    return series;
  } finally {
    await baseline.stop();
  }
}

async function heraldMemory(): Promise<MemorySeries & { total: number[]; delivered: number; accepted: number }> {
  const herald = await startHerald({ vars: { NODE_RATE_LIMIT_PER_MINUTE: "100000000" } });
  const receiver = await startReceiver();
  try {
    const group = herald.processGroup();
    if (!group) throw new Error("wrangler has no pid");
    const tokens = await createNodes(herald);
    // BENCH_SOAK_NOTIFY=0: storage only, no integration (tells ingest's share from delivery's).
    const notify = process.env.BENCH_SOAK_NOTIFY !== "0";
    if (notify) await subscribeReceiver(herald, receiver.url);
    const start = workerdMemory(group);
    const total = [start.total];
    const anon = [start.anon];
    const stored = [storedBytes(herald.stateDir)];
    console.log(`soak: workerd resident at start ${(start.total / MIB).toFixed(0)} MiB`);
    let accepted = 0;
    for (let n = 1; n <= BURSTS; n++) {
      const started = Date.now();
      accepted += await burst(herald.url, tokens);
      const deadline = Date.now() + 60_000;
      while (notify && receiver.arrivals.size < accepted && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      await new Promise((r) => setTimeout(r, PAUSE_MS));
      const settled = workerdMemory(group);
      total.push(settled.total);
      anon.push(settled.anon);
      stored.push(storedBytes(herald.stateDir));
      console.log(
        `soak: burst ${n}: ${((Date.now() - started) / 1000).toFixed(1)} s, delivered ${receiver.arrivals.size}/${accepted}, ` +
          `workerd resident ${(settled.total / MIB).toFixed(0)} MiB after ${PAUSE_MS / 1000} s (anonymous ${(settled.anon / MIB).toFixed(0)} MiB), ` +
          `stores ${(stored[n]! / MIB).toFixed(0)} MiB`,
      );
    }
    return { total, anon, stored, delivered: notify ? receiver.arrivals.size : accepted, accepted };
  } finally {
    await receiver.close();
    await herald.stop();
  }
}

export async function benchSoak(): Promise<BenchResult[]> {
  const herald = await heraldMemory();
  const baseline = await baselineMemory();
  // The runtime's anonymous growth per stored byte, from the baseline over the late bursts (the
  // first burst also warms the isolate up, so a whole-run slope would overstate the later ones).
  const half = Math.floor(BURSTS / 2);
  const growth = (series: number[]) => series[BURSTS]! - series[half]!;
  const perStoredByte = growth(baseline.anon) / growth(baseline.stored);
  // Herald's share after burst n: its anonymous growth less the runtime's for what its stores grew.
  const share = herald.anon.map(
    (anon, n) => anon - herald.anon[0]! - perStoredByte * (herald.stored[n]! - herald.stored[0]!),
  );
  const results: BenchResult[] = [];
  herald.total.forEach((bytes, n) => {
    const when = n === 0 ? "at start" : `after burst ${n}`;
    results.push({ name: `workerd resident ${when}`, value: bytes / MIB, unit: "MiB" });
    results.push({
      name: `anonymous ${when}`,
      value: herald.anon[n]! / MIB,
      unit: "MiB",
      baseline: baseline.anon[n]! / MIB,
    });
    results.push({
      name: `stores ${when}`,
      value: herald.stored[n]! / MIB,
      unit: "MiB",
      baseline: baseline.stored[n]! / MIB,
    });
    results.push({ name: `Herald's share ${when}`, value: share[n]! / MIB, unit: "MiB" });
  });
  results.push({
    name: `the runtime's anonymous growth per stored byte over bursts ${half + 1}–${BURSTS} (the baseline's)`,
    value: perStoredByte,
    unit: "",
  });
  results.push({
    name: `resident growth over bursts ${half + 1}–${BURSTS} (the stored databases included)`,
    value: (herald.total[BURSTS]! - herald.total[half]!) / MIB,
    unit: "MiB",
  });
  const lateGrowth = (share[BURSTS]! - share[half]!) / MIB;
  results.push({
    name: `growth of Herald's share over bursts ${half + 1}–${BURSTS}`,
    value: lateGrowth,
    unit: "MiB",
    target: `< ${LEVEL_OFF_MIB}`,
    met: lateGrowth < LEVEL_OFF_MIB,
  });
  results.push({
    name: "notifications delivered",
    value: herald.delivered,
    unit: "",
    target: String(herald.accepted),
    met: herald.delivered >= herald.accepted,
  });
  return results;
}
