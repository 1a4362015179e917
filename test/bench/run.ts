/**
 * `npm run bench`: the benchmarks of ingestion (one account, many accounts), the events list,
 * delivery, triggers and reports, each against a baseline
 * measured in the same run (these machines are noisy: read the ratios, not the absolute numbers),
 * then a memory soak (soak.ts).
 * `npm run bench -- ingest` runs one section.
 */
import { type BenchResult, formatResults } from "./bench-result.ts";

// wrangler dev's local observability collector records every invocation (each request, Durable
// Object call and alarm) for its local dashboard, on the same thread as the Workers. It is a
// development tool with no production counterpart, so every process benchmarked here — Herald and
// the baselines alike — runs without it (X_LOCAL_OBSERVABILITY=true npm run bench measures with it).
process.env.X_LOCAL_OBSERVABILITY ??= "false";

const sections: { name: string; load: () => Promise<() => Promise<BenchResult[]>> }[] = [
  { name: "ingest", load: async () => (await import("./ingest.ts")).benchIngest },
  { name: "accounts", load: async () => (await import("./accounts.ts")).benchAccounts },
  { name: "events-list", load: async () => (await import("./events-list.ts")).benchEventsList },
  { name: "delivery", load: async () => (await import("./delivery.ts")).benchDelivery },
  { name: "triggers", load: async () => (await import("./triggers.ts")).benchTriggers },
  { name: "report", load: async () => (await import("./report.ts")).benchReport },
  { name: "floor", load: async () => (await import("./floor.ts")).benchFloor },
  { name: "soak", load: async () => (await import("./soak.ts")).benchSoak },
];

const only = process.argv.slice(2);
let failed = false;
for (const section of sections) {
  if (only.length > 0 && !only.includes(section.name)) continue;
  const started = Date.now();
  try {
    const run = await section.load();
    const results = await run();
    console.log(formatResults(`${section.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`, results));
  } catch (error) {
    failed = true;
    console.error(`\n## ${section.name}: failed\n${(error as Error).stack ?? error}`);
  }
}
process.exit(failed ? 1 : 0);
