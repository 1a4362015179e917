/**
 * The upgrade from events in D1 (docs/data-plane.md, "Upgrading from events in D1"): migration
 * 0013 renamed `events` and `security_issues` to `legacy_events` and `legacy_security_issues`;
 * this minute cron step moves a bounded batch of their rows into the account objects per run —
 * the issues first, then the events in seq order — and deletes them from D1 only once the account
 * object confirmed them. When both tables are empty it drops them (on a fresh install at the first
 * run). A run cut short anywhere leaves rows that the next run moves again, harmlessly.
 */
import type { StoredEventType } from "./db/schema";
import type { Env } from "./env";
import { accountIngestObject } from "./ingest/account-object";
import type { SecurityIssueRow } from "./ingest/account-store";
import type { LegacyEvent, LegacyIssue } from "./ingest/legacy-intake";
import { DAY_MS } from "./lib/time";

/** Rows (issues and events together) moved per run unless LEGACY_IMPORT_BATCH says otherwise. */
const DEFAULT_LEGACY_IMPORT_BATCH = 5000;
const LEGACY_TABLES = ["legacy_security_issues", "legacy_events"] as const;
/** Account objects called side by side, and at most per run. */
const ACCOUNTS_AT_ONCE = 8;
const ACCOUNTS_PER_RUN = 200;
/**
 * Event data read per run: an event may be up to 1 MiB (the ingest body limit), and a D1 result
 * holds at most 50 MB; the account objects get it in calls of this size at most.
 */
const READ_BYTES = 8 * 1024 * 1024;

interface LegacyImportOptions {
  now?: number;
  /** Rows per run (LEGACY_IMPORT_BATCH). */
  batch?: number;
  /** The legacy tables left, when the caller has just read them. */
  tables?: Set<string>;
  /** Event data read per run (READ_BYTES). */
  readBytes?: number;
  /** Called after the account objects confirmed a batch, before its rows leave D1 (tests inject a crash here). */
  beforeDelete?: (table: (typeof LEGACY_TABLES)[number]) => Promise<void> | void;
}

export interface LegacyImportRun {
  /** Security issues and events taken by the account objects and deleted from D1. */
  issues: number;
  events: number;
  /** Events past the retention: deleted without being imported. */
  expired: number;
  /** Accounts whose rows could not be taken this run (they stay in D1 for the next one). */
  failedAccounts: number;
  /** Both tables are gone. */
  done: boolean;
}

function legacyImportBatch(env: Pick<Env, "LEGACY_IMPORT_BATCH">): number {
  const value = Number(env.LEGACY_IMPORT_BATCH);
  return Number.isInteger(value) && value > 0 ? value : DEFAULT_LEGACY_IMPORT_BATCH;
}

async function legacyTablesLeft(d1: D1Database): Promise<Set<string>> {
  const { results } = await d1
    .prepare(
      `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('legacy_events', 'legacy_security_issues')`,
    )
    .all<{ name: string }>();
  return new Set(results.map((r) => r.name));
}

/** One run: at most `batch` rows moved; the tables dropped once both are empty. */
export async function importLegacyEvents(env: Env, options: LegacyImportOptions = {}): Promise<LegacyImportRun> {
  const run: LegacyImportRun = { issues: 0, events: 0, expired: 0, failedAccounts: 0, done: false };
  const tables = options.tables ?? (await legacyTablesLeft(env.DB));
  if (tables.size === 0) return { ...run, done: true };
  const batch = options.batch ?? legacyImportBatch(env);
  let room = batch;
  let issuesLeft = false;

  if (tables.has("legacy_security_issues")) {
    const issues = await readIssues(env.DB, tables.has("legacy_events"), room);
    room -= issues.length;
    const taken = await sendByAccount(env, issues, (rows) => ({ issues: rows.map((r) => r.issue) }), run);
    await options.beforeDelete?.("legacy_security_issues");
    await deleteIssues(env.DB, taken);
    run.issues = taken.length;
    issuesLeft = room === 0 || taken.length < issues.length;
  }

  // Events only once every issue moved: an issue is in its account object before any of its reports.
  if (!issuesLeft && tables.has("legacy_events")) {
    const days = Number(env.EVENT_RETENTION_DAYS);
    const cutoff = (options.now ?? Date.now()) - (Number.isFinite(days) && days > 0 ? days : 90) * DAY_MS;
    const rows = await readEvents(env.DB, room, options.readBytes ?? READ_BYTES);
    const expired = rows.filter((r) => r.event.occurredAt < cutoff);
    const kept = rows.filter((r) => r.event.occurredAt >= cutoff);
    const taken = await sendByAccount(env, kept, (group) => ({ events: group.map((r) => r.event) }), run);
    await options.beforeDelete?.("legacy_events");
    await deleteEvents(
      env.DB,
      [...expired, ...taken].map((r) => r.event.seq),
    );
    run.events = taken.length;
    run.expired = expired.length;
  }

  if (await bothEmpty(env.DB, tables)) {
    await env.DB.batch(LEGACY_TABLES.map((table) => env.DB.prepare(`DROP TABLE IF EXISTS ${table}`)));
    run.done = true;
  }
  return run;
}

/** The minute cron step (worker/scheduled.ts): logs what each run moved while there is anything. */
export async function legacyImportStep(_controller: ScheduledController, env: Env): Promise<void> {
  const tables = await legacyTablesLeft(env.DB);
  if (tables.size === 0) return;
  const run = await importLegacyEvents(env, { tables });
  console.log("legacy import", run);
}

interface LegacyImportStatus {
  inProgress: boolean;
  securityIssuesRemaining: number;
  /** The span of seqs still in `legacy_events`: exact while they are contiguous, never less than the rows. */
  eventsRemainingAtMost: number;
}

/** For GET /api/health: cheap (no scan of the events), so it can be polled. */
export async function legacyImportStatus(d1: D1Database): Promise<LegacyImportStatus> {
  const tables = await legacyTablesLeft(d1);
  const status: LegacyImportStatus = {
    inProgress: tables.size > 0,
    securityIssuesRemaining: 0,
    eventsRemainingAtMost: 0,
  };
  if (tables.has("legacy_security_issues")) {
    const row = await d1.prepare(`SELECT count(*) AS n FROM legacy_security_issues`).first<{ n: number }>();
    status.securityIssuesRemaining = row?.n ?? 0;
  }
  if (tables.has("legacy_events")) {
    const row = await d1
      .prepare(`SELECT coalesce(max(seq) - min(seq) + 1, 0) AS n FROM legacy_events`)
      .first<{ n: number }>();
    status.eventsRemainingAtMost = row?.n ?? 0;
  }
  return status;
}

// --- D1 ------------------------------------------------------------------------------------------

interface IssueRow {
  accountId: string;
  issue: LegacyIssue;
}
interface EventRow {
  accountId: string;
  event: LegacyEvent;
}

/** `method` and `parameter` are read from the fingerprint (methodAndParameter). */
interface RawIssue extends Omit<SecurityIssueRow, "method" | "parameter"> {
  account_id: string;
}

/** `discovered_by` was only in the reporting event: read from the first report while D1 still has it. */
const DISCOVERED_BY = `(SELECT e.data->>'discovered_by' FROM legacy_events AS e
  WHERE e.account_id = si.account_id AND e.id = si.id AND e.lookup_by_id = 1 LIMIT 1)`;

async function readIssues(d1: D1Database, eventsLeft: boolean, limit: number): Promise<IssueRow[]> {
  if (limit <= 0) return [];
  const { results } = await d1
    .prepare(
      `SELECT si.account_id, si.fingerprint, si.id, si.last_event_id, si.risk, si.title, si.host, si.path,
        si.vuln_type, si.status, si.first_seen, si.last_seen, si.closed_at, si.closed_by,
        ${eventsLeft ? DISCOVERED_BY : "NULL"} AS discovered_by
      FROM legacy_security_issues AS si ORDER BY si.account_id, si.fingerprint LIMIT ?1`,
    )
    .bind(limit)
    .all<RawIssue>();
  return results.map((r) => {
    const issue: LegacyIssue = {
      fingerprint: r.fingerprint,
      id: r.id,
      lastEventId: r.last_event_id,
      risk: r.risk,
      title: r.title,
      host: r.host,
      path: r.path,
      vulnType: r.vuln_type,
      ...methodAndParameter(r),
      discoveredBy: r.discovered_by,
      status: r.status,
      firstSeen: r.first_seen,
      lastSeen: r.last_seen,
      closedAt: r.closed_at,
      closedBy: r.closed_by,
    };
    return { accountId: r.account_id, issue };
  });
}

/**
 * D1 kept method and parameter only inside the fingerprint
 * `<vuln_type>|<lower(host)>|<METHOD>|<path>|<parameter>`: vuln type, host and path are known, and
 * a method has no `|`, so the split is exact.
 */
export function methodAndParameter(issue: { fingerprint: string; vuln_type: string; host: string; path: string }): {
  method: string | null;
  parameter: string | null;
} {
  const head = `${issue.vuln_type}|${issue.host.toLowerCase()}|`;
  if (!issue.fingerprint.toLowerCase().startsWith(head.toLowerCase())) return { method: null, parameter: null };
  const rest = issue.fingerprint.slice(head.length);
  const bar = rest.indexOf("|");
  const pathPart = `|${issue.path}|`;
  if (bar < 0 || !rest.slice(bar).startsWith(pathPart)) return { method: null, parameter: null };
  const parameter = rest.slice(bar + pathPart.length);
  return { method: rest.slice(0, bar), parameter: parameter === "" ? null : parameter };
}

interface RawEvent {
  seq: number;
  account_id: string;
  id: string;
  node_id: string | null;
  type: StoredEventType;
  system_type: string | null;
  occurred_at: number;
  received_at: number;
  risk: string | null;
  attack_type: string | null;
  host: string | null;
  path: string | null;
  remote_addr: string | null;
  remote_country: string | null;
  block_status: string | null;
  data: string;
  lookup_by_id: number;
}

async function readEvents(d1: D1Database, limit: number, readBytes: number): Promise<EventRow[]> {
  // Cut at `readBytes` of event data (the row that crosses it included, so a run always moves one).
  const { results } = await d1
    .prepare(
      `SELECT * FROM (
        SELECT seq, account_id, id, node_id, type, system_type, occurred_at, received_at, risk, attack_type, host,
          path, remote_addr, remote_country, block_status, data, lookup_by_id,
          sum(length(CAST(data AS BLOB))) OVER (ORDER BY seq) - length(CAST(data AS BLOB)) AS bytes_before
        FROM (SELECT * FROM legacy_events ORDER BY seq LIMIT ?1)
      ) WHERE bytes_before < ?2 ORDER BY seq`,
    )
    .bind(limit, readBytes)
    .all<RawEvent>();
  return results.map((r) => {
    const event: LegacyEvent = {
      seq: r.seq,
      id: r.id,
      occurredAt: r.occurred_at,
      receivedAt: r.received_at,
      nodeId: r.node_id,
      type: r.type,
      systemType: r.system_type,
      risk: r.risk,
      attackType: r.attack_type,
      host: r.host,
      path: r.path,
      remoteAddr: r.remote_addr,
      remoteCountry: r.remote_country,
      blockStatus: r.block_status,
      data: r.data,
      findableById: r.lookup_by_id === 1,
    };
    return { accountId: r.account_id, event };
  });
}

/**
 * Hands each account's rows to its account object, a few accounts at a time and at most
 * ACCOUNTS_PER_RUN of them (one call each: a run stays far below a Worker's subrequest limit);
 * answers the rows the objects confirmed. Rows of accounts past the cap wait for the next run; an
 * account that failed keeps its rows in D1 (logged, counted in the run).
 */
async function sendByAccount<R extends { accountId: string }>(
  env: Env,
  rows: R[],
  batchOf: (rows: R[]) => Parameters<ReturnType<typeof accountIngestObject>["importLegacy"]>[0],
  run: LegacyImportRun,
): Promise<R[]> {
  const byAccount = groupByAccount(rows, (row) => row);
  const accounts = [...byAccount].slice(0, ACCOUNTS_PER_RUN);
  const taken: R[] = [];
  for (let i = 0; i < accounts.length; i += ACCOUNTS_AT_ONCE) {
    const slice = accounts.slice(i, i + ACCOUNTS_AT_ONCE);
    const results = await Promise.allSettled(
      slice.map(([accountId, group]) => accountIngestObject(env, accountId).importLegacy(batchOf(group))),
    );
    results.forEach((result, k) => {
      const [accountId, group] = slice[k] as [string, R[]];
      if (result.status === "fulfilled") {
        taken.push(...group);
        return;
      }
      run.failedAccounts++;
      console.error("legacy import: an account's rows were not taken", { accountId, error: String(result.reason) });
    });
  }
  return taken;
}

function groupByAccount<R extends { accountId: string }, T>(rows: R[], pick: (row: R) => T): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const group = groups.get(row.accountId);
    if (group) group.push(pick(row));
    else groups.set(row.accountId, [pick(row)]);
  }
  return groups;
}

async function deleteIssues(d1: D1Database, rows: IssueRow[]): Promise<void> {
  const byAccount = groupByAccount(rows, (row) => row.issue.fingerprint);
  if (byAccount.size === 0) return;
  await d1.batch(
    [...byAccount].map(([accountId, fingerprints]) =>
      d1
        .prepare(
          `DELETE FROM legacy_security_issues WHERE account_id = ?1 AND fingerprint IN (SELECT value FROM json_each(?2))`,
        )
        .bind(accountId, JSON.stringify(fingerprints)),
    ),
  );
}

async function deleteEvents(d1: D1Database, seqs: number[]): Promise<void> {
  if (seqs.length === 0) return;
  await d1
    .prepare(`DELETE FROM legacy_events WHERE seq IN (SELECT value FROM json_each(?1))`)
    .bind(JSON.stringify(seqs))
    .run();
}

async function bothEmpty(d1: D1Database, tables: Set<string>): Promise<boolean> {
  const present = LEGACY_TABLES.filter((t) => tables.has(t));
  const results = await d1.batch(present.map((t) => d1.prepare(`SELECT EXISTS (SELECT 1 FROM ${t}) AS rows`)));
  return results.every((r) => (r.results[0] as { rows: number } | undefined)?.rows === 0);
}
