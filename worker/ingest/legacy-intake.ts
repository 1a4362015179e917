/**
 * The account object's side of the upgrade from events in D1 (docs/data-plane.md, "Upgrading from
 * events in D1"): rows the cron step (worker/legacy-import.ts) read from `legacy_security_issues`
 * and `legacy_events` are taken into this account's tables and shards through the same shard
 * insert as ingest (rollups counted once per stored row), stored as processed: they were notified,
 * or deliberately not, when they first arrived. Every part is safe to repeat: a crash between this
 * and the D1 delete re-sends the same rows.
 */

import type { Env } from "../env";
import { eventShardObject } from "../events/objects";
import type { ShardInsertRow, StoredShardEvent } from "../events/shard-types";
import type { AccountIngestDO } from "./account-do";
import type { SecurityIssueRow } from "./account-store";
import type { ShardRoute } from "./shard-routing";

/** A security issue as D1 held it, with what its fingerprint and first report tell. */
export interface LegacyIssue {
  fingerprint: string;
  id: string;
  lastEventId: string;
  risk: string;
  title: string;
  host: string;
  path: string;
  vulnType: string;
  method: string | null;
  parameter: string | null;
  discoveredBy: string | null;
  status: "open" | "closed";
  firstSeen: number;
  lastSeen: number;
  closedAt: number | null;
  closedBy: string | null;
}

/** An event as D1 held it (the columns a shard keeps); `seq` is its D1 seq, kept as its account seq. */
export interface LegacyEvent extends Omit<StoredShardEvent, "processed"> {
  /** It was findable by its id alone (`lookup_by_id = 1`): a notification may link to it. */
  findableById: boolean;
}

export interface LegacyBatch {
  issues?: LegacyIssue[];
  events?: LegacyEvent[];
}

export interface LegacyIntakeResult {
  /** Issues written (not taken before). */
  issues: number;
  /** Events stored by this call (the rest were stored already: a repeat, or re-sent since). */
  stored: number;
}

const SCHEMA = [
  // Issues already taken: a repeat must not undo what happened to them since (a reopen, a close).
  `CREATE TABLE IF NOT EXISTS legacy_imported_issues (fingerprint TEXT PRIMARY KEY)`,
];

/** Takes one account's batch; throws (nothing is confirmed) when a shard did not store its rows. */
export async function takeLegacyBatch(
  account: AccountIngestDO,
  sql: SqlStorage,
  batch: LegacyBatch,
): Promise<LegacyIntakeResult> {
  for (const statement of SCHEMA) sql.exec(statement);
  const issues = takeIssues(sql, batch.issues ?? []);
  const stored = await takeEvents(account, sql, batch.events ?? []);
  return { issues, stored };
}

// --- security issues -----------------------------------------------------------------------------

function takeIssues(sql: SqlStorage, issues: LegacyIssue[]): number {
  let taken = 0;
  for (const legacy of issues) {
    if (sql.exec(`SELECT 1 FROM legacy_imported_issues WHERE fingerprint = ?1`, legacy.fingerprint).toArray().length) {
      continue;
    }
    const [existing] = sql
      .exec(`SELECT * FROM security_issues WHERE fingerprint = ?1`, legacy.fingerprint)
      .toArray() as unknown as SecurityIssueRow[];
    const row = mergeIssue(existing, legacy);
    sql.exec(
      `INSERT OR REPLACE INTO security_issues (fingerprint, id, last_event_id, risk, title, host, path, vuln_type,
        method, parameter, discovered_by, status, first_seen, last_seen, closed_at, closed_by)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)`,
      row.fingerprint,
      row.id,
      row.last_event_id,
      row.risk,
      row.title,
      row.host,
      row.path,
      row.vuln_type,
      row.method,
      row.parameter,
      row.discovered_by,
      row.status,
      row.first_seen,
      row.last_seen,
      row.closed_at,
      row.closed_by,
    );
    sql.exec(`INSERT INTO legacy_imported_issues (fingerprint) VALUES (?1)`, legacy.fingerprint);
    taken++;
  }
  return taken;
}

/**
 * The issue as D1 had it, merged with one a node reported again after the upgrade (before the
 * import reached it), by the upsert's own rules (worker/ingest/account-store.ts): first and last
 * seen widen, the latest report sets risk and title, the first one the id, and the latest closing
 * holds unless the issue was seen after it.
 */
export function mergeIssue(existing: SecurityIssueRow | undefined, legacy: LegacyIssue): SecurityIssueRow {
  const imported: SecurityIssueRow = {
    fingerprint: legacy.fingerprint,
    id: legacy.id,
    last_event_id: legacy.lastEventId,
    risk: legacy.risk,
    title: legacy.title,
    host: legacy.host,
    path: legacy.path,
    vuln_type: legacy.vulnType,
    method: legacy.method,
    parameter: legacy.parameter,
    discovered_by: legacy.discoveredBy,
    status: legacy.status,
    first_seen: legacy.firstSeen,
    last_seen: legacy.lastSeen,
    closed_at: legacy.status === "closed" ? legacy.closedAt : null,
    closed_by: legacy.status === "closed" ? legacy.closedBy : null,
  };
  if (!existing) return imported;
  const latest = imported.last_seen > existing.last_seen ? imported : existing;
  const first = imported.first_seen <= existing.first_seen ? imported : existing;
  const closing = [imported, existing]
    .filter((r) => r.status === "closed" && r.closed_at !== null)
    .sort((a, b) => (b.closed_at ?? 0) - (a.closed_at ?? 0))[0];
  const lastSeen = Math.max(imported.last_seen, existing.last_seen);
  const closed = closing !== undefined && lastSeen <= (closing.closed_at ?? 0);
  return {
    ...latest,
    id: first.id,
    discovered_by: first.discovered_by ?? latest.discovered_by,
    method: existing.method ?? imported.method,
    parameter: existing.parameter ?? imported.parameter,
    first_seen: first.first_seen,
    last_seen: lastSeen,
    status: closed ? "closed" : "open",
    closed_at: closed ? (closing?.closed_at ?? null) : null,
    closed_by: closed ? (closing?.closed_by ?? null) : null,
  };
}

// --- events --------------------------------------------------------------------------------------

async function takeEvents(account: AccountIngestDO, sql: SqlStorage, events: LegacyEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  // Before any await: seqs handed out from now on are past every imported one.
  raiseSeqTo(sql, Math.max(...events.map((e) => e.seq)));
  const routes = await account.directory.routes(events.map((e) => ({ id: e.id, occurredAt: e.occurredAt })));
  await account.directory.register(routes, Date.now());
  const byShard = new Map<string, { route: ShardRoute; events: LegacyEvent[] }>();
  events.forEach((event, i) => {
    const route = routes[i] as ShardRoute;
    const group = byShard.get(route.name) ?? { route, events: [] };
    group.events.push(event);
    byShard.set(route.name, group);
  });
  const stored = await Promise.all(
    [...byShard].map(async ([name, group]) => {
      const result = await eventShardObject(account.environment, name).insert({
        rows: group.events.map(shardRow),
        markProcessed: true,
      });
      if (result.full) throw new Error(`legacy import: shard ${name} is full`);
      const seqs = group.events.map((e) => e.seq);
      recordImportedRange(
        sql,
        name,
        group.route.period.start,
        seqs,
        Math.max(...group.events.map((e) => e.receivedAt)),
      );
      const known = account.shardSizes.get(name);
      account.shardSizes.set(name, {
        events: result.events,
        bytes: result.bytes,
        maxSeq: Math.max(known?.maxSeq ?? 0, ...seqs),
        periodStart: group.route.period.start,
      });
      linkFindable(
        sql,
        name,
        group.events.filter((e) => e.findableById),
      );
      return result.rows.filter((r) => r.fresh).length;
    }),
  );
  await account.scheduleAlarm();
  return stored.reduce((a, b) => a + b, 0);
}

/** A legacy event has the stored event's columns: it is inserted as is, already processed. */
function shardRow({ findableById: _findable, ...event }: LegacyEvent): ShardInsertRow {
  return { ...event, processed: true };
}

/** The account seq counter (account-store.ts `meta`), never lowered. */
function raiseSeqTo(sql: SqlStorage, seq: number): void {
  sql.exec(
    `INSERT INTO meta (key, value) VALUES ('seq', ?1) ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)`,
    seq,
  );
}

/**
 * Widens the shard's seq range for replay (account-store.ts `shard_seqs`). Its last write is when
 * the rows arrived, never earlier than a write ingest made: the alarm's sweep looks only at
 * recently written shards, and imported rows are processed already.
 */
function recordImportedRange(sql: SqlStorage, shard: string, periodStart: number, seqs: number[], receivedAt: number) {
  sql.exec(
    `INSERT INTO shard_seqs (shard, period_start, min_seq, max_seq, last_write_at) VALUES (?1, ?2, ?3, ?4, ?5)
     ON CONFLICT (shard) DO UPDATE SET min_seq = min(min_seq, excluded.min_seq),
       max_seq = max(max_seq, excluded.max_seq), last_write_at = max(last_write_at, excluded.last_write_at)`,
    shard,
    periodStart,
    Math.min(...seqs),
    Math.max(...seqs),
    receivedAt,
  );
}

/**
 * Events D1 found by id alone stay findable (`/events/<id>` in notifications already sent). Of two
 * events with the same id, the later one wins, as D1's lookup did.
 */
function linkFindable(sql: SqlStorage, shard: string, events: LegacyEvent[]): void {
  for (const event of events) {
    sql.exec(
      `INSERT INTO linked_events (id, shard, occurred_at) VALUES (?1, ?2, ?3)
       ON CONFLICT (id) DO UPDATE SET shard = excluded.shard, occurred_at = excluded.occurred_at
       WHERE excluded.occurred_at >= linked_events.occurred_at`,
      event.id,
      shard,
      event.occurredAt,
    );
  }
}

// --- the seq counter of a new account object -----------------------------------------------------

/**
 * Starts a new account object's seq counter past every seq D1 handed out: events still waiting
 * in `legacy_events` keep theirs (no collision with events ingested before the import reaches
 * them), and the `disabled_after_seq` markers of the account's integrations (D1 seqs) stay below
 * every event stored from now on. Runs once per object: afterwards the counter exists.
 */
export async function continueLegacySeqs(sql: SqlStorage, env: Pick<Env, "DB">, accountId: string): Promise<void> {
  if (sql.exec(`SELECT 1 FROM meta WHERE key = 'seq'`).toArray().length > 0) return;
  const [tables, markers] = await env.DB.batch([
    env.DB.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'legacy_events'`),
    env.DB.prepare(`SELECT max(disabled_after_seq) AS seq FROM integrations WHERE account_id = ?1`).bind(accountId),
  ]);
  let floor = Number((markers?.results[0] as { seq: number | null } | undefined)?.seq ?? 0);
  if ((tables?.results.length ?? 0) > 0) {
    // The highest seq still stored (the rowid's end: no scan); at least every one this account has.
    const legacy = await env.DB.prepare(`SELECT max(seq) AS seq FROM legacy_events`).first<{ seq: number | null }>();
    floor = Math.max(floor, legacy?.seq ?? 0);
  }
  raiseSeqTo(sql, floor);
}
