import type { NodeEvent } from "../domain/events";
import type { NotifiableEvent } from "../domain/notify-build";
import { HOUR_MS } from "../lib/time";
import { GroupCommit } from "./group-commit";
import {
  type KnownNode,
  type NodeState,
  type NodeStateRow,
  nodeStateAfterWrite,
  nodeStateFrom,
  requestsInWindowSql,
  windowStartOf,
} from "./node-auth";

/**
 * The storage path of `POST /v1/events`: everything a request writes goes into ONE atomic
 * D1 batch. Rows travel as a JSON array bound to a single parameter and are unpacked by
 * `json_each` inside SQLite, so a batch of 1000 events costs a handful of statements instead
 * of hundreds of 100-parameter chunks (see the README's benchmark).
 *
 * Security issues are derived in the same batch from the rows this request actually inserted
 * (`ingest_id` = this request's random id), rollups and node counters at the end of the
 * transaction from all rows inserted since the last one (countNewEvents) — never from the request
 * body: a replayed event is ignored by the insert and therefore never counts twice.
 */

/** D1 allows 2 MB per value; stay well below so a 1 MiB body with escaping always fits. */
const MAX_JSON_PARAM_BYTES = 512 * 1024;

/** This isolate's ingest writes: concurrent requests share one transaction (see group-commit.ts). */
const ingestWrites = new GroupCommit(undefined, countNewEvents);

export interface PreparedEvent {
  event: NodeEvent;
  occurredAt: number;
  /** Does any enabled integration of the account subscribe to it? */
  notify: boolean;
  /**
   * May any target want it, a disabled one included (worker/outbox/fan-out.ts anyTargetMayWant)? Then, when it is
   * a re-send never queued, the write reads it back for fan-out.
   */
  checkPending: boolean;
}

export interface IngestWrite {
  /** The node as the caller knows it: its `targets.version` decided every `notify` flag. */
  node: KnownNode;
  receivedAt: number;
  events: PreparedEvent[];
  /** The node's requests per rate window. */
  limit: number;
  /** False when re-writing a request already counted (a retry with fresh targets). */
  countRequest: boolean;
}

export interface IngestWriteResult {
  accepted: number;
  /** Stored events whose notifications have not been queued yet (new, or re-sent ones never queued). */
  pending: NotifiableEvent[];
  /**
   * The node right after the write. Nothing was written unless it is active, within its limit and
   * `targets` is null (the caller's targets were current); otherwise the caller refuses or retries.
   */
  state: NodeState | null;
}

/** A random positive id distinguishing this request's rows (53 bits: collisions are irrelevant). */
function newIngestId(): number {
  const words = crypto.getRandomValues(new Uint32Array(2));
  return ((words[0] ?? 0) & 0x1fffff) * 0x100000000 + (words[1] ?? 0) + 1;
}

/** The column values, in the order INSERT_EVENTS reads them. */
function rowOf(prepared: PreparedEvent): unknown[] {
  const e = prepared.event;
  const hitLike = e.type === "hit" || e.type === "incident";
  return [
    e.id,
    e.type,
    prepared.occurredAt,
    e.type === "security_issue" ? e.risk : null,
    hitLike ? e.attack_type : null,
    e.type === "scope_change" ? null : e.host,
    e.type === "scope_change" ? null : e.path,
    hitLike ? e.remote_addr : null,
    hitLike ? (e.remote_country ?? null) : null,
    hitLike ? e.block_status : null,
    prepared.notify ? 1 : 0,
    e,
  ];
}

/**
 * Whether node ?2 of account ?1 may write now: not revoked, within its limit ?7 of requests in the
 * window starting ?6 (this request counted), and the account's integrations still at version ?8 —
 * the version the request's `notify` flags were computed from. Checked inside the write
 * transaction, so a cached node (node-auth.ts) is exactly as safe as one read just before.
 */
const WRITE_ALLOWED = `(SELECT n.revoked_at IS NULL AND a.integrations_version = ?8 AND ${requestsInWindowSql("?6")} <= ?7
  FROM nodes AS n JOIN accounts AS a ON a.id = n.account_id WHERE n.id = ?2 AND n.account_id = ?1)`;

/**
 * Duplicates (same account, occurred_at and id: a re-sent event) are ignored by events_key_idx.
 * Hits that no enabled integration wants are the bulk of the traffic and are never linked to, so
 * they stay out of the index on the id alone (lookup_by_id = 0, see the schema).
 */
const INSERT_EVENTS = `INSERT OR IGNORE INTO events (account_id, id, node_id, type, occurred_at, received_at, risk,
  attack_type, host, path, remote_addr, remote_country, block_status, data, ingest_id, notified_at, lookup_by_id)
SELECT ?1, r.value->>0, ?2, r.value->>1, r.value->>2, ?3, r.value->>3, r.value->>4, r.value->>5, r.value->>6,
  r.value->>7, r.value->>8, r.value->>9, r.value->11, ?4, CASE WHEN r.value->>10 = 1 THEN NULL ELSE ?3 END,
  r.value->>10 = 1 OR r.value->>1 <> 'hit'
FROM jsonb_each(?5) AS r WHERE ${WRITE_ALLOWED}`;

/**
 * The events named by ?2, a JSON array of [id, occurred_at] keys, in account ?1: one events_key_idx
 * lookup per key. CROSS JOIN pins that loop order (left to itself the planner may scan the
 * account's events and probe the key list: cost growing with the table, not the batch).
 */
const BY_KEYS = `jsonb_each(?2) AS k CROSS JOIN events AS ev
  ON ev.account_id = ?1 AND ev.occurred_at = k.value->>1 AND ev.id = k.value->>0`;

/** The rows of this batch that this request inserted; ?3 ingest id. */
const FRESH = `SELECT ev.* FROM ${BY_KEYS} WHERE ev.ingest_id = ?3`;

/** The dimensions of event_rollups (documented in worker/db/schema.ts). */
const DIMENSIONS = [
  "total",
  "attack_type",
  "block_status",
  "host",
  "path",
  "remote_addr",
  "country",
  "risk",
  "scope_change",
];

/** Node events stored after the rollup cursor: counted by the next statements, then the cursor moves. */
const UNCOUNTED = `SELECT * FROM events
  WHERE seq > coalesce((SELECT last_seq FROM event_rollup_cursor WHERE id = 1), 0) AND type <> 'system'`;

/**
 * Every dimension in one statement: each uncounted row is crossed with the dimension list and gives
 * its key, or NULL where the dimension does not apply (columns are NULL for other event types).
 * (D1 caps compound SELECTs, so no UNION ALL per dimension.)
 */
const ROLL_UP = `WITH fresh AS MATERIALIZED (
  SELECT account_id, type, occurred_at - occurred_at % ${HOUR_MS} AS hour, risk, attack_type, host, path,
    remote_addr, remote_country, block_status,
    CASE WHEN type = 'scope_change' THEN (data->>'change') || ':' || (data->>'object_type') END AS scope_key
  FROM (${UNCOUNTED})
), keyed AS (
  SELECT f.account_id, f.hour, f.type, d.value AS dimension, CASE d.value
    WHEN 'total' THEN ''
    WHEN 'attack_type' THEN f.attack_type
    WHEN 'block_status' THEN f.block_status
    WHEN 'host' THEN f.host
    WHEN 'path' THEN CASE WHEN f.type IN ('hit', 'incident') THEN f.path END
    WHEN 'remote_addr' THEN f.remote_addr
    WHEN 'country' THEN f.remote_country
    WHEN 'risk' THEN f.risk
    WHEN 'scope_change' THEN f.scope_key
  END AS key
  FROM fresh AS f CROSS JOIN json_each('${JSON.stringify(DIMENSIONS)}') AS d
)
INSERT INTO event_rollups (account_id, hour, event_type, dimension, key, count)
SELECT account_id, hour, type, dimension, key, count(*) FROM keyed WHERE key IS NOT NULL
GROUP BY account_id, hour, type, dimension, key
ON CONFLICT (account_id, hour, event_type, dimension, key) DO UPDATE SET "count" = "count" + excluded."count"`;

const COUNT_NODE_EVENTS = `UPDATE nodes SET events_count = events_count + counted.n
FROM (SELECT node_id, count(*) AS n FROM (${UNCOUNTED}) WHERE node_id IS NOT NULL GROUP BY node_id) AS counted
WHERE nodes.id = counted.node_id`;

const MOVE_CURSOR = `INSERT INTO event_rollup_cursor (id, last_seq) SELECT 1, coalesce(max(seq), 0) FROM events WHERE true
ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq`;

/** Moves the cursor past every stored event: they count as rolled up already. */
export function markEventsCounted(d1: D1Database): D1PreparedStatement {
  return d1.prepare(MOVE_CURSOR);
}

/**
 * Appended to every ingest transaction (group-commit.ts): the rollups and node counters take in the
 * node events inserted since the previous ingest transaction, whoever inserted them, exactly once
 * (the cursor moves in the same transaction). Replays insert nothing, so they never count. Per
 * transaction rather than per request: one upsert per key for a whole group of requests.
 */
function countNewEvents(d1: D1Database): D1PreparedStatement[] {
  return [d1.prepare(ROLL_UP), d1.prepare(COUNT_NODE_EVENTS), markEventsCounted(d1)];
}

/** What makes two reports the same issue: vuln type, host, method, path, parameter. */
const ISSUE_FINGERPRINT = (row: string) =>
  `(${row}.data->>'vuln_type') || '|' || lower(${row}.host) || '|' || (${row}.data->>'method') || '|' || ${row}.path || '|'
    || coalesce(${row}.data->>'parameter', '')`;
const RISK_RANK = (risk: string) =>
  `CASE ${risk} WHEN 'critical' THEN 5 WHEN 'high' THEN 4 WHEN 'medium' THEN 3 WHEN 'low' THEN 2 ELSE 1 END`;

/**
 * `security_issue` notifies NEW vulnerabilities: a scanner reporting an issue that is already open
 * at the same or a higher risk is stored (and counted) but not notified again — it is marked as
 * needing no notification before SELECT_PENDING looks. A higher risk than before notifies; so does
 * an issue closed as fixed and seen again after that (a report of it from before the closing does not).
 * Runs before UPSERT_SECURITY_ISSUES, so it compares with what was known before this request.
 */
const SKIP_KNOWN_ISSUES = `UPDATE events SET notified_at = ?4
WHERE rowid IN (SELECT ev.rowid FROM ${BY_KEYS} WHERE ev.ingest_id = ?3 AND ev.type = 'security_issue')
  AND EXISTS (SELECT 1 FROM security_issues AS si
    WHERE si.account_id = ?1 AND si.fingerprint = ${ISSUE_FINGERPRINT("events")}
      AND (si.status = 'open' AND ${RISK_RANK("si.risk")} >= ${RISK_RANK("events.risk")}
        OR si.status = 'closed' AND events.occurred_at <= si.closed_at))`;

/** A closed issue stays closed when reported as seen before it was closed (late or replayed reports). */
const STILL_CLOSED = `status = 'closed' AND excluded.last_seen <= closed_at`;

/** One row per distinct issue; the latest report of it sets risk and title; seen after closing, it reopens. */
const UPSERT_SECURITY_ISSUES = `INSERT INTO security_issues (account_id, fingerprint, id, last_event_id, risk, title,
  host, path, vuln_type, status, first_seen, last_seen)
SELECT ?1, ${ISSUE_FINGERPRINT("fresh")},
  id, id, risk, data->>'title', host, path, data->>'vuln_type', 'open', occurred_at, occurred_at
FROM (${FRESH}) AS fresh WHERE type = 'security_issue' ORDER BY occurred_at
ON CONFLICT (account_id, fingerprint) DO UPDATE SET
  risk = CASE WHEN excluded.last_seen >= last_seen THEN excluded.risk ELSE risk END,
  title = CASE WHEN excluded.last_seen >= last_seen THEN excluded.title ELSE title END,
  last_event_id = CASE WHEN excluded.last_seen >= last_seen THEN excluded.last_event_id ELSE last_event_id END,
  first_seen = min(first_seen, excluded.first_seen),
  last_seen = max(last_seen, excluded.last_seen),
  status = CASE WHEN ${STILL_CLOSED} THEN 'closed' ELSE 'open' END,
  closed_at = CASE WHEN ${STILL_CLOSED} THEN closed_at END,
  closed_by = CASE WHEN ${STILL_CLOSED} THEN closed_by END`;

const NODE_SEEN = `UPDATE nodes SET last_seen_at = ?2 WHERE id = ?1 AND revoked_at IS NULL`;

/** Events of this request still waiting for fan-out: fresh ones and re-sent ones never queued. */
const SELECT_PENDING = `SELECT ev.id, ev.seq, ev.type, ev.risk, ev.occurred_at,
  CASE WHEN ev.ingest_id = ?3 THEN NULL ELSE ev.data END AS data
FROM ${BY_KEYS} WHERE ev.notified_at IS NULL`;

const MARK_NOTIFIED = `UPDATE events SET notified_at = ?3
WHERE rowid IN (SELECT ev.rowid FROM ${BY_KEYS} WHERE ev.notified_at IS NULL)`;

/** Events about to be linked to from notifications sent later (replays): findable by id from now on. */
const MAKE_FINDABLE_BY_ID = `UPDATE events SET lookup_by_id = 1
WHERE rowid IN (SELECT ev.rowid FROM ${BY_KEYS} WHERE ev.lookup_by_id = 0)`;

export function makeFindableById(d1: D1Database, accountId: string, keys: EventKey[]): D1PreparedStatement {
  return d1.prepare(MAKE_FINDABLE_BY_ID).bind(accountId, JSON.stringify(keys));
}

/** Counts the request in the node's fixed one-minute window (node-auth.ts reads it for the check). */
const COUNT_REQUEST = `INSERT INTO rate_limits (key, window_start, count) VALUES (?1, ?2, 1)
ON CONFLICT (key) DO UPDATE SET
  count = CASE WHEN window_start = excluded.window_start THEN count + 1 ELSE 1 END,
  window_start = excluded.window_start`;

/** The statement counting one request of a node: in the store batch, or alone for refused requests. */
export function countRequest(d1: D1Database, nodeId: string, now: number): D1PreparedStatement {
  return d1.prepare(COUNT_REQUEST).bind(`node:${nodeId}`, windowStartOf(now));
}

/**
 * Events whose notifications were queued, waiting to be marked notified. The marks ride along
 * with the next store batch of this isolate instead of costing a D1 write transaction per
 * request. If they are lost (isolate gone), a re-send of those events queues them again and the
 * IntegrationDO drops them by notification id: the mark saves work, it is not what prevents
 * duplicate notifications.
 */
const notifiedMarks = new Map<string, Map<string, EventKey>>();
/** Past this many, marks are written on their own rather than waiting for the next request. */
export const MAX_PENDING_MARKS = 5000;

/** Queues marks; returns how many are pending in total. */
export function queueNotifiedMarks(accountId: string, keys: EventKey[]): number {
  let pending = notifiedMarks.get(accountId);
  if (!pending) {
    pending = new Map();
    notifiedMarks.set(accountId, pending);
  }
  for (const key of keys) pending.set(keyString(...key), key);
  let total = 0;
  for (const map of notifiedMarks.values()) total += map.size;
  return total;
}

type TakenMarks = [accountId: string, keys: EventKey[]][];

function takeMarks(d1: D1Database, now: number): { statements: D1PreparedStatement[]; taken: TakenMarks } {
  const taken: TakenMarks = [...notifiedMarks].map(([accountId, keys]) => [accountId, [...keys.values()]]);
  notifiedMarks.clear();
  return {
    statements: taken.map(([accountId, keys]) => d1.prepare(MARK_NOTIFIED).bind(accountId, JSON.stringify(keys), now)),
    taken,
  };
}

function restoreMarks(taken: TakenMarks): void {
  for (const [accountId, keys] of taken) queueNotifiedMarks(accountId, keys);
}

/** Writes the queued marks now (when many accumulated). */
export async function flushNotifiedMarks(d1: D1Database, now = Date.now()): Promise<void> {
  const { statements, taken } = takeMarks(d1, now);
  if (statements.length === 0) return;
  try {
    await d1.batch(statements);
  } catch (error) {
    restoreMarks(taken);
    throw error;
  }
}

/** What identifies a stored event: a re-sent event has the same id and the same time. */
export type EventKey = [id: string, occurredAt: number];

/** An EventKey as a Map key. */
const keyString = (id: string, occurredAt: number) => `${occurredAt}:${id}`;

/** The distinct keys of these events (a request may repeat an event). */
function uniqueKeys(events: PreparedEvent[]): EventKey[] {
  const keys = new Map<string, EventKey>();
  for (const p of events) keys.set(keyString(p.event.id, p.occurredAt), [p.event.id, p.occurredAt]);
  return [...keys.values()];
}

interface PendingRow {
  id: string;
  seq: number;
  type: string;
  risk: string | null;
  occurred_at: number;
  data: string | null;
}

/** Splits rows into JSON arrays each small enough for one bound parameter. */
function jsonChunks(rows: unknown[][]): string[] {
  const chunks: string[] = [];
  let parts: string[] = [];
  let size = 2;
  for (const row of rows) {
    const json = JSON.stringify(row);
    if (parts.length > 0 && size + json.length + 1 > MAX_JSON_PARAM_BYTES) {
      chunks.push(`[${parts.join(",")}]`);
      parts = [];
      size = 2;
    }
    parts.push(json);
    size += json.length + 1;
  }
  if (parts.length > 0) chunks.push(`[${parts.join(",")}]`);
  return chunks;
}

/**
 * Stores a validated batch atomically: the request counted in the node's rate window, events
 * (duplicates ignored), security issues and the node's last-seen time, then reads back which of
 * its events still need notifications and the node's state. Events are written only if the node
 * may write (WRITE_ALLOWED). One db.batch() (shared with concurrent requests of this isolate:
 * group-commit.ts, whose tail adds the rollups). Throws if D1 fails; then nothing of it is stored.
 */
export async function storeIngestBatch(d1: D1Database, write: IngestWrite): Promise<IngestWriteResult> {
  const { node, receivedAt } = write;
  const { accountId, nodeId } = node;
  const ingestId = newIngestId();
  // Earlier requests' marks go first, so this batch's pending check already sees them.
  const marks = takeMarks(d1, receivedAt);
  const statements: D1PreparedStatement[] = [...marks.statements];
  if (write.countRequest) statements.push(countRequest(d1, nodeId, receivedAt));
  const firstInsert = statements.length;
  let bytes = 0;
  const guard = [windowStartOf(receivedAt), write.limit, node.targets.version];
  for (const rows of jsonChunks(write.events.map(rowOf))) {
    statements.push(d1.prepare(INSERT_EVENTS).bind(accountId, nodeId, receivedAt, ingestId, rows, ...guard));
    bytes += rows.length;
  }
  const insertCount = statements.length - firstInsert;
  const issueKeys = uniqueKeys(write.events.filter((p) => p.event.type === "security_issue"));
  if (issueKeys.length > 0) {
    const issueKeysJson = JSON.stringify(issueKeys);
    bytes += issueKeysJson.length * 2;
    statements.push(d1.prepare(SKIP_KNOWN_ISSUES).bind(accountId, issueKeysJson, ingestId, receivedAt));
    statements.push(d1.prepare(UPSERT_SECURITY_ISSUES).bind(accountId, issueKeysJson, ingestId));
  }
  statements.push(d1.prepare(NODE_SEEN).bind(nodeId, receivedAt));
  const pendingKeys = uniqueKeys(write.events.filter((p) => p.checkPending));
  if (pendingKeys.length > 0) {
    const pendingKeysJson = JSON.stringify(pendingKeys);
    bytes += pendingKeysJson.length;
    statements.push(d1.prepare(SELECT_PENDING).bind(accountId, pendingKeysJson, ingestId));
  }
  statements.push(nodeStateAfterWrite(d1, node, receivedAt));

  let results: D1Result[];
  try {
    results = await ingestWrites.run(d1, statements, bytes);
  } catch (error) {
    restoreMarks(marks.taken);
    throw error;
  }
  const state = nodeStateFrom(results[results.length - 1]?.results[0] as NodeStateRow | undefined);
  let accepted = 0;
  for (let i = firstInsert; i < firstInsert + insertCount; i++) accepted += results[i]?.meta.changes ?? 0;
  const pendingRows = pendingKeys.length > 0 ? ((results[results.length - 2]?.results ?? []) as PendingRow[]) : [];
  if (pendingRows.length === 0 || !writeWasAllowed(state, write.limit)) return { accepted, pending: [], state };
  // Rows this request inserted come back without data: the event is the one in the body.
  const sent = new Map<string, NodeEvent>();
  for (const p of write.events) sent.set(keyString(p.event.id, p.occurredAt), p.event);
  return {
    accepted,
    pending: pendingRows.map((row) => ({
      id: row.id,
      seq: row.seq,
      type: row.type as NodeEvent["type"],
      risk: row.risk,
      occurredAt: row.occurred_at,
      data: row.data === null ? sent.get(keyString(row.id, row.occurred_at)) : JSON.parse(row.data),
    })),
    state,
  };
}

/** Did WRITE_ALLOWED hold for this write? (The state is read right after it, in its transaction.) */
function writeWasAllowed(state: NodeState | null, limit: number): boolean {
  return !!state && state.active && state.requestsThisWindow <= limit && state.targets === null;
}
