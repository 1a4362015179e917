/**
 * Report benchmark (issue 7): a monthly report for an account holding 1,000,000 events in that
 * month (October 2026, UTC), built by Herald under `wrangler dev` (workerd, local D1) through the
 * real API: `POST /api/reports` (data from the rollups, stored) and `GET /api/reports/:id/pdf`.
 * Times are the Worker's own (Server-Timing), with the HTTP round trip alongside.
 *
 * Baseline in the same run: the same aggregates (totals, hits per day, the five top tables)
 * computed by scanning the raw events, on the same SQLite file (node:sqlite) — what reports would
 * cost without rollups. `BENCH_REPORT_EVENTS` changes the event count.
 */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { prepareLocalDatabase } from "../../scripts/demo-seed.ts";
import { BIN, ROOT } from "../../scripts/local-config.ts";
import { freePort, spawnWrangler, wranglerDevArgs } from "../support/herald-process.ts";
import type { BenchResult } from "./bench-result.ts";
import { reportSeedSql } from "./report-seed.ts";

const EVENTS = Number(process.env.BENCH_REPORT_EVENTS ?? 1_000_000);
const RUNS = 5;
const MONTH = {
  start: "2026-10-01",
  fromMs: Date.parse("2026-10-01T00:00:00Z"),
  toMs: Date.parse("2026-11-01T00:00:00Z"),
};
const ACCOUNT_ID = "00000000-0000-7000-8000-00000000be0c";

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

function serverTiming(header: string | null, name: string): number {
  const match = new RegExp(`${name};dur=([0-9.]+)`).exec(header ?? "");
  return match ? Number(match[1]) : Number.NaN;
}

function d1File(persistTo: string): string {
  const dir = path.join(persistTo, "v3", "d1", "miniflare-D1DatabaseObject");
  const file = readdirSync(dir).find((name) => name.endsWith(".sqlite") && name !== "metadata.sqlite");
  if (!file) throw new Error(`no D1 database under ${dir}`);
  return path.join(dir, file);
}

/** The report's aggregates straight from the events table: what rollups save. */
function rawScanMs(file: string): number {
  const db = new DatabaseSync(file, { readOnly: true });
  const args = [ACCOUNT_ID, MONTH.fromMs, MONTH.toMs] as const;
  const where = "account_id = ? AND occurred_at >= ? AND occurred_at < ?";
  const started = performance.now();
  db.prepare(`SELECT type, block_status, count(*) FROM events WHERE ${where} GROUP BY type, block_status`).all(...args);
  db.prepare(`SELECT occurred_at / 86400000, count(*) FROM events WHERE ${where} AND type = 'hit' GROUP BY 1`).all(
    ...args,
  );
  for (const column of ["attack_type", "host", "path", "remote_addr", "remote_country"]) {
    db.prepare(
      `SELECT ${column}, count(*) AS n FROM events WHERE ${where} AND type IN ('hit', 'incident') GROUP BY 1 ORDER BY n DESC LIMIT 10`,
    ).all(...args);
  }
  const elapsed = performance.now() - started;
  db.close();
  return elapsed;
}

async function startWrangler(persistTo: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const inspector = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = wranglerDevArgs(port, inspector, persistTo, {
    PUBLIC_URL: url,
    ENCRYPTION_KEY: "bench1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    // The bench builds a month of daily reports and more, past the default 30 an hour.
    REPORT_BUILDS_PER_HOUR: "1000",
  });
  const wrangler = await spawnWrangler(args, `${url}/api/health`, 90_000);
  return { url, stop: wrangler.stop };
}

export async function benchReport(): Promise<BenchResult[]> {
  const persistTo = mkdtempSync(path.join(tmpdir(), "herald-bench-report-"));
  const token = `hrld_${randomBytes(24).toString("base64url")}`;
  let wrangler: Awaited<ReturnType<typeof startWrangler>> | undefined;
  try {
    prepareLocalDatabase(persistTo);
    const seedFile = path.join(persistTo, "report-seed.sql");
    writeFileSync(
      seedFile,
      reportSeedSql({
        accountId: ACCOUNT_ID,
        tokenHash: createHash("sha256").update(token).digest("hex"),
        fromMs: MONTH.fromMs,
        toMs: MONTH.toMs,
        events: EVENTS,
      }),
    );
    const seedStarted = Date.now();
    execFileSync(
      path.join(BIN, "wrangler"),
      ["d1", "execute", "herald", "--local", "--persist-to", persistTo, "--file", seedFile],
      {
        cwd: ROOT,
        stdio: ["ignore", "ignore", "inherit"],
        env: { ...process.env, CI: "1" },
      },
    );
    const seedSeconds = (Date.now() - seedStarted) / 1000;
    const file = d1File(persistTo);
    const db = new DatabaseSync(file, { readOnly: true });
    const rollupRows = Number((db.prepare("SELECT count(*) AS n FROM event_rollups").get() as { n: number }).n);
    db.close();
    const rawScans = Array.from({ length: 3 }, () => rawScanMs(file));

    wrangler = await startWrangler(persistTo);
    const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
    const build = async (frequency: string, periodStart: string) => {
      let res: Response;
      let wall: number;
      // wrangler dev restarts the Worker when a source file changes (answering 503): ask again.
      for (let attempt = 1; ; attempt++) {
        const started = performance.now();
        res = await fetch(`${wrangler?.url}/api/reports`, {
          method: "POST",
          headers,
          body: JSON.stringify({ frequency, period_start: periodStart }),
        });
        wall = performance.now() - started;
        if (res.status !== 503 || attempt === 3) break;
        await res.arrayBuffer();
      }
      if (res.status !== 201) throw new Error(`POST /api/reports: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { report: { id: string; data: { totals: { hits: { current: number } } } } };
      return {
        id: body.report.id,
        hits: body.report.data.totals.hits.current,
        server: serverTiming(res.headers.get("Server-Timing"), "build"),
        wall,
      };
    };
    const pdf = async (id: string) => {
      const started = performance.now();
      const res = await fetch(`${wrangler?.url}/api/reports/${id}/pdf`, { headers });
      const bytes = new Uint8Array(await res.arrayBuffer());
      const wall = performance.now() - started;
      if (res.status !== 200) throw new Error(`GET pdf: ${res.status}`);
      return { size: bytes.byteLength, server: serverTiming(res.headers.get("Server-Timing"), "pdf"), wall };
    };

    await fetch(`${wrangler.url}/api/reports`, { headers }); // warm-up: the first request compiles the Worker
    // As in production, each day's report runs first (its job computes that day's top digest).
    const dailies: Awaited<ReturnType<typeof build>>[] = [];
    for (let day = 1; day <= 31; day++) dailies.push(await build("daily", `2026-10-${String(day).padStart(2, "0")}`));
    const builds: Awaited<ReturnType<typeof build>>[] = [];
    const pdfs: Awaited<ReturnType<typeof pdf>>[] = [];
    for (let i = 0; i < RUNS; i++) {
      const built = await build("monthly", MONTH.start);
      builds.push(built);
      pdfs.push(await pdf(built.id));
    }
    const dataMs = median(builds.map((b) => b.server));
    const pdfMs = median(pdfs.map((p) => p.server));
    const withPdfMs = median(builds.map((b, i) => b.wall + (pdfs[i]?.wall ?? 0)));
    const hits = builds[0]?.hits ?? 0;
    const fmt = (n: number) => n.toLocaleString("en-US");
    return [
      {
        name: `seed: ${fmt(EVENTS)} events → ${fmt(rollupRows)} rollup rows (bulk loader)`,
        value: seedSeconds,
        unit: "s",
      },
      {
        name: "daily report data build (server, median of the month's 31 days)",
        value: median(dailies.map((d) => d.server)),
        unit: "ms",
      },
      {
        name: "monthly data with no day digests yet (≈ sum of the 31 daily builds)",
        value: dailies.reduce((sum, d) => sum + d.server, 0),
        unit: "ms",
      },
      {
        name: `monthly report data build (server, ${fmt(hits)} hits); baseline = same aggregates by raw-event scan`,
        value: dataMs,
        unit: "ms",
        baseline: median(rawScans),
        target: "< 1000 ms",
        met: dataMs < 1000,
      },
      { name: "monthly report data, HTTP round trip", value: median(builds.map((b) => b.wall)), unit: "ms" },
      { name: "PDF build (server)", value: pdfMs, unit: "ms" },
      {
        name: "monthly data + PDF, both HTTP round trips",
        value: withPdfMs,
        unit: "ms",
        target: "< 2000 ms",
        met: withPdfMs < 2000,
      },
      { name: "PDF size", value: (pdfs[0]?.size ?? 0) / 1024, unit: "KiB" },
    ];
  } finally {
    await wrangler?.stop();
    rmSync(persistTo, { recursive: true, force: true });
  }
}

// `node test/bench/report.ts` runs this section alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { formatResults } = await import("./bench-result.ts");
  console.log(formatResults("report", await benchReport()));
}
