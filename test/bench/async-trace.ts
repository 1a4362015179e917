/**
 * Where the local runtime's one thread spends its time, per Worker and per Durable Object, from
 * workerd's own `--async-trace` (a JSON line per event: each invocation's context with its worker
 * and object id, and each turn with its wait for the isolate lock, its start and its end). It
 * works under loads that make the V8 CPU profile of profile.ts drop connections, and it names
 * whole objects rather than functions.
 *
 * wrangler passes workerd no extra flags, so `enableAsyncTrace` writes a wrapper that runs the
 * real binary with the flag and points miniflare at it (`MINIFLARE_WORKERD_PATH`, inherited by
 * the wrangler processes started afterwards); `summarizeTurns` reads the busiest trace file.
 * Used by webhook-lag.ts (`--trace`); figures in docs/benchmarks.md.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/** The workerd binary wrangler's miniflare starts. */
async function workerdBinary(): Promise<string> {
  const fromWrangler = createRequire(createRequire(import.meta.url).resolve("wrangler/package.json"));
  const fromMiniflare = createRequire(fromWrangler.resolve("miniflare"));
  const workerd = (await import(fromMiniflare.resolve("workerd"))) as { default: { default: string } | string };
  return typeof workerd.default === "string" ? workerd.default : workerd.default.default;
}

/** Makes every workerd started from now on write its trace into `dir` (one file per process). */
export async function enableAsyncTrace(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const wrapper = path.join(dir, "workerd-with-trace.sh");
  // `exec` keeps the file descriptors miniflare hands workerd (its control pipe).
  writeFileSync(wrapper, `#!/bin/sh\nexec '${await workerdBinary()}' "$@" --async-trace '${dir}/trace-'$$'.jsonl'\n`);
  chmodSync(wrapper, 0o755);
  process.env.MINIFLARE_WORKERD_PATH = wrapper;
}

interface TraceLine {
  e: string;
  ctx?: number;
  worker?: string;
  actor?: string | null;
  kind?: string;
  name?: string;
  start?: number;
  locked?: number;
  end?: number;
}

export interface TurnShare {
  /** `worker` or `worker:object id prefix`. */
  who: string;
  /** Share of the traced time spent running its turns. */
  busy: number;
  turns: number;
  meanTurnMs: number;
  meanLockWaitMs: number;
  /** Its most frequent invocation kinds and operations (storage_exec, fetch, jsRpcCall, …) with counts. */
  operations: string;
}

/** Turn time per Worker and object in the largest trace file of `dir` (the one that ran Herald). */
export function summarizeTurns(dir: string, from = 0, to = Number.POSITIVE_INFINITY): TurnShare[] {
  const files = readdirSync(dir).filter((f) => f.endsWith(".jsonl"));
  const largest = files.sort((a, b) => statSync(path.join(dir, b)).size - statSync(path.join(dir, a)).size)[0];
  if (!largest) throw new Error(`no async trace in ${dir}`);
  const who = new Map<number, string>();
  const totals = new Map<string, { busy: number; wait: number; turns: number; ops: Map<string, number> }>();
  const entry = (name: string) => {
    const known = totals.get(name);
    if (known) return known;
    const fresh = { busy: 0, wait: 0, turns: 0, ops: new Map<string, number>() };
    totals.set(name, fresh);
    return fresh;
  };
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  let epochMs = 0;
  for (const line of readFileSync(path.join(dir, largest), "utf8").split("\n")) {
    if (!line) continue;
    let event: TraceLine & { epochUnixMs?: number };
    try {
      event = JSON.parse(line);
    } catch {
      continue; // the last line of a process that was stopped mid-write
    }
    if (event.e === "header") epochMs = event.epochUnixMs ?? 0;
    if (event.e === "ctx" && event.ctx !== undefined) {
      who.set(event.ctx, event.actor ? `${event.worker}:${event.actor.slice(0, 8)}` : String(event.worker));
    } else if (event.e === "init" && event.ctx !== undefined) {
      const ops = entry(who.get(event.ctx) ?? "?").ops;
      const op = `${event.kind}:${event.name}`;
      ops.set(op, (ops.get(op) ?? 0) + 1);
    } else if (event.e === "turn" && event.ctx !== undefined && event.end !== undefined) {
      // Times are nanoseconds since the header's epoch; `from`/`to` (Unix ms) pick the load's window.
      const atMs = epochMs + event.end / 1e6;
      if (atMs < from || atMs > to) continue;
      const t = entry(who.get(event.ctx) ?? "?");
      t.busy += (event.end ?? 0) - (event.locked ?? 0);
      t.wait += (event.locked ?? 0) - (event.start ?? 0);
      t.turns++;
      first = Math.min(first, event.start ?? first);
      last = Math.max(last, event.end);
    }
  }
  const span = last - first;
  return [...totals]
    .filter(([, t]) => t.turns > 0)
    .map(([name, t]) => ({
      who: name,
      busy: t.busy / span,
      turns: t.turns,
      meanTurnMs: t.busy / t.turns / 1e6,
      meanLockWaitMs: t.wait / t.turns / 1e6,
      operations: [...t.ops]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([op, n]) => `${op.replace("operation:", "").replace("durable_object_", "")} ${n}`)
        .join(", "),
    }))
    .sort((a, b) => b.busy - a.busy);
}

export function printTurns(shares: TurnShare[], limit = 12): void {
  console.log("share of the thread  turns  mean turn  mean lock wait  who (operations)");
  for (const s of shares.slice(0, limit)) {
    console.log(
      `${(s.busy * 100).toFixed(1).padStart(6)} %  ${String(s.turns).padStart(12)}  ${s.meanTurnMs.toFixed(2).padStart(7)} ms  ${s.meanLockWaitMs.toFixed(2).padStart(11)} ms  ${s.who} (${s.operations})`,
    );
  }
}
