/**
 * The SQLite of an AccountIngestDO (docs/data-plane.md#accountingestdo): the account seq, the
 * security issues (one per distinct vulnerability), the events notifications link to, each shard's
 * seq range, the rollups archived from dropped shards, node counters. All methods are synchronous:
 * the object runs one event at a time, so a read-check-write here never interleaves.
 */
import type { NodeEvent } from "../domain/events";

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS security_issues (
    fingerprint TEXT PRIMARY KEY, id TEXT NOT NULL, last_event_id TEXT NOT NULL, risk TEXT NOT NULL,
    title TEXT NOT NULL, host TEXT NOT NULL, path TEXT NOT NULL, vuln_type TEXT NOT NULL,
    method TEXT, parameter TEXT, discovered_by TEXT,
    status TEXT NOT NULL DEFAULT 'open', first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
    closed_at INTEGER, closed_by TEXT)`,
  `CREATE INDEX IF NOT EXISTS security_issues_list_idx ON security_issues (last_seen, fingerprint)`,
  `CREATE INDEX IF NOT EXISTS security_issues_first_seen_idx ON security_issues (first_seen)`,
  `CREATE INDEX IF NOT EXISTS security_issues_id_idx ON security_issues (id)`,
  // Whether a security_issue event stored but not yet fanned out is to be notified: decided against
  // the issues as they were before its upsert, kept until its fan-out succeeded (a re-send or the
  // alarm finishing it must not compare it with the issue it created itself).
  `CREATE TABLE IF NOT EXISTS issue_decisions (occurred_at INTEGER NOT NULL, id TEXT NOT NULL,
    notify INTEGER NOT NULL, PRIMARY KEY (occurred_at, id))`,
  `CREATE TABLE IF NOT EXISTS linked_events (id TEXT PRIMARY KEY, shard TEXT NOT NULL, occurred_at INTEGER NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS linked_events_shard_idx ON linked_events (shard)`,
  `CREATE TABLE IF NOT EXISTS shard_seqs (shard TEXT PRIMARY KEY, period_start INTEGER NOT NULL,
    min_seq INTEGER NOT NULL, max_seq INTEGER NOT NULL, last_write_at INTEGER NOT NULL)`,
  // Sizes not pushed to the D1 directory yet (worker/ingest/pending-shard-sizes.ts).
  `CREATE TABLE IF NOT EXISTS shard_sizes (shard TEXT PRIMARY KEY, period_start INTEGER NOT NULL,
    events INTEGER NOT NULL, bytes INTEGER NOT NULL, max_seq INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS archived_rollups (hour INTEGER NOT NULL, event_type TEXT NOT NULL,
    dimension TEXT NOT NULL, key TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (hour, event_type, dimension, key))`,
  `CREATE TABLE IF NOT EXISTS node_counters (node_id TEXT PRIMARY KEY, events INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL, flushed_at INTEGER NOT NULL DEFAULT 0)`,
];

export const SECURITY_ISSUE_STATUSES = ["open", "closed"] as const;

export interface SecurityIssueRow {
  fingerprint: string;
  id: string;
  last_event_id: string;
  risk: string;
  title: string;
  host: string;
  path: string;
  vuln_type: string;
  method: string | null;
  parameter: string | null;
  discovered_by: string | null;
  status: (typeof SECURITY_ISSUE_STATUSES)[number];
  first_seen: number;
  last_seen: number;
  closed_at: number | null;
  closed_by: string | null;
}

export interface IssueQuery {
  status: "open" | "closed" | "all";
  risk?: string;
  limit: number;
  /** The last row of the previous page (last_seen, fingerprint), newest first. */
  after?: { lastSeen: number; fingerprint: string };
}

export interface ShardSeqRow {
  shard: string;
  period_start: number;
  min_seq: number;
  max_seq: number;
  last_write_at: number;
}

/** An hourly counter (as EventShardDO's `counters()` gives it). */
export interface RollupCount {
  hour: number;
  eventType: string;
  dimension: string;
  key: string;
  count: number;
}

type SecurityIssueEvent = Extract<NodeEvent, { type: "security_issue" }>;

const RISK_RANK: Record<string, number> = { critical: 5, high: 4, medium: 3, low: 2, info: 1 };
const rank = (risk: string | null | undefined) => RISK_RANK[risk ?? ""] ?? 1;

/** What makes two reports the same issue: vuln type, host (any case), method, path, parameter. */
export function issueFingerprint(event: SecurityIssueEvent): string {
  return [event.vuln_type, event.host.toLowerCase(), event.method, event.path, event.parameter ?? ""].join("|");
}

/** A closed issue stays closed when reported as seen before it was closed (late or replayed reports). */
const STILL_CLOSED = `status = 'closed' AND excluded.last_seen <= closed_at`;

/** One row per distinct issue; the latest report sets risk and title; seen after closing, it reopens. */
const UPSERT_ISSUE = `INSERT INTO security_issues (fingerprint, id, last_event_id, risk, title, host, path, vuln_type,
  method, parameter, discovered_by, status, first_seen, last_seen)
VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'open', ?11, ?11)
ON CONFLICT (fingerprint) DO UPDATE SET
  risk = CASE WHEN excluded.last_seen >= last_seen THEN excluded.risk ELSE risk END,
  title = CASE WHEN excluded.last_seen >= last_seen THEN excluded.title ELSE title END,
  last_event_id = CASE WHEN excluded.last_seen >= last_seen THEN excluded.last_event_id ELSE last_event_id END,
  first_seen = min(first_seen, excluded.first_seen),
  last_seen = max(last_seen, excluded.last_seen),
  status = CASE WHEN ${STILL_CLOSED} THEN 'closed' ELSE 'open' END,
  closed_at = CASE WHEN ${STILL_CLOSED} THEN closed_at END,
  closed_by = CASE WHEN ${STILL_CLOSED} THEN closed_by END`;

/** Seqs reserved per write of `meta.seq`; a restart skips what is left of the block. */
export const SEQ_BLOCK = 10_000;

export class AccountStore {
  constructor(private readonly sql: SqlStorage) {
    for (const statement of SCHEMA) sql.exec(statement);
  }

  private rows<T>(query: string, ...bindings: unknown[]): T[] {
    return this.sql.exec(query, ...bindings).toArray() as T[];
  }

  // --- the account seq ---------------------------------------------------------------------------

  /** The last seq handed out (every event written so far has a seq at most this). */
  lastSeq(): number {
    this.seqs ??= this.loadSeqs();
    return this.seqs.last;
  }

  /**
   * Hands out `count` seqs: the first of them is returned. Durable before any shard write uses them:
   * `meta.seq` is the end of a reserved block, written only when a block runs out (not once per
   * group: each write is a commit on the ingest path). A restart continues after the whole block.
   */
  allocateSeqs(count: number): number {
    this.seqs ??= this.loadSeqs();
    const first = this.seqs.last + 1;
    const last = first + count - 1;
    if (last > this.seqs.reserved) {
      this.seqs.reserved = last + SEQ_BLOCK;
      this.sql.exec(
        `INSERT INTO meta (key, value) VALUES ('seq', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        this.seqs.reserved,
      );
    }
    this.seqs.last = last;
    return first;
  }

  private seqs: { last: number; reserved: number } | null = null;

  private loadSeqs(): { last: number; reserved: number } {
    const stored = this.rows<{ value: number }>(`SELECT value FROM meta WHERE key = 'seq'`)[0]?.value ?? 0;
    return { last: stored, reserved: stored };
  }

  // --- security issues ---------------------------------------------------------------------------

  /**
   * Whether this report of an issue is news: no issue with its fingerprint yet, a higher risk than
   * the open one, or seen after the issue was closed as fixed. Compared with the issues as they are
   * now (call before `upsertIssues` for the request that carries it).
   */
  isNewIssue(event: SecurityIssueEvent, occurredAt: number): boolean {
    const [known] = this.rows<Pick<SecurityIssueRow, "risk" | "status" | "closed_at">>(
      `SELECT risk, status, closed_at FROM security_issues WHERE fingerprint = ?1`,
      issueFingerprint(event),
    );
    if (!known) return true;
    if (known.status === "open") return rank(known.risk) < rank(event.risk);
    return occurredAt > (known.closed_at ?? 0);
  }

  /** Takes these reports into the issues, oldest first (as the D1 upsert did). */
  upsertIssues(reports: { event: SecurityIssueEvent; occurredAt: number }[]): void {
    const ordered = [...reports].sort((a, b) => a.occurredAt - b.occurredAt);
    for (const { event, occurredAt } of ordered) {
      this.sql.exec(
        UPSERT_ISSUE,
        issueFingerprint(event),
        event.id,
        event.risk,
        event.title,
        event.host,
        event.path,
        event.vuln_type,
        event.method,
        event.parameter ?? null,
        event.discovered_by ?? null,
        occurredAt,
      );
    }
  }

  rememberDecision(occurredAt: number, id: string, notify: boolean): void {
    this.sql.exec(
      `INSERT OR REPLACE INTO issue_decisions (occurred_at, id, notify) VALUES (?1, ?2, ?3)`,
      occurredAt,
      id,
      notify ? 1 : 0,
    );
  }

  decision(occurredAt: number, id: string): boolean | null {
    const [row] = this.rows<{ notify: number }>(
      `SELECT notify FROM issue_decisions WHERE occurred_at = ?1 AND id = ?2`,
      occurredAt,
      id,
    );
    return row ? row.notify === 1 : null;
  }

  forgetDecisions(keys: [id: string, occurredAt: number][]): void {
    for (const [id, occurredAt] of keys) {
      this.sql.exec(`DELETE FROM issue_decisions WHERE occurred_at = ?1 AND id = ?2`, occurredAt, id);
    }
  }

  listIssues(query: IssueQuery): SecurityIssueRow[] {
    const where: string[] = [];
    const bindings: unknown[] = [];
    if (query.status !== "all") where.push(`status = ?${bindings.push(query.status)}`);
    if (query.risk) where.push(`risk = ?${bindings.push(query.risk)}`);
    if (query.after) {
      const at = bindings.push(query.after.lastSeen);
      const fp = bindings.push(query.after.fingerprint);
      where.push(`(last_seen < ?${at} OR (last_seen = ?${at} AND fingerprint < ?${fp}))`);
    }
    const limit = bindings.push(query.limit);
    return this.rows<SecurityIssueRow>(
      `SELECT * FROM security_issues ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY last_seen DESC, fingerprint DESC LIMIT ?${limit}`,
      ...bindings,
    );
  }

  /** Closes (with who and when) or reopens the issue first reported by event `id`; null when unknown. */
  setIssueStatus(id: string, status: "open" | "closed", at: number, by: string | null): SecurityIssueRow | null {
    const closing = status === "closed";
    return (
      this.rows<SecurityIssueRow>(
        `UPDATE security_issues SET status = ?2, closed_at = ?3, closed_by = ?4 WHERE id = ?1 RETURNING *`,
        id,
        status,
        closing ? at : null,
        closing ? by : null,
      )[0] ?? null
    );
  }

  /** New issues (first seen in [from, to)) by risk; `currentFrom` splits current from previous. */
  newIssuesByRisk(from: number, currentFrom: number, to: number) {
    return this.rows<{ risk: string; current: number; total: number }>(
      `SELECT risk, first_seen >= ?2 AS current, count(*) AS total FROM security_issues
       WHERE first_seen >= ?1 AND first_seen < ?3 GROUP BY risk, current`,
      from,
      currentFrom,
      to,
    );
  }

  /** The issues first seen in [from, to), most severe first. */
  newIssues(from: number, to: number, limit: number): SecurityIssueRow[] {
    return this.rows<SecurityIssueRow>(
      `SELECT * FROM security_issues WHERE first_seen >= ?1 AND first_seen < ?2
       ORDER BY CASE risk WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END,
         first_seen LIMIT ?3`,
      from,
      to,
      limit,
    );
  }

  /** Issues open now that were first seen before `before`, by risk. */
  openIssuesByRisk(before: number) {
    return this.rows<{ risk: string; total: number }>(
      `SELECT risk, count(*) AS total FROM security_issues WHERE status = 'open' AND first_seen < ?1 GROUP BY risk`,
      before,
    );
  }

  // --- linked events, shard ranges, archive ------------------------------------------------------

  link(rows: { id: string; shard: string; occurredAt: number }[]): void {
    for (const row of rows) {
      this.sql.exec(
        `INSERT OR REPLACE INTO linked_events (id, shard, occurred_at) VALUES (?1, ?2, ?3)`,
        row.id,
        row.shard,
        row.occurredAt,
      );
    }
  }

  findLinked(id: string): { shard: string; occurredAt: number } | null {
    const [row] = this.rows<{ shard: string; occurred_at: number }>(
      `SELECT shard, occurred_at FROM linked_events WHERE id = ?1`,
      id,
    );
    return row ? { shard: row.shard, occurredAt: row.occurred_at } : null;
  }

  /** Widens a shard's seq range by a write of seqs [minSeq, maxSeq]. */
  recordShardWrite(shard: string, periodStart: number, minSeq: number, maxSeq: number, at: number): void {
    this.sql.exec(
      `INSERT INTO shard_seqs (shard, period_start, min_seq, max_seq, last_write_at) VALUES (?1, ?2, ?3, ?4, ?5)
       ON CONFLICT (shard) DO UPDATE SET min_seq = min(min_seq, excluded.min_seq),
         max_seq = max(max_seq, excluded.max_seq), last_write_at = excluded.last_write_at`,
      shard,
      periodStart,
      minSeq,
      maxSeq,
      at,
    );
  }

  /** Shards whose seq range overlaps (afterSeq, untilSeq], oldest seqs first. */
  shardsOverlapping(afterSeq: number, untilSeq: number): ShardSeqRow[] {
    return this.rows<ShardSeqRow>(
      `SELECT * FROM shard_seqs WHERE max_seq > ?1 AND min_seq <= ?2 ORDER BY min_seq`,
      afterSeq,
      untilSeq,
    );
  }

  /** Shards written since `since` (the alarm looks for unfinished rows in them). */
  shardsWrittenSince(since: number): ShardSeqRow[] {
    return this.rows<ShardSeqRow>(`SELECT * FROM shard_seqs WHERE last_write_at >= ?1`, since);
  }

  /**
   * Keeps a dropped shard's low-cardinality counters and forgets the shard. Once only: a drop
   * retried after its shard was forgotten here (the destroy failed) archives nothing again.
   */
  archiveAndForget(shard: string, counters: RollupCount[]): void {
    const known = this.rows(`SELECT 1 FROM shard_seqs WHERE shard = ?1`, shard).length > 0;
    for (const c of known ? counters : []) {
      this.sql.exec(
        `INSERT INTO archived_rollups (hour, event_type, dimension, key, count) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT DO UPDATE SET count = count + excluded.count`,
        c.hour,
        c.eventType,
        c.dimension,
        c.key,
        c.count,
      );
    }
    this.sql.exec(`DELETE FROM linked_events WHERE shard = ?1`, shard);
    this.sql.exec(`DELETE FROM shard_seqs WHERE shard = ?1`, shard);
  }

  archivedRollups(fromHour: number, toHour: number): RollupCount[] {
    return this.rows<RollupCount>(
      `SELECT hour, event_type AS eventType, dimension, key, count FROM archived_rollups WHERE hour >= ?1 AND hour < ?2`,
      fromHour,
      toHour,
    );
  }

  // --- node counters -----------------------------------------------------------------------------

  /** Starts a node's counters from D1's (when the object first sees it): later writes are absolute. */
  seedNode(nodeId: string, events: number, lastSeenAt: number | null): void {
    this.sql.exec(
      `INSERT OR IGNORE INTO node_counters (node_id, events, last_seen_at, flushed_at) VALUES (?1, ?2, ?3, ?3)`,
      nodeId,
      events,
      lastSeenAt ?? 0,
    );
  }

  /** Adds a node's fresh events and its last request; returns the absolute values. */
  countNode(nodeId: string, fresh: number, seenAt: number): { events: number; lastSeenAt: number; flushedAt: number } {
    const [row] = this.rows<{ events: number; last_seen_at: number; flushed_at: number }>(
      `INSERT INTO node_counters (node_id, events, last_seen_at) VALUES (?1, ?2, ?3)
       ON CONFLICT (node_id) DO UPDATE SET events = events + excluded.events,
         last_seen_at = max(last_seen_at, excluded.last_seen_at)
       RETURNING events, last_seen_at, flushed_at`,
      nodeId,
      fresh,
      seenAt,
    );
    return { events: row?.events ?? fresh, lastSeenAt: row?.last_seen_at ?? seenAt, flushedAt: row?.flushed_at ?? 0 };
  }

  /** Node counters not written to D1 since `before`. */
  nodesToFlush(before: number) {
    return this.rows<{ node_id: string; events: number; last_seen_at: number }>(
      `SELECT node_id, events, last_seen_at FROM node_counters WHERE flushed_at < ?1 AND flushed_at < last_seen_at`,
      before,
    );
  }

  markNodeFlushed(nodeId: string, at: number): void {
    this.sql.exec(`UPDATE node_counters SET flushed_at = ?2 WHERE node_id = ?1`, nodeId, at);
  }
}
