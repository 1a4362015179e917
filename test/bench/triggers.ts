/**
 * Triggers benchmark (issue 14), against Herald under `wrangler dev`:
 * - ingest of batches of 100 hits from 10 nodes with 50 triggers on the account (mixed
 *   conditions and filters, none firing) against the same run before they existed (≥ 0.9);
 * - from the 202 of the request whose events cross a threshold to the notice at a webhook
 *   receiver, p99 < 1 s;
 * - a node-silence notice within 60 s of its deadline (the account object's alarm).
 */
import { type ApiSession, type HeraldProcess, startHerald } from "../support/herald-process.ts";
import { type BenchResult, percentile } from "./bench-result.ts";
import { batchBody, createNodes, runLoad, startJsonReceiver } from "./ingest.ts";

const MEASURE_MS = Number(process.env.BENCH_INGEST_SECONDS ?? 8) * 1000;
const CROSSINGS = Number(process.env.BENCH_TRIGGER_CROSSINGS ?? 30);
const THRESHOLD = 20;

interface Notice {
  details: { notification_type: string; threshold?: { group: { host?: string } }; node?: { id: string } };
}

/** A webhook receiver keeping every notification it gets, with its arrival time. */
async function noticeReceiver() {
  const received: { at: number; notice: Notice }[] = [];
  const receiver = await startJsonReceiver<Notice>("/notices", (notice, at) => received.push({ at, notice }));
  return { ...receiver, received };
}

async function until(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** 50 triggers that look at every hit (filters, group-by, counts) without firing on the load. */
export function loadTriggers(integrationId: string, nodeIds: string[]): Record<string, unknown>[] {
  const triggers: Record<string, unknown>[] = [];
  for (let i = 0; i < 50; i++) {
    const base = { name: `bench trigger ${i}`, integration_ids: [integrationId] };
    switch (i % 5) {
      case 0: // matches every hit, counts per host, never reaches its count
        triggers.push({
          ...base,
          condition: { kind: "threshold", count: 1_000_000, window_minutes: 60 },
          group_by: ["host"],
        });
        break;
      case 1: // matches one attack type, per source IP
        triggers.push({
          ...base,
          condition: { kind: "threshold", count: 1_000_000, window_minutes: 5 },
          filters: { attack_types: ["sqli"], hosts: ["*.example.com"] },
          group_by: ["source_ip", "attack_type"],
        });
        break;
      case 2: // each event of a host the load never sends
        triggers.push({ ...base, condition: { kind: "each_event" }, filters: { hosts: ["admin.internal.test"] } });
        break;
      case 3: // each event from a CIDR and country the load never uses
        triggers.push({
          ...base,
          condition: { kind: "each_event" },
          filters: { source_ips: ["192.0.2.0/24"], countries: ["AQ"], min_risk: "high" },
        });
        break;
      default: // node silence of a live node, far off; or a system event
        triggers.push(
          i % 10 === 4
            ? {
                ...base,
                condition: { kind: "node_silence", node_id: nodeIds[i % nodeIds.length], silence_minutes: 600 },
              }
            : { ...base, condition: { kind: "system_event", system_types: ["scheduled_report_failed"] } },
        );
    }
  }
  return triggers;
}

/** Creates the 50 triggers of `loadTriggers` (also used by test/bench/profile.ts --triggers); their ids. */
export async function createLoadTriggers(
  admin: ApiSession,
  integrationId: string,
  nodeIds: string[],
  enabled: boolean,
): Promise<string[]> {
  const ids: string[] = [];
  for (const trigger of loadTriggers(integrationId, nodeIds)) {
    const res = await admin.call<{ trigger: { id: string } }>("POST", "/api/triggers", { ...trigger, enabled });
    if (res.status !== 201) throw new Error(`creating a trigger failed: ${res.status} ${JSON.stringify(res.body)}`);
    ids.push(res.body.trigger.id);
  }
  return ids;
}

export async function benchTriggers(): Promise<BenchResult[]> {
  const herald: HeraldProcess = await startHerald({ vars: { NODE_RATE_LIMIT_PER_MINUTE: "100000000" } });
  const receiver = await noticeReceiver();
  const results: BenchResult[] = [];
  try {
    const admin = await herald.signIn();
    const tokens = await createNodes(herald);
    const nodes = await admin.call<{ nodes: { id: string; name: string }[] }>("GET", "/api/nodes");
    const nodeIds = nodes.body.nodes.map((n) => n.id);
    const created = await admin.call<{ integration: { id: string } }>("POST", "/api/integrations", {
      type: "webhook",
      name: "bench trigger receiver",
      settings: { url: receiver.url, method: "POST", headers: [], format: "json_array", timeout_seconds: 15 },
      events: {},
    });
    if (created.status !== 201) throw new Error(`creating the webhook failed: ${created.status}`);
    const integrationId = created.body.integration.id;

    // 1. Ingest with and without 50 triggers, same account, same load, in the order
    // without–with–with–without (the machine is shared: a drift in its load cancels out).
    const ids = await createLoadTriggers(admin, integrationId, nodeIds, false);
    const setEnabled = async (enabled: boolean) => {
      for (const id of ids) {
        const res = await admin.call("PATCH", `/api/triggers/${id}`, { enabled });
        if (res.status !== 200) throw new Error(`changing a trigger failed: ${res.status}`);
      }
    };
    const half = MEASURE_MS / 2;
    await runLoad(herald.url, tokens, 100, half); // warm-up, not counted: the first run is slower
    const without1 = await runLoad(herald.url, tokens, 100, half);
    await setEnabled(true);
    const with1 = await runLoad(herald.url, tokens, 100, half);
    const with2 = await runLoad(herald.url, tokens, 100, half);
    await setEnabled(false);
    const without2 = await runLoad(herald.url, tokens, 100, half);
    const mean = (a: number, b: number) => (a + b) / 2;
    const withRate = mean(with1.eventsPerSecond, with2.eventsPerSecond);
    const withoutRate = mean(without1.eventsPerSecond, without2.eventsPerSecond);
    const ratio = withRate / withoutRate;
    results.push(
      {
        name: "batch=100, 10 nodes, 50 triggers: events/s accepted (baseline: the triggers disabled)",
        value: withRate,
        unit: "events/s",
        baseline: withoutRate,
        target: "≥ 0.9 × without",
        met: ratio >= 0.9,
      },
      {
        name: "50 triggers: latency p99",
        value: Math.max(with1.p99, with2.p99),
        unit: "ms",
        baseline: Math.max(without1.p99, without2.p99),
      },
    );
    await setEnabled(true);

    // 2. Threshold crossing → notice at the receiver.
    const threshold = await admin.call("POST", "/api/triggers", {
      name: "bench threshold",
      condition: { kind: "threshold", count: THRESHOLD, window_minutes: 1 },
      filters: { hosts: ["*.crossing.test"] },
      group_by: ["host"],
      integration_ids: [integrationId],
    });
    if (threshold.status !== 201) throw new Error(`creating the threshold trigger failed: ${threshold.status}`);
    const delays: number[] = [];
    let missing = 0;
    for (let k = 0; k < CROSSINGS; k++) {
      const host = `h${k}.crossing.test`;
      const events = JSON.parse(batchBody(THRESHOLD, k * THRESHOLD).body).events.map((e: Record<string, unknown>) => ({
        ...e,
        host,
      }));
      const token = tokens[k % tokens.length] as string;
      // All but the last event first; the last request crosses.
      for (const chunk of [events.slice(0, -1), events.slice(-1)]) {
        const res = await fetch(`${herald.url}/v1/events`, {
          method: "POST",
          headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
          body: JSON.stringify({ events: chunk }),
        });
        await res.arrayBuffer();
        if (res.status !== 202) throw new Error(`posting failed: ${res.status}`);
      }
      const acceptedAt = Date.now();
      const find = () =>
        receiver.received.find(
          (r) =>
            r.notice.details.notification_type === "trigger_threshold" &&
            r.notice.details.threshold?.group.host === host,
        );
      if (await until(() => find() !== undefined, 10_000)) delays.push((find()?.at ?? acceptedAt) - acceptedAt);
      else missing++;
    }
    const p99 = percentile(delays, 99);
    results.push(
      {
        name: `threshold crossing → notice at the receiver p50 (${CROSSINGS} crossings)`,
        value: percentile(delays, 50),
        unit: "ms",
      },
      {
        name: "threshold crossing → notice at the receiver p99",
        value: p99,
        unit: "ms",
        target: "< 1000",
        met: p99 < 1000,
      },
      {
        name: "threshold notices never received within 10 s",
        value: missing,
        unit: "notices",
        target: "0",
        met: missing === 0,
      },
    );

    // 3. Node silence: one minute without events, then the notice.
    const silentNode = await admin.call<{ node: { id: string }; token: string }>("POST", "/api/nodes", {
      name: "bench silent node",
    });
    const silentId = silentNode.body.node.id;
    const silence = await admin.call("POST", "/api/triggers", {
      name: "bench node silence",
      condition: { kind: "node_silence", node_id: silentId, silence_minutes: 1 },
      integration_ids: [integrationId],
    });
    if (silence.status !== 201) throw new Error(`creating the node-silence trigger failed: ${silence.status}`);
    const posted = await fetch(`${herald.url}/v1/events`, {
      method: "POST",
      headers: { Authorization: `Bearer ${silentNode.body.token}`, "Content-Type": "application/json" },
      body: batchBody(1, 0).body,
    });
    await posted.arrayBuffer();
    const deadline = Date.now() + 60_000;
    const silent = () =>
      receiver.received.find(
        (r) => r.notice.details.notification_type === "node_silent" && r.notice.details.node?.id === silentId,
      );
    const heard = await until(() => silent() !== undefined, 3 * 60_000);
    const late = heard ? (silent()?.at ?? deadline) - deadline : Number.NaN;
    results.push({
      name: "node-silence notice after its deadline",
      value: late / 1000,
      unit: "s",
      target: "< 60",
      met: heard && late < 60_000,
    });
  } finally {
    await receiver.close();
    await herald.stop();
  }
  return results;
}
