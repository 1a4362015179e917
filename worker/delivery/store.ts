/**
 * The IntegrationDO's own SQLite storage (ctx.storage.sql). Every method is synchronous: the
 * object runs one event at a time, so a read-check-write inside one method can never interleave
 * with another call (only `await` lets other calls in).
 *
 * Storage schema (one object = one integration):
 *   meta(key, value)                 integration id, paused reason, pending auto-disable, last prune
 *   notifications(seq, notification_id UNIQUE, item, enqueued_at, status)
 *                                    every notification ever enqueued (kept for the retention period,
 *                                    so a re-sent event is notified once); status queued | assigned | dropped
 *   deliveries(seq, id UNIQUE, state, requests, failed_in_cycle, next_attempt_at, lease_until, ...)
 *                                    one outgoing request's worth of notifications, stable id across attempts
 *   delivery_notifications(delivery_seq, position, notification_seq)
 *   attempts(id, delivery_seq, number, planned_at, started_at, latency_ms, ok, status, ...)
 *   window_buckets(start, total, failed)
 *                                    requests per time bucket for the rolling failure window
 *   dead_followups(delivery_seq, died_at, announce, forward)
 *                                    dead deliveries not yet announced (delivery_dead) or handed to
 *                                    the fallback integration (worker/delivery/dead-deliveries.ts)
 */
import { splitBySize } from "../channels/http";
import type { SendOutcome } from "../channels/types";
import { type WindowBucket, windowStart } from "../domain/failure-window";
import type { OutboxItem } from "../domain/notification";

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS notifications (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id TEXT NOT NULL UNIQUE,
    item TEXT NOT NULL,
    enqueued_at INTEGER NOT NULL,
    status TEXT NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS notifications_status_idx ON notifications (status, seq)`,
  `CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    requests INTEGER NOT NULL DEFAULT 0,
    failed_in_cycle INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    lease_until INTEGER,
    notification_count INTEGER NOT NULL,
    replay_of TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    finished_at INTEGER
  )`,
  `CREATE INDEX IF NOT EXISTS deliveries_state_idx ON deliveries (state, seq)`,
  `CREATE INDEX IF NOT EXISTS deliveries_finished_idx ON deliveries (finished_at)`,
  `CREATE INDEX IF NOT EXISTS deliveries_replay_of_idx ON deliveries (replay_of)`,
  `CREATE TABLE IF NOT EXISTS delivery_notifications (
    delivery_seq INTEGER NOT NULL,
    position INTEGER NOT NULL,
    notification_seq INTEGER NOT NULL,
    PRIMARY KEY (delivery_seq, position)
  )`,
  `CREATE INDEX IF NOT EXISTS delivery_notifications_notification_idx ON delivery_notifications (notification_seq)`,
  `CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_seq INTEGER NOT NULL,
    number INTEGER NOT NULL,
    planned_at INTEGER,
    started_at INTEGER NOT NULL,
    latency_ms INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    status INTEGER,
    kind TEXT,
    error TEXT,
    retry_after REAL,
    request_body TEXT NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS attempts_delivery_idx ON attempts (delivery_seq, id)`,
  `CREATE INDEX IF NOT EXISTS attempts_time_idx ON attempts (started_at)`,
  `CREATE TABLE IF NOT EXISTS window_buckets (start INTEGER PRIMARY KEY, total INTEGER NOT NULL, failed INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS dead_followups (
    delivery_seq INTEGER PRIMARY KEY,
    died_at INTEGER NOT NULL,
    announce INTEGER NOT NULL,
    forward INTEGER NOT NULL
  )`,
];

/** meta keys: the notification seq up to which pruneBeyond has gone, and its last forgotten request's time. */
const PRUNED_THROUGH_SEQ = "pruned_through_seq";
const LOG_COMPLETE_AFTER = "log_complete_after";

/** Request bodies beyond this are cut in the log: a batch of hits can be large, the log need not be. */
const MAX_LOGGED_BODY_CHARS = 64 * 1024;

export interface DeliveryRow {
  seq: number;
  id: string;
  state: string;
  requests: number;
  failed_in_cycle: number;
  next_attempt_at: number | null;
  lease_until: number | null;
  notification_count: number;
  replay_of: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

export interface AttemptRow {
  id: number;
  delivery_seq: number;
  number: number;
  planned_at: number | null;
  started_at: number;
  latency_ms: number;
  ok: number;
  status: number | null;
  kind: string | null;
  error: string | null;
  retry_after: number | null;
  request_body: string;
}

/** A dead delivery waiting for its notice (`announce`) or its hand-over to the fallback (`forward`). */
export interface DeadFollowup {
  seq: number;
  id: string;
  died_at: number;
  announce: number;
  forward: number;
  notifications: number;
  attempts: number;
  last_error: string | null;
}

/** A delivery claimed for sending: the lease is held until `leaseUntil` or until its outcome is recorded. */
export interface ClaimedDelivery {
  seq: number;
  id: string;
  /** The number of this request (1 = first). */
  requestNumber: number;
  plannedAt: number;
  leaseUntil: number;
  items: OutboxItem[];
}

type Row = Record<string, SqlStorageValue>;

/**
 * A bound parameter stays well under the storage's 2 MB limit on a string: items are passed to
 * one statement as JSON arrays of at most this many characters (a larger single item goes alone).
 */
const JSON_CHUNK_CHARS = 512 * 1024;

export class DeliveryStore {
  constructor(private readonly sql: SqlStorage) {}

  migrate() {
    for (const statement of SCHEMA) this.sql.exec(statement);
  }

  private rows<T>(query: string, ...bindings: unknown[]): T[] {
    return this.sql.exec<Row>(query, ...bindings).toArray() as T[];
  }

  private first<T>(query: string, ...bindings: unknown[]): T | undefined {
    return this.rows<T>(query, ...bindings)[0];
  }

  // --- meta -------------------------------------------------------------------------------------

  getMeta(key: string): string | null {
    return this.first<{ value: string }>("SELECT value FROM meta WHERE key = ?", key)?.value ?? null;
  }

  setMeta(key: string, value: string | null) {
    if (value === null) this.sql.exec("DELETE FROM meta WHERE key = ?", key);
    else
      this.sql.exec(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        key,
        value,
      );
  }

  // --- outbox -----------------------------------------------------------------------------------

  /**
   * Stores new notifications (a notification id seen before is ignored); returns how many were new.
   * One statement per chunk of items, not one per item: under load the outbox takes an enqueue per
   * group of ingest requests, and a statement's fixed cost in the runtime outweighs the row's.
   */
  enqueue(items: readonly OutboxItem[], now: number): number {
    let added = 0;
    const texts = items.map((item) => JSON.stringify({ id: item.notification.id, item: JSON.stringify(item) }));
    for (const group of splitBySize(texts, (text) => text.length, JSON_CHUNK_CHARS)) {
      // RETURNING yields no row for an id seen before (rowsWritten would count index work too).
      added += this.sql
        .exec(
          `INSERT INTO notifications (notification_id, item, enqueued_at, status)
           SELECT value->>'id', value->>'item', ?2, 'queued' FROM json_each(?1) WHERE true
           ON CONFLICT(notification_id) DO NOTHING RETURNING seq`,
          `[${group.join(",")}]`,
          now,
        )
        .toArray().length;
    }
    return added;
  }

  queuedCount(): number {
    return this.first<{ n: number }>("SELECT COUNT(*) AS n FROM notifications WHERE status = 'queued'")?.n ?? 0;
  }

  /** The oldest pending delivery: the head of the line that everything newer waits behind. */
  head(): DeliveryRow | undefined {
    return this.first<DeliveryRow>("SELECT * FROM deliveries WHERE state = 'pending' ORDER BY seq LIMIT 1");
  }

  /**
   * When something next needs the alarm, ignoring pruning: the head's lease expiry or retry time,
   * or now when notifications are queued and no delivery is pending. Null when nothing is due.
   * `head` may be passed by a caller that already read it.
   */
  nextSendTime(now: number, head: DeliveryRow | undefined = this.head()): number | null {
    if (head) {
      if (head.lease_until !== null && head.lease_until > now) return head.lease_until;
      return head.next_attempt_at ?? now;
    }
    return this.queuedCount() > 0 ? now : null;
  }

  /**
   * Claims the next request to make at `now`, if any: the head delivery when its retry is due,
   * or a new delivery formed from the oldest queued notifications (up to `batchLimit`, a report
   * always alone). Marks it in flight until `now + leaseMs` so a second alarm or a crash can
   * neither send it twice at once nor lose it.
   */
  claimNext(now: number, batchLimit: number, leaseMs: number, newId: () => string): ClaimedDelivery | null {
    const head = this.head() ?? this.formDelivery(now, batchLimit, newId);
    if (!head) return null;
    if (head.lease_until !== null && head.lease_until > now) return null;
    const plannedAt = head.next_attempt_at ?? now;
    if (plannedAt > now) return null;
    const leaseUntil = now + leaseMs;
    this.sql.exec(
      "UPDATE deliveries SET lease_until = ?, requests = requests + 1, updated_at = ? WHERE seq = ?",
      leaseUntil,
      now,
      head.seq,
    );
    return {
      seq: head.seq,
      id: head.id,
      requestNumber: head.requests + 1,
      plannedAt,
      leaseUntil,
      items: this.itemsOf(head.seq),
    };
  }

  /** The new head delivery, or null when nothing is queued. */
  private formDelivery(now: number, batchLimit: number, newId: () => string): DeliveryRow | null {
    const queued = this.rows<{ seq: number; item: string }>(
      "SELECT seq, item FROM notifications WHERE status = 'queued' ORDER BY seq LIMIT ?",
      Math.max(1, batchLimit),
    );
    if (queued.length === 0) return null;
    // A report carries its own attachment: it goes alone, and nothing is merged into it.
    // (Only an item whose text has the key is parsed: the rest cannot be reports.)
    const isReport = (row: { item: string }) =>
      row.item.includes('"reportId":') && (JSON.parse(row.item) as OutboxItem).reportId !== undefined;
    const reportAt = queued.findIndex(isReport);
    const chosen = reportAt === 0 ? queued.slice(0, 1) : reportAt > 0 ? queued.slice(0, reportAt) : queued;
    return this.insertDelivery(
      now,
      newId(),
      chosen.map((row) => row.seq),
      null,
    );
  }

  private insertDelivery(now: number, id: string, notificationSeqs: number[], replayOf: string | null): DeliveryRow {
    const row = this.sql
      .exec<Row>(
        `INSERT INTO deliveries (id, state, requests, failed_in_cycle, next_attempt_at, notification_count, replay_of, created_at, updated_at)
         VALUES (?, 'pending', 0, 0, ?, ?, ?, ?, ?) RETURNING *`,
        id,
        now,
        notificationSeqs.length,
        replayOf,
        now,
        now,
      )
      .one() as unknown as DeliveryRow;
    // Two statements for the whole delivery (positions are the array's indexes), not two per notification.
    const seqs = JSON.stringify(notificationSeqs);
    this.sql.exec(
      `INSERT INTO delivery_notifications (delivery_seq, position, notification_seq)
       SELECT ?1, key, value FROM json_each(?2)`,
      row.seq,
      seqs,
    );
    this.sql.exec(
      "UPDATE notifications SET status = 'assigned' WHERE status = 'queued' AND seq IN (SELECT value FROM json_each(?1))",
      seqs,
    );
    return row;
  }

  itemsOf(deliverySeq: number): OutboxItem[] {
    return this.rows<{ item: string }>(
      `SELECT n.item FROM delivery_notifications d JOIN notifications n ON n.seq = d.notification_seq
       WHERE d.delivery_seq = ? ORDER BY d.position`,
      deliverySeq,
    ).map((row) => JSON.parse(row.item) as OutboxItem);
  }

  delivery(seq: number): DeliveryRow | undefined {
    return this.first<DeliveryRow>("SELECT * FROM deliveries WHERE seq = ?", seq);
  }

  deliveryById(id: string): DeliveryRow | undefined {
    return this.first<DeliveryRow>("SELECT * FROM deliveries WHERE id = ?", id);
  }

  // --- outcomes ---------------------------------------------------------------------------------

  /**
   * Appends an attempt to the log and counts it in its window bucket (`bucketStart` null: an
   * attempt that is logged but does not count, such as one cut off by a restart).
   */
  recordAttempt(
    claim: Pick<ClaimedDelivery, "seq" | "requestNumber" | "plannedAt">,
    outcome: SendOutcome & { interrupted?: boolean },
    startedAt: number,
    bucketStart: number | null,
  ) {
    const body =
      outcome.requestBody.length > MAX_LOGGED_BODY_CHARS
        ? `${outcome.requestBody.slice(0, MAX_LOGGED_BODY_CHARS)}… [truncated, ${outcome.requestBody.length} chars]`
        : outcome.requestBody;
    this.sql.exec(
      `INSERT INTO attempts (delivery_seq, number, planned_at, started_at, latency_ms, ok, status, kind, error, retry_after, request_body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      claim.seq,
      claim.requestNumber,
      claim.plannedAt,
      startedAt,
      Math.max(0, Math.round(outcome.latencyMs)),
      outcome.ok ? 1 : 0,
      outcome.status ?? null,
      outcome.ok ? null : outcome.interrupted ? "interrupted" : outcome.kind,
      outcome.ok ? null : outcome.error,
      outcome.ok ? null : (outcome.retryAfterSeconds ?? null),
      body,
    );
    if (bucketStart === null) return;
    this.sql.exec(
      `INSERT INTO window_buckets (start, total, failed) VALUES (?, 1, ?)
       ON CONFLICT(start) DO UPDATE SET total = total + 1, failed = failed + excluded.failed`,
      bucketStart,
      outcome.ok ? 0 : 1,
    );
  }

  markDelivered(seq: number, now: number) {
    this.sql.exec(
      "UPDATE deliveries SET state = 'delivered', lease_until = NULL, next_attempt_at = NULL, finished_at = ?, updated_at = ? WHERE seq = ?",
      now,
      now,
      seq,
    );
  }

  /** A failed request with a retry left: due again at `nextAttemptAt` (`usesRetry` false: an interrupted one). */
  markRetry(seq: number, now: number, nextAttemptAt: number, usesRetry = true) {
    this.sql.exec(
      `UPDATE deliveries SET lease_until = NULL, failed_in_cycle = failed_in_cycle + ?, next_attempt_at = ?, updated_at = ?
       WHERE seq = ? AND state = 'pending'`,
      usesRetry ? 1 : 0,
      nextAttemptAt,
      now,
      seq,
    );
  }

  /** After the last retry: kept with its notifications and attempts, replayable. */
  markDead(seq: number, now: number) {
    this.sql.exec(
      `UPDATE deliveries SET state = 'dead', lease_until = NULL, next_attempt_at = NULL, failed_in_cycle = failed_in_cycle + 1,
       finished_at = ?, updated_at = ? WHERE seq = ? AND state = 'pending'`,
      now,
      now,
      seq,
    );
  }

  // --- dead deliveries' follow-up ---------------------------------------------------------------

  /** Remembers a delivery that just died: to announce (unless `announce` is false) and to forward. */
  addDeadFollowup(seq: number, now: number, announce: boolean) {
    this.sql.exec(
      "INSERT OR IGNORE INTO dead_followups (delivery_seq, died_at, announce, forward) VALUES (?, ?, ?, 1)",
      seq,
      now,
      announce ? 1 : 0,
    );
  }

  /** The dead deliveries still to announce or forward, oldest first, with their last error. */
  deadFollowups(): DeadFollowup[] {
    return this.rows<DeadFollowup>(
      `SELECT f.delivery_seq AS seq, d.id, f.died_at, f.announce, f.forward, d.notification_count AS notifications,
         d.requests AS attempts,
         (SELECT a.error FROM attempts a WHERE a.delivery_seq = d.seq ORDER BY a.id DESC LIMIT 1) AS last_error
       FROM dead_followups f JOIN deliveries d ON d.seq = f.delivery_seq ORDER BY f.delivery_seq`,
    );
  }

  /** Whether any dead delivery waits to be announced or handed over (read on every alarm schedule: no join). */
  deadFollowupsWaiting(): { announce: boolean; forward: boolean } {
    const row = this.first<{ announce: number | null; forward: number | null }>(
      "SELECT max(announce) AS announce, max(forward) AS forward FROM dead_followups",
    );
    return { announce: row?.announce === 1, forward: row?.forward === 1 };
  }

  markDeadAnnounced(seqs: readonly number[]) {
    for (const seq of seqs) this.sql.exec("UPDATE dead_followups SET announce = 0 WHERE delivery_seq = ?", seq);
  }

  markDeadForwarded(seq: number) {
    this.sql.exec("UPDATE dead_followups SET forward = 0 WHERE delivery_seq = ?", seq);
  }

  /** Forgets follow-ups with nothing left to do (or whose delivery is gone). */
  clearSettledFollowups() {
    this.sql.exec(
      `DELETE FROM dead_followups WHERE (announce = 0 AND forward = 0)
       OR NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.seq = dead_followups.delivery_seq)`,
    );
  }

  clearAllFollowups() {
    this.sql.exec("DELETE FROM dead_followups");
  }

  /** Deliveries whose lease ran out without an outcome: the object was reset mid-request. */
  expiredLeases(now: number): DeliveryRow[] {
    return this.rows<DeliveryRow>(
      "SELECT * FROM deliveries WHERE state = 'pending' AND lease_until IS NOT NULL AND lease_until <= ?",
      now,
    );
  }

  // --- window -----------------------------------------------------------------------------------

  buckets(): WindowBucket[] {
    return this.rows<WindowBucket>("SELECT start, total, failed FROM window_buckets ORDER BY start");
  }

  /**
   * Requests made in [from, to) and how many failed, from the attempt log (kept for the delivery
   * log's retention). Attempts cut off by a restart are left out, as the failure window does.
   */
  requestsBetween(from: number, to: number): { requests: number; failed: number } {
    const [row] = this.rows<{ requests: number; failed: number | null }>(
      `SELECT count(*) AS requests, sum(ok = 0) AS failed FROM attempts
       WHERE started_at >= ? AND started_at < ? AND kind IS NOT 'interrupted'`,
      from,
      to,
    );
    return { requests: Number(row?.requests ?? 0), failed: Number(row?.failed ?? 0) };
  }

  /** Starts a fresh failure window: requests made before now no longer count towards auto-disable. */
  clearWindow() {
    this.sql.exec("DELETE FROM window_buckets");
  }

  // --- pause, resume, replay --------------------------------------------------------------------

  /** Resets the retry cycle of pending deliveries so they are sent again from now, in order. */
  restartPending(now: number): number {
    this.sql.exec(
      "UPDATE deliveries SET failed_in_cycle = 0, next_attempt_at = ?, updated_at = ? WHERE state = 'pending' AND (lease_until IS NULL OR lease_until <= ?)",
      now,
      now,
      now,
    );
    return this.pendingNotificationCount();
  }

  /** Drops everything not yet delivered (kept in the log as dropped); returns the notifications dropped. */
  dropPending(now: number): number {
    const dropped = this.pendingNotificationCount();
    this.sql.exec(
      "UPDATE deliveries SET state = 'dropped', lease_until = NULL, next_attempt_at = NULL, finished_at = ?, updated_at = ? WHERE state = 'pending'",
      now,
      now,
    );
    this.sql.exec("UPDATE notifications SET status = 'dropped' WHERE status = 'queued'");
    return dropped;
  }

  pendingNotificationCount(): number {
    const inDeliveries =
      this.first<{ n: number }>(
        "SELECT COALESCE(SUM(notification_count), 0) AS n FROM deliveries WHERE state = 'pending'",
      )?.n ?? 0;
    return inDeliveries + this.queuedCount();
  }

  /** A new pending delivery with the same notifications as `original` (a replay). */
  replay(original: DeliveryRow, now: number, newId: string): string {
    const seqs = this.rows<{ notification_seq: number }>(
      "SELECT notification_seq FROM delivery_notifications WHERE delivery_seq = ? ORDER BY position",
      original.seq,
    ).map((row) => row.notification_seq);
    this.insertDelivery(now, newId, seqs, original.id);
    return newId;
  }

  /** Dead deliveries finished at or after `since` that no delivery replays yet, oldest first. */
  deadDeliveriesNotReplayed(since: number): DeliveryRow[] {
    return this.rows<DeliveryRow>(
      `SELECT * FROM deliveries AS d WHERE state = 'dead' AND finished_at >= ?
       AND NOT EXISTS (SELECT 1 FROM deliveries AS r WHERE r.replay_of = d.id) ORDER BY seq`,
      since,
    );
  }

  deadDeliveries(): DeliveryRow[] {
    return this.rows<DeliveryRow>("SELECT * FROM deliveries WHERE state = 'dead' ORDER BY seq");
  }

  // --- log and health ---------------------------------------------------------------------------

  listDeliveries(state: string | null, beforeSeq: number | null, limit: number): DeliveryRow[] {
    const conditions: string[] = [];
    const bindings: unknown[] = [];
    if (state) {
      conditions.push("state = ?");
      bindings.push(state);
    }
    if (beforeSeq !== null) {
      conditions.push("seq < ?");
      bindings.push(beforeSeq);
    }
    const where = conditions.length ? `WHERE ${conditions.join(" AND ")}` : "";
    return this.rows<DeliveryRow>(`SELECT * FROM deliveries ${where} ORDER BY seq DESC LIMIT ?`, ...bindings, limit);
  }

  attemptsOf(deliverySeq: number): AttemptRow[] {
    return this.rows<AttemptRow>("SELECT * FROM attempts WHERE delivery_seq = ? ORDER BY id", deliverySeq);
  }

  countByState(state: string): number {
    return this.first<{ n: number }>("SELECT COUNT(*) AS n FROM deliveries WHERE state = ?", state)?.n ?? 0;
  }

  /** The latency at the given percentile (0..1) of the requests made since `since`. */
  latencyPercentile(since: number, percentile: number): number | null {
    const count = this.first<{ n: number }>("SELECT COUNT(*) AS n FROM attempts WHERE started_at >= ?", since)?.n ?? 0;
    if (count === 0) return null;
    const offset = Math.min(count - 1, Math.max(0, Math.ceil(percentile * count) - 1));
    return (
      this.first<{ latency_ms: number }>(
        "SELECT latency_ms FROM attempts WHERE started_at >= ? ORDER BY latency_ms LIMIT 1 OFFSET ?",
        since,
        offset,
      )?.latency_ms ?? null
    );
  }

  lastAttempt(ok: boolean): AttemptRow | undefined {
    return this.first<AttemptRow>("SELECT * FROM attempts WHERE ok = ? ORDER BY id DESC LIMIT 1", ok ? 1 : 0);
  }

  // --- retention --------------------------------------------------------------------------------

  /**
   * Forgets what is older than `cutoff` (attempts, finished deliveries, and notifications no
   * delivery refers to any more) and window buckets that left the window.
   */
  prune(cutoff: number, now: number, windowMs: number) {
    this.sql.exec("DELETE FROM attempts WHERE started_at <= ?", cutoff);
    const old = this.rows<{ seq: number }>(
      "SELECT seq FROM deliveries WHERE state != 'pending' AND finished_at IS NOT NULL AND finished_at <= ?",
      cutoff,
    );
    for (const { seq } of old) this.forgetDelivery(seq);
    this.sql.exec(
      `DELETE FROM notifications WHERE status != 'queued' AND enqueued_at <= ?
       AND NOT EXISTS (SELECT 1 FROM delivery_notifications d WHERE d.notification_seq = notifications.seq)`,
      cutoff,
    );
    this.sql.exec("DELETE FROM window_buckets WHERE start < ?", windowStart(now, { windowMs }));
  }

  /**
   * Keeps the history of the newest `keep` notifications only (docs/delivery.md#retention): forgets
   * the finished deliveries (with their attempts) and the finished notifications among the older
   * ones, at most `chunk` notification seqs a call, from where the last call stopped. Queued
   * notifications and pending deliveries are never forgotten. Answers whether older history is
   * still left beyond the budget (the caller comes back soon).
   */
  pruneBeyond(keep: number, chunk: number): boolean {
    const span = this.first<{ lo: number | null; hi: number | null }>(
      "SELECT MIN(seq) AS lo, MAX(seq) AS hi FROM notifications",
    );
    if (span?.lo == null || span.hi == null) return false;
    const cutoff = span.hi - keep;
    const from = Math.max(Number(this.getMeta(PRUNED_THROUGH_SEQ) ?? 0), span.lo - 1);
    if (cutoff <= from) return false;
    const upTo = Math.min(cutoff, from + chunk);
    const finished = this.rows<{ seq: number }>(
      `SELECT DISTINCT d.seq FROM delivery_notifications dn JOIN deliveries d ON d.seq = dn.delivery_seq
       WHERE dn.notification_seq > ? AND dn.notification_seq <= ? AND d.state != 'pending'`,
      from,
      upTo,
    );
    if (finished.length > 0) {
      // The log is complete only after the last request forgotten here (periodHealth).
      const last = this.first<{ t: number | null }>(
        "SELECT MAX(started_at) AS t FROM attempts WHERE delivery_seq IN (SELECT value FROM json_each(?))",
        JSON.stringify(finished.map((d) => d.seq)),
      )?.t;
      if (last != null && last > this.logCompleteAfter()) this.setMeta(LOG_COMPLETE_AFTER, String(last));
    }
    for (const { seq } of finished) this.forgetDelivery(seq);
    this.sql.exec(
      `DELETE FROM notifications WHERE seq > ? AND seq <= ? AND status != 'queued'
       AND NOT EXISTS (SELECT 1 FROM delivery_notifications d WHERE d.notification_seq = notifications.seq)`,
      from,
      upTo,
    );
    this.setMeta(PRUNED_THROUGH_SEQ, String(upTo));
    return upTo < cutoff;
  }

  /** The time of the last request the notification budget forgot (0: none): the log is complete after it. */
  logCompleteAfter(): number {
    return Number(this.getMeta(LOG_COMPLETE_AFTER) ?? 0);
  }

  private forgetDelivery(seq: number) {
    this.sql.exec("DELETE FROM attempts WHERE delivery_seq = ?", seq);
    this.sql.exec("DELETE FROM delivery_notifications WHERE delivery_seq = ?", seq);
    this.sql.exec("DELETE FROM deliveries WHERE seq = ?", seq);
  }

  /** When the oldest finished record passes the retention period (the next prune worth waking for). */
  oldestFinishedAt(): number | null {
    const row = this.first<{ t: number | null }>(
      `SELECT MIN(t) AS t FROM (
         SELECT MIN(finished_at) AS t FROM deliveries WHERE state != 'pending'
         UNION ALL SELECT MIN(enqueued_at) FROM notifications WHERE status = 'dropped'
       )`,
    );
    return row?.t ?? null;
  }
}
