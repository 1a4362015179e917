/**
 * Many tenants at once: 200 accounts × 5 nodes posting batches of 100 hits, against one account's
 * nodes posting the same load (same number of concurrent requests) in the same run. Each account has
 * its own ingest object and shards, so the aggregate should hold up; the directory of shards then
 * shows each shard's size against its budget (docs/data-plane.md).
 */
import { accountSql } from "../../scripts/account-sql.ts";
import { wrangler } from "../../scripts/demo-seed.ts";
import { startHerald } from "../support/herald-process.ts";
import type { BenchResult } from "./bench-result.ts";
import { batchBody, runLoad } from "./ingest.ts";

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 200);
const NODES_PER_ACCOUNT = 5;
/** Requests in flight at any time, in both runs. */
const CONCURRENCY = 50;
const MEASURE_MS = Number(process.env.BENCH_INGEST_SECONDS ?? 8) * 1000;
/** The hard budget of a shard (docs/data-plane.md); the default of EVENT_SHARD_MAX_BYTES. */
const SHARD_MAX_BYTES = 4 * 1024 ** 3;

function tenantsSql(): { sql: string; tokensByAccount: string[][] } {
  const statements: string[] = [];
  const tokensByAccount: string[][] = [];
  for (let a = 0; a < ACCOUNTS; a++) {
    const { sql, nodeTokens } = accountSql({
      name: `Bench tenant ${a}`,
      timeZone: "UTC",
      createdAt: Date.now(),
      users: [],
      nodeNames: Array.from({ length: NODES_PER_ACCOUNT }, (_, n) => `tenant-${a}-node-${n}`),
    });
    statements.push(sql);
    tokensByAccount.push(nodeTokens);
  }
  return { sql: statements.join("\n"), tokensByAccount };
}

/** One request per node first: every account object and shard exists before the clock starts. */
async function touchEveryNode(url: string, tokens: string[]): Promise<void> {
  let next = 0;
  const loop = async () => {
    while (next < tokens.length) {
      const token = tokens[next++] as string;
      const res = await fetch(`${url}/v1/events`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: batchBody(1, next).body,
      });
      await res.arrayBuffer();
      if (res.status !== 202) throw new Error(`warm-up post answered ${res.status}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
}

export interface ShardTotals {
  shards: number;
  /** Shards whose counters the directory took at or after `refreshedSince`. */
  refreshed: number;
  events: number;
  bytes: number;
  largestBytes: number;
}

/**
 * The shard directory's totals in Herald's local D1 (docs/data-plane.md#directory). Its counters are
 * refreshed by the account objects at most once a minute, so a reading right after a load may lag.
 */
export function shardTotals(stateDir: string, refreshedSince = 0): ShardTotals {
  const out = wrangler(
    [
      "d1",
      "execute",
      "herald",
      "--local",
      "--persist-to",
      stateDir,
      "--json",
      "--command",
      `SELECT count(*) AS shards, coalesce(sum(updated_at >= ${Math.floor(refreshedSince)}), 0) AS refreshed, coalesce(sum(events), 0) AS events, coalesce(sum(bytes), 0) AS bytes, coalesce(max(bytes), 0) AS largest FROM event_shards`,
    ],
    true,
  );
  const row = (
    JSON.parse(out) as {
      results: { shards: number; refreshed: number; events: number; bytes: number; largest: number }[];
    }[]
  )[0]?.results[0];
  return {
    shards: row?.shards ?? 0,
    refreshed: row?.refreshed ?? 0,
    events: row?.events ?? 0,
    bytes: row?.bytes ?? 0,
    largestBytes: row?.largest ?? 0,
  };
}

export async function benchAccounts(): Promise<BenchResult[]> {
  const { sql, tokensByAccount } = tenantsSql();
  const herald = await startHerald({ vars: { NODE_RATE_LIMIT_PER_MINUTE: "100000000" }, prepareSql: sql });
  try {
    const everyNode = tokensByAccount.flat();
    await touchEveryNode(herald.url, everyNode);
    const oneAccount = await runLoad(herald.url, tokensByAccount[0] ?? [], 100, MEASURE_MS, { loops: CONCURRENCY });
    const allAccounts = await runLoad(herald.url, everyNode, 100, MEASURE_MS, { loops: CONCURRENCY });
    const loadEnd = Date.now();
    // The account objects push shard sizes to the directory at most once a minute (their alarm,
    // set by their first write): wait until every shard's counters were taken after the load.
    let sizes = shardTotals(herald.stateDir, loadEnd);
    for (let waited = 0; sizes.refreshed < sizes.shards && waited < 90_000; waited += 5_000) {
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      sizes = shardTotals(herald.stateDir, loadEnd);
    }
    const label = `batch=100, ${CONCURRENCY} requests in flight`;
    return [
      {
        name: `${label}, ${ACCOUNTS} accounts × ${NODES_PER_ACCOUNT} nodes: aggregate events/s`,
        value: allAccounts.eventsPerSecond,
        unit: "events/s",
        baseline: oneAccount.eventsPerSecond,
        target: "≥ 0.8 × one account",
        met: allAccounts.eventsPerSecond >= 0.8 * oneAccount.eventsPerSecond,
      },
      {
        name: `${label}, ${ACCOUNTS} accounts: latency p99`,
        value: allAccounts.p99,
        unit: "ms",
        baseline: oneAccount.p99,
      },
      {
        name: `${label}, non-202 answers (one account / all accounts)`,
        value: allAccounts.errors,
        unit: "requests",
        baseline: oneAccount.errors || undefined,
      },
      { name: "shards in the directory", value: sizes.shards, unit: "shards" },
      {
        name: "… of them with sizes pushed after the load",
        value: sizes.refreshed,
        unit: "shards",
      },
      {
        name: "largest shard",
        value: sizes.largestBytes / 1024 ** 2,
        unit: "MiB",
        target: `within its budget (${SHARD_MAX_BYTES / 1024 ** 3} GiB)`,
        met: sizes.largestBytes > 0 && sizes.largestBytes <= SHARD_MAX_BYTES,
      },
    ];
  } finally {
    await herald.stop();
  }
}
