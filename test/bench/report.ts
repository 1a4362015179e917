/**
 * Report and events-list benchmark (issues 7 and 13): one account holding 1,000,000 events in a
 * month (October 2026, UTC), loaded through `POST /v1/events` (month-load.ts), under `wrangler dev`
 * (workerd, local D1 and Durable Objects). Through the real API: `POST /api/reports` (data from the
 * shards' rollups, stored) and `GET /api/reports/:id/pdf`, then `GET /api/events` with each filter
 * and deep cursor pages. Times are the Worker's own (Server-Timing), with the HTTP round trip alongside.
 *
 * Baseline in the same run: the same aggregates (totals, hits per day, the five top tables)
 * computed by scanning the raw events in one SQLite table (node:sqlite, in memory) — what reports
 * would cost without rollups. `BENCH_REPORT_EVENTS` changes the event count.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { executeSql, prepareLocalDatabase } from "../../scripts/demo-seed.ts";
import { freePort, spawnWrangler, wranglerDevArgs } from "../support/herald-process.ts";
import { type BenchResult, percentile } from "./bench-result.ts";
import { loadMonth, type MonthEvent } from "./month-load.ts";

const EVENTS = Number(process.env.BENCH_REPORT_EVENTS ?? 1_000_000);
const RUNS = 5;
const NODES = 10;
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

/** The events as one raw table, for the baseline: what a report would scan without rollups. */
function rawTable(): { db: DatabaseSync; keep: (event: MonthEvent) => void; flush: () => void } {
  const db = new DatabaseSync(":memory:");
  db.exec(`CREATE TABLE events (id TEXT, type TEXT, occurred_at INTEGER, attack_type TEXT, host TEXT, path TEXT,
    remote_addr TEXT, remote_country TEXT, block_status TEXT)`);
  const insert = db.prepare("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  db.exec("BEGIN");
  return {
    db,
    keep: (e) =>
      void insert.run(
        e.id,
        e.type,
        e.occurredAt,
        e.attackType,
        e.host,
        e.path,
        e.remoteAddr,
        e.remoteCountry,
        e.blockStatus,
      ),
    flush: () => db.exec("COMMIT"),
  };
}

/** The report's aggregates straight from the raw events: what rollups save. */
function rawScanMs(db: DatabaseSync): number {
  const args = [MONTH.fromMs, MONTH.toMs] as const;
  const where = "occurred_at >= ? AND occurred_at < ?";
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
  return performance.now() - started;
}

const q = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** The control-plane rows of the bench account (D1): an admin with an API token, two integrations. */
function accountSql(tokenHash: string): string {
  const now = Date.now();
  const id = q(ACCOUNT_ID);
  return `
INSERT INTO accounts (id, name, time_zone, created_at) VALUES (${id}, 'Bench Corp', 'UTC', ${MONTH.fromMs - 86_400_000 * 60});
-- A token acts for the admin who created it (no password: nobody signs in as them).
INSERT INTO users (id, account_id, email, name, role, password_hash, created_at, updated_at)
  VALUES ('bench-admin', ${id}, 'bench@bench.test', 'Bench', 'admin', 'none', ${now}, ${now});
INSERT INTO api_tokens (id, account_id, name, role, token_hash, token_prefix, created_by, created_at)
  VALUES ('bench-token', ${id}, 'bench', 'admin', ${q(tokenHash)}, 'hrld_bench', 'bench-admin', ${now});
INSERT INTO integrations (id, account_id, type, name, status, settings, events, created_at, updated_at)
  VALUES ('bench-hook', ${id}, 'webhook', 'SIEM hook', 'enabled', '{}', '{"reports":["monthly"]}', ${now}, ${now}),
         ('bench-slack', ${id}, 'slack', 'Old Slack', 'disabled', '{}', '{"reports":["daily"]}', ${now}, ${now});
UPDATE integrations SET disabled_reason = 'auto_failure_ratio', disabled_at = ${now} WHERE id = 'bench-slack';
`;
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

/** The local D1 file of a `--persist-to` directory (wrangler's layout). */
function d1File(persistTo: string): string {
  const dir = path.join(persistTo, "v3", "d1", "miniflare-D1DatabaseObject");
  const file = readdirSync(dir).find((name) => name.endsWith(".sqlite") && name !== "metadata.sqlite");
  if (!file) throw new Error(`no D1 database under ${dir}`);
  return path.join(dir, file);
}

/**
 * The SQLite file of the account's AccountIngestDO under a `--persist-to` directory (wrangler
 * keeps each object's storage as a .sqlite file under v3/do): the one holding `report_bodies`.
 */
function accountObjectFile(persistTo: string): string {
  const root = path.join(persistTo, "v3", "do");
  for (const dir of readdirSync(root)) {
    for (const name of readdirSync(path.join(root, dir)).filter((n) => n.endsWith(".sqlite"))) {
      const file = path.join(root, dir, name);
      const db = new DatabaseSync(file, { readOnly: true });
      const found = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'report_bodies'").get();
      db.close();
      if (found) return file;
    }
  }
  throw new Error(`no AccountIngestDO storage under ${root}`);
}

/**
 * What reports keep per account (the capacity model, README "Known limits"), in the account's
 * AccountIngestDO (docs/storage.md#reports): bytes of one day's top digest (`report_day_tops`,
 * row and index pages) and of one stored report's body, measured on the pages SQLite wrote
 * (dbstat) and as the row's text; D1 keeps only the report's metadata row.
 */
function reportStorageFigures(persistTo: string): BenchResult[] {
  const d1 = new DatabaseSync(d1File(persistTo), { readOnly: true });
  const frequencies = new Map(
    (d1.prepare("SELECT id, frequency FROM reports").all() as { id: string; frequency: string }[]).map((r) => [
      r.id,
      r.frequency,
    ]),
  );
  d1.close();
  const db = new DatabaseSync(accountObjectFile(persistTo), { readOnly: true });
  const one = <T>(sql: string) => db.prepare(sql).get() as T;
  const days = one<{ n: number; bytes: number }>(
    `SELECT count(*) AS n, sum(length(time_zone) + length(day) + length(tops) + length(truncated) + 16) AS bytes
     FROM report_day_tops`,
  );
  const pages = one<{ bytes: number | null }>(
    `SELECT sum(pgsize) AS bytes FROM dbstat WHERE name IN ('report_day_tops', 'sqlite_autoindex_report_day_tops_1',
       'report_day_tops_computed_idx')`,
  );
  const bodies = db.prepare("SELECT id, length(data) AS bytes FROM report_bodies").all() as {
    id: string;
    bytes: number;
  }[];
  const bodyPages = one<{ bytes: number | null }>(
    `SELECT sum(pgsize) AS bytes FROM dbstat WHERE name IN ('report_bodies', 'sqlite_autoindex_report_bodies_1',
       'report_bodies_created_idx')`,
  );
  db.close();
  const average = (frequency: string) => {
    const sizes = bodies.filter((b) => frequencies.get(b.id) === frequency).map((b) => b.bytes);
    return sizes.reduce((sum, n) => sum + n, 0) / Math.max(1, sizes.length);
  };
  return [
    {
      name: `report_day_tops: one account-day's digest, row text (${days.n} days)`,
      value: days.bytes / days.n,
      unit: "B",
    },
    {
      name: "report_day_tops: one account-day on disk (table + index pages)",
      value: (pages.bytes ?? 0) / days.n,
      unit: "B",
    },
    { name: "report_bodies.data of a daily report", value: average("daily"), unit: "B" },
    { name: "report_bodies.data of a monthly report", value: average("monthly"), unit: "B" },
    {
      name: `report_bodies: one report on disk, all frequencies (${bodies.length} reports)`,
      value: (bodyPages.bytes ?? 0) / Math.max(1, bodies.length),
      unit: "B",
    },
  ];
}

/** The events list's filters, each a query string of `GET /api/events`. */
const LIST_QUERIES: [name: string, query: string][] = [
  ["no filter", ""],
  ["type=hit", "type=hit"],
  ["type=scope_change (0.1 %)", "type=scope_change"],
  ["risk=critical", "risk=critical"],
  ["attack_type=rce", "attack_type=rce"],
  ["host=app7.example.com", "host=app7.example.com"],
  ["host=nope (matches nothing)", "host=nope.example.com"],
  ["one hour mid-month", "from=2026-10-15T10:00:00Z&to=2026-10-15T11:00:00Z"],
];
const LIST_SAMPLES = 40;

/** A cursor as the list hands it out (worker/lib/cursor.ts): after this instant and id. */
const cursorAt = (time: number, id: string) => Buffer.from(`${time}|${id}`).toString("base64url");

/**
 * `GET /api/events` p50/p99 of the Worker's time for each filter, for cursor pages deep in the
 * month (a cursor on day 20, 10 and 2), and for following next_cursor 30 pages from the top.
 */
async function benchEventsList(url: string, headers: Record<string, string>): Promise<BenchResult[]> {
  const timed = async (query: string) => {
    const started = performance.now();
    const res = await fetch(`${url}/api/events?${query}`, { headers });
    const body = (await res.json()) as { events: unknown[]; next_cursor: string | null };
    const wall = performance.now() - started;
    if (res.status !== 200) throw new Error(`GET /api/events?${query}: ${res.status} ${JSON.stringify(body)}`);
    const server = serverTiming(res.headers.get("Server-Timing"), "list");
    return { ms: Number.isNaN(server) ? wall : server, body };
  };
  const results: BenchResult[] = [];
  const measure = async (name: string, queries: () => string) => {
    const times: number[] = [];
    for (let i = 0; i < LIST_SAMPLES; i++) times.push((await timed(queries())).ms);
    const p99 = percentile(times, 99);
    results.push({
      name: `events list, ${name}: p50 ${percentile(times, 50).toFixed(1)} ms, p99`,
      value: p99,
      unit: "ms",
      target: "< 100 ms",
      met: p99 < 100,
    });
  };
  await timed(""); // warm-up
  for (const [name, query] of LIST_QUERIES) await measure(name, () => query);
  const deep = [20, 10, 2].map((day) => cursorAt(Date.parse(`2026-10-${String(day).padStart(2, "0")}T12:00:00Z`), "~"));
  let n = 0;
  await measure("deep cursor pages (days 20, 10, 2)", () => `cursor=${deep[n++ % deep.length]}`);
  await measure("deep cursor pages, type=incident", () => `type=incident&cursor=${deep[n++ % deep.length]}`);
  let cursor: string | null = null;
  const walk: number[] = [];
  for (let page = 0; page < 30; page++) {
    const { ms, body } = await timed(`limit=200${cursor ? `&cursor=${cursor}` : ""}`);
    walk.push(ms);
    cursor = body.next_cursor;
  }
  const p99 = percentile(walk, 99);
  results.push({
    name: "events list, following next_cursor 30 pages of 200: p99",
    value: p99,
    unit: "ms",
    target: "< 100 ms",
    met: p99 < 100,
  });
  return results;
}

export async function benchReport(): Promise<BenchResult[]> {
  const persistTo = mkdtempSync(path.join(tmpdir(), "herald-bench-report-"));
  const token = `hrld_${randomBytes(24).toString("base64url")}`;
  let wrangler: Awaited<ReturnType<typeof startWrangler>> | undefined;
  try {
    prepareLocalDatabase(persistTo);
    executeSql(accountSql(createHash("sha256").update(token).digest("hex")), ["--local", "--persist-to", persistTo]);
    wrangler = await startWrangler(persistTo);
    const url = wrangler.url;
    const nodeTokens: string[] = [];
    for (let i = 0; i < NODES; i++) {
      const res = await fetch(`${url}/api/nodes`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ name: `bench-node-${i}` }),
      });
      if (res.status !== 201) throw new Error(`POST /api/nodes: ${res.status} ${await res.text()}`);
      nodeTokens.push(((await res.json()) as { token: string }).token);
    }
    const raw = rawTable();
    const seedStarted = Date.now();
    const resent = await loadMonth(url, nodeTokens, EVENTS, MONTH.fromMs, MONTH.toMs, raw.keep);
    const seedSeconds = (Date.now() - seedStarted) / 1000;
    raw.flush();
    const rawScans = Array.from({ length: 3 }, () => rawScanMs(raw.db));
    raw.db.close();

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
    const listResults = await benchEventsList(url, headers);
    const d1Results = reportStorageFigures(persistTo);
    const dataMs = median(builds.map((b) => b.server));
    const pdfMs = median(pdfs.map((p) => p.server));
    const withPdfMs = median(builds.map((b, i) => b.wall + (pdfs[i]?.wall ?? 0)));
    const hits = builds[0]?.hits ?? 0;
    const fmt = (n: number) => n.toLocaleString("en-US");
    return [
      {
        name: `load: ${fmt(EVENTS)} events through POST /v1/events (${NODES} nodes, batches of 1,000)`,
        value: seedSeconds,
        unit: "s",
      },
      { name: "load: batches re-sent (a 429/503 or a dropped connection)", value: resent, unit: "requests" },
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
      ...listResults,
      ...d1Results,
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
