/** One line of `npm run bench` output. Ratios compare against a baseline measured in the same run. */
export interface BenchResult {
  /** What was measured, e.g. "ingest batch=100, 10 nodes: events/s". */
  name: string;
  value: number;
  unit: string;
  /** The same measure for the baseline in this run, when there is one. */
  baseline?: number;
  /** The target from the issue, as text ("≥ 20000", "< 1000 ms"), and whether it was met. */
  target?: string;
  met?: boolean;
}

export function formatResults(section: string, results: BenchResult[]): string {
  const lines = [`\n## ${section}`];
  for (const r of results) {
    const ratio = r.baseline
      ? `  ratio ${(r.value / r.baseline).toFixed(2)} (baseline ${round(r.baseline)} ${r.unit})`
      : "";
    const target = r.target ? `  target ${r.target}: ${r.met ? "met" : "MISSED"}` : "";
    lines.push(`- ${r.name}: ${round(r.value)} ${r.unit}${ratio}${target}`);
  }
  return lines.join("\n");
}

function round(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2);
}

/** p-th percentile (0–100) of a list of numbers, nearest-rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}
