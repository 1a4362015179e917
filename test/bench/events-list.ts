/**
 * The events list over a large account: EVENTS (1,000,000 by default) loaded through the real ingest
 * route into one account, spread over DAYS days (so over that many shard periods), then every filter
 * of `GET /api/events` and deep cursor pages, each request timed. The baseline is `GET /api/me` in the
 * same run: the cost of an authenticated API request that reads no events.
 */
import { randomUUID } from "node:crypto";
import { startHerald } from "../support/herald-process.ts";
import { shardTotals } from "./accounts.ts";
import { type BenchResult, percentile } from "./bench-result.ts";
import { createNodes } from "./ingest.ts";
import { postEvents } from "./post-events.ts";

const EVENTS = Number(process.env.BENCH_LIST_EVENTS ?? 1_000_000);
const DAYS = 20;
const BATCH = 1000;
const SAMPLES = 40;
const DEEP_PAGES = 100;
const HOSTS = Array.from({ length: 50 }, (_, i) => `app${i}.example.com`);
const ATTACKS = ["sqli", "xss", "rce", "ptrav", "crlf", "nosqli", "xxe", "ssrf", "scanner", "brute"];
const RISKS = ["critical", "high", "medium", "low", "info"];

/** Event i of the corpus: mostly hits, every 50th an incident, every 100th a security issue. */
function corpusEvent(i: number, occurredAt: number): Record<string, unknown> {
  const host = HOSTS[(i * 7) % HOSTS.length];
  const at = new Date(occurredAt).toISOString();
  if (i % 100 === 0) {
    return {
      id: randomUUID(),
      type: "security_issue",
      occurred_at: at,
      risk: RISKS[(i / 100) % RISKS.length],
      title: `Issue ${i % 997}`,
      vuln_type: ATTACKS[i % ATTACKS.length],
      host,
      method: "GET",
      path: `/p/${i % 997}`,
    };
  }
  const hit = {
    id: randomUUID(),
    type: i % 50 === 0 ? "incident" : "hit",
    occurred_at: at,
    attack_type: ATTACKS[i % ATTACKS.length],
    host,
    method: "GET",
    path: `/api/items/${i % 500}`,
    remote_addr: `203.0.113.${i % 250}`,
    remote_country: "DE",
    response_status: 403,
    block_status: i % 3 ? "blocked" : "monitored",
  };
  return i % 50 === 0 ? { ...hit, security_issue_id: randomUUID() } : hit;
}

/** Loads the corpus through POST /v1/events, oldest day first, 10 nodes in parallel, re-sending as nodes do. */
async function loadCorpus(url: string, tokens: string[]): Promise<{ stored: number; resent: number }> {
  const end = Date.now() - 60_000;
  const span = DAYS * 86_400_000;
  const requests = Math.ceil(EVENTS / BATCH);
  let next = 0;
  let stored = 0;
  let resent = 0;
  const loop = async (token: string) => {
    for (;;) {
      const r = next++;
      if (r >= requests) return;
      const events: Record<string, unknown>[] = [];
      for (let k = 0; k < BATCH && r * BATCH + k < EVENTS; k++) {
        const i = r * BATCH + k;
        events.push(corpusEvent(i, end - span + Math.floor((i / EVENTS) * span)));
      }
      const posted = await postEvents(url, token, JSON.stringify({ events }));
      stored += posted.stored;
      resent += posted.resent;
    }
  };
  await Promise.all(tokens.map(loop));
  return { stored, resent };
}

export async function benchEventsList(): Promise<BenchResult[]> {
  const herald = await startHerald({ vars: { NODE_RATE_LIMIT_PER_MINUTE: "100000000" } });
  try {
    const tokens = await createNodes(herald);
    const loadStarted = Date.now();
    const { stored, resent } = await loadCorpus(herald.url, tokens);
    const loadSeconds = (Date.now() - loadStarted) / 1000;
    const admin = await herald.signIn();
    const timed = async (apiPath: string) => {
      const started = performance.now();
      const res = await admin.call<{ events: unknown[]; next_cursor: string | null }>("GET", apiPath);
      const ms = performance.now() - started;
      if (res.status !== 200) throw new Error(`${apiPath}: ${res.status} ${JSON.stringify(res.body)}`);
      return { ms, body: res.body };
    };
    const p99Of = async (apiPath: string) => {
      await timed(apiPath); // the first request warms the isolate and the objects
      const samples: number[] = [];
      for (let i = 0; i < SAMPLES; i++) samples.push((await timed(apiPath)).ms);
      return percentile(samples, 99);
    };
    const baseline = await p99Of("/api/me");
    const results: BenchResult[] = [
      { name: `corpus: events stored through POST /v1/events (${DAYS} days)`, value: stored, unit: "events" },
      { name: "corpus: load rate", value: stored / loadSeconds, unit: "events/s" },
      { name: "corpus: batches re-sent (a 429/503 or a dropped connection)", value: resent, unit: "requests" },
    ];
    const filters: [string, string][] = [
      ["no filter, first page", "/api/events?limit=50"],
      ["host (matches 2 %)", `/api/events?limit=50&host=${HOSTS[3]}`],
      ["host matching nothing", "/api/events?limit=50&host=nope.example.com"],
      ["attack_type", "/api/events?limit=50&attack_type=xss"],
      ["risk (security issues)", "/api/events?limit=50&risk=critical"],
      ["type=incident", "/api/events?limit=50&type=incident"],
      ["type=scope_change (none stored)", "/api/events?limit=50&type=scope_change"],
    ];
    for (const [label, apiPath] of filters) {
      const p99 = await p99Of(apiPath);
      results.push({ name: `list, ${label}: p99`, value: p99, unit: "ms", baseline, target: "< 100", met: p99 < 100 });
    }
    for (const [label, first] of [
      ["no filter", "/api/events?limit=200"],
      ["host", `/api/events?limit=200&host=${HOSTS[5]}`],
    ] as const) {
      const pages: number[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < DEEP_PAGES; page++) {
        const { ms, body } = await timed(cursor ? `${first}&cursor=${encodeURIComponent(cursor)}` : first);
        pages.push(ms);
        cursor = body.next_cursor;
        if (!cursor) break;
      }
      const p99 = percentile(pages, 99);
      results.push({
        name: `list, ${label}: ${pages.length} cursor pages of 200 in a row, p99 per page`,
        value: p99,
        unit: "ms",
        baseline,
        target: "< 100",
        met: p99 < 100 && pages.length === DEEP_PAGES,
      });
    }
    // By now the account object has refreshed the directory's counters (at most once a minute).
    const totals = shardTotals(herald.stateDir);
    results.push(
      { name: "shards holding the corpus", value: totals.shards, unit: "shards" },
      {
        name: "stored bytes per event (shard files / events, indexes and rollups included)",
        value: totals.events ? totals.bytes / totals.events : Number.NaN,
        unit: "bytes",
      },
      { name: "largest shard", value: totals.largestBytes / 1024 ** 2, unit: "MiB" },
    );
    return results;
  } finally {
    await herald.stop();
  }
}
