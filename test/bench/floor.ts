/**
 * Floor benchmark (`npm run bench -- floor`): what the ingest targets leave room for on this
 * runtime. One Worker (test/bench/floor-worker) answers the ingest benchmark's load after a growing
 * part of Herald's work, done with Herald's own code: parse, + validation, + a call to a Durable
 * Object, + the request as one row with one de-duplication key per event (the least a design that
 * de-duplicates can write), + rows with the de-duplication key only, + rows as an event shard stores them, + every
 * notification queued as for one webhook on every hit. Herald does all of that and more (the node
 * check, the account object's hop, seqs, issue decisions, triggers, links), so its ratio cannot
 * exceed the step it matches. Steps alternate within each round; each ratio is the median over the
 * rounds of that round's step / parse. Findings: README "Benchmarks".
 */
import { type BenchResult, percentile } from "./bench-result.ts";
import { RATIO_TARGETS, runLoad, SUBSCRIBED_RATIO_TARGET, startBenchWorker } from "./ingest.ts";

const STEPS = ["parse", "validate", "call", "keys", "bare", "store", "enqueue"] as const;
type Step = (typeof STEPS)[number];
const STEP_NAMES: Record<Step, string> = {
  parse: "parse only (the ingest baseline)",
  validate: "+ Herald's validation",
  call: "+ one Durable Object call, answered at once",
  keys: "+ the request as one row and one de-duplication key per event",
  bare: "+ rows with the de-duplication key only",
  store: "+ rows as an event shard stores them (list indexes, rollups)",
  enqueue: "+ every notification queued (one webhook on every hit)",
};
const BATCHES = [10, 100] as const;
const ROUNDS = Number(process.env.BENCH_FLOOR_ROUNDS ?? 3);
const MEASURE_MS = 4_000;
const NODES = 10;

export async function benchFloor(): Promise<BenchResult[]> {
  const floor = await startBenchWorker("floor-worker");
  const tokens = Array.from({ length: NODES }, (_, i) => `floor-node-${i}`);
  const results: BenchResult[] = [];
  try {
    for (const batch of BATCHES) {
      // Events/s per step, one entry per round; a step's ratio is taken within its round.
      const rates = new Map<Step, number[]>(STEPS.map((step) => [step, []]));
      for (let round = 0; round < ROUNDS; round++) {
        for (const step of STEPS) {
          const load = await runLoad(`${floor.url}/${step}`, tokens, batch, MEASURE_MS);
          if (load.errors > 0) throw new Error(`floor step ${step}: ${load.errors} requests failed`);
          rates.get(step)?.push(load.eventsPerSecond);
        }
      }
      const of = (step: Step) => rates.get(step) ?? [];
      const median = (values: number[]) => percentile(values, 50);
      /** The median over the rounds of `step` / `over` in the same round. */
      const ratio = (step: Step, over: Step) => median(of(step).map((rate, i) => rate / (of(over)[i] as number)));
      const parse = median(of("parse"));
      for (const step of STEPS) {
        results.push({
          name: `batch=${batch}, ${STEP_NAMES[step]}: events/s, median of ${ROUNDS} rounds`,
          value: median(of(step)),
          unit: "events/s",
          ...(step === "parse" ? {} : { baseline: parse }),
        });
        if (step !== "parse")
          results.push({
            name: `… its ratio to parse, median of the rounds' ratios`,
            value: ratio(step, "parse"),
            unit: "",
          });
      }
      const target = RATIO_TARGETS[batch];
      const store = ratio("store", "parse");
      if (target) {
        results.push({
          name: `batch=${batch}: room for Herald's ingest target: the shard-write step's ratio`,
          value: store,
          unit: "",
          target: `≥ ${target} (Herald's own target)`,
          met: store >= target,
        });
      }
      const subscribed = ratio("enqueue", "store");
      results.push({
        name: `batch=${batch}: room for the webhook target: queueing's step / the shard-write step (no delivery yet)`,
        value: subscribed,
        unit: "",
        target: `≥ ${SUBSCRIBED_RATIO_TARGET} (Herald's own target)`,
        met: subscribed >= SUBSCRIBED_RATIO_TARGET,
      });
    }
  } finally {
    await floor.stop();
  }
  return results;
}
