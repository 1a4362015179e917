/**
 * Memory soak: ten bursts of 50,000 hits (10 nodes, batches of 100) into Herald under `wrangler
 * dev`, each notified to a webhook receiver subscribed to hits, with a pause after each. workerd's
 * resident size (VmRSS in /proc/<pid>/status) is read after every burst's pause. The stored
 * database grows with every burst and workerd holds the pages of its local SQLite stores in memory
 * (see localStoreBytes), so what must level off is the anonymous memory beyond that: Herald's share
 * (README, Benchmarks). Only 127.0.0.1; every wait has a deadline.
 * BENCH_SOAK_BURSTS=n runs fewer bursts; BENCH_SOAK_NOTIFY=0 stores without any integration.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { type HeraldProcess, startHerald } from "../support/herald-process.ts";
import type { BenchResult } from "./bench-result.ts";
import { batchBody, createNodes, startReceiver, subscribeReceiver } from "./ingest.ts";
import { workerdMemory } from "./workerd-procs.ts";

const BURSTS = Number(process.env.BENCH_SOAK_BURSTS ?? 10);
const EVENTS_PER_BURST = 50_000;
const BATCH = 100;
/** After each burst (its notifications delivered), before reading the resident size. */
const PAUSE_MS = 10_000;
/** The last five bursts together may add at most this much beyond the stored database: levelled off. */
const LEVEL_OFF_MIB = 48;

const MIB = 1024 * 1024;

/**
 * Bytes of the local SQLite stores: D1 (`<state>/v3/d1`) and the Durable Objects (`<state>/v3/do`,
 * where the event shards and account objects keep the events). workerd keeps their pages in its
 * own anonymous memory, about one byte per byte of file (a bare Worker inserting into local D1
 * grows the same way), so that part tracks what is stored, not what Herald holds.
 */
function localStoreBytes(stateDir: string): number {
  let bytes = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const at = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(at);
      else bytes += statSync(at).size;
    }
  };
  for (const store of ["d1", "do"]) {
    const dir = path.join(stateDir, "v3", store);
    if (existsSync(dir)) walk(dir);
  }
  return bytes;
}

async function burst(herald: HeraldProcess, tokens: string[]): Promise<number> {
  let next = 0;
  let accepted = 0;
  const requests = EVENTS_PER_BURST / BATCH;
  await Promise.all(
    tokens.map(async (token) => {
      for (let i = next++; i < requests; i = next++) {
        for (let attempt = 0; attempt < 5; attempt++) {
          const res = await fetch(`${herald.url}/v1/events`, {
            method: "POST",
            headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
            body: batchBody(BATCH, i * BATCH).body,
          });
          await res.arrayBuffer();
          if (res.status === 202) {
            accepted += BATCH;
            break;
          }
        }
      }
    }),
  );
  return accepted;
}

export async function benchSoak(): Promise<BenchResult[]> {
  const herald = await startHerald({ vars: { NODE_RATE_LIMIT_PER_MINUTE: "100000000" } });
  const receiver = await startReceiver();
  const results: BenchResult[] = [];
  try {
    const group = herald.processGroup();
    if (!group) throw new Error("wrangler has no pid");
    const tokens = await createNodes(herald);
    // BENCH_SOAK_NOTIFY=0: storage only, no integration (tells ingest's share from delivery's).
    const notify = process.env.BENCH_SOAK_NOTIFY !== "0";
    if (notify) await subscribeReceiver(herald, receiver.url);

    const rss: number[] = [workerdMemory(group).total];
    // Herald's share: anonymous memory less what workerd holds of the stored databases (D1 and the objects).
    const heraldShare = (memory: { anon: number }) => memory.anon - localStoreBytes(herald.stateDir);
    const share: number[] = [heraldShare(workerdMemory(group))];
    console.log(`soak: workerd resident at start ${(rss[0]! / MIB).toFixed(0)} MiB`);
    let acceptedTotal = 0;
    for (let n = 1; n <= BURSTS; n++) {
      const started = Date.now();
      acceptedTotal += await burst(herald, tokens);
      const deadline = Date.now() + 60_000;
      while (notify && receiver.arrivals.size < acceptedTotal && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      const peak = workerdMemory(group).total;
      await new Promise((r) => setTimeout(r, PAUSE_MS));
      const settled = workerdMemory(group);
      rss.push(settled.total);
      share.push(heraldShare(settled));
      console.log(
        `soak: burst ${n}: ${((Date.now() - started) / 1000).toFixed(1)} s, delivered ${receiver.arrivals.size}/${acceptedTotal}, ` +
          `workerd resident ${(peak / MIB).toFixed(0)} MiB at the end, ${(rss[n]! / MIB).toFixed(0)} MiB after ${PAUSE_MS / 1000} s ` +
          `(anonymous ${(settled.anon / MIB).toFixed(0)} MiB, of which beyond the local store files ${(share[n]! / MIB).toFixed(0)} MiB)`,
      );
    }
    rss.forEach((bytes, n) => {
      const when = n === 0 ? "at start" : `after burst ${n}`;
      results.push({ name: `workerd resident ${when}`, value: bytes / MIB, unit: "MiB" });
      results.push({ name: `anonymous beyond the local store files ${when}`, value: share[n]! / MIB, unit: "MiB" });
    });
    const half = Math.floor(BURSTS / 2);
    results.push({
      name: `resident growth over bursts ${half + 1}–${BURSTS} (the stored database included)`,
      value: (rss[BURSTS]! - rss[half]!) / MIB,
      unit: "MiB",
    });
    const lateGrowth = (share[BURSTS]! - share[half]!) / MIB;
    results.push({
      name: `growth beyond the local store files over bursts ${half + 1}–${BURSTS}`,
      value: lateGrowth,
      unit: "MiB",
      target: `< ${LEVEL_OFF_MIB}`,
      met: lateGrowth < LEVEL_OFF_MIB,
    });
    results.push({
      name: "notifications delivered",
      value: receiver.arrivals.size,
      unit: "",
      target: String(acceptedTotal),
      met: !notify || receiver.arrivals.size >= acceptedTotal,
    });
  } finally {
    await receiver.close();
    await herald.stop();
  }
  return results;
}
