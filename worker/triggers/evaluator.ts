import type { StoredEvent } from "../domain/event-filters";
import { type CompiledSilence, compileSilences, type Silence } from "../domain/silences";
import type { Trigger } from "../domain/triggers";
import { MINUTE_MS } from "../lib/time";
import type { TriggerNotice } from "./notices";
import { type BatchOutcome, type CompiledTrigger, compileTrigger, evaluateBatch, MAX_WINDOW_MS } from "./rules";
import { WindowStore } from "./window-state";

/**
 * Evaluates an account's triggers and silences on the ingest path (docs/triggers.md), inside the
 * account's ingest object: all state is in that object's SQLite (tables prefixed `trigger_`) and
 * it does no other I/O, so it never slows ingest with a network round trip.
 *
 * The object passes the account's current triggers, silences and time zone with each call (it
 * caches them and refreshes them when `announceControlChange` tells it to); a trigger whose
 * `updated_at` changed starts counting afresh.
 */

/** A node as the object knows it, for node-silence triggers. */
export interface KnownNode {
  id: string;
  name: string;
  createdAt: number;
  revoked?: boolean;
}

export interface EvaluateResult extends BatchOutcome {}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS trigger_versions (trigger_id TEXT PRIMARY KEY, updated_at TEXT NOT NULL) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS trigger_silenced (silence_id TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS trigger_node_seen (node_id TEXT PRIMARY KEY, last_seen_at INTEGER NOT NULL) WITHOUT ROWID`,
  // One row per (trigger, node) silence episode that was notified; deleted with the recovery notice.
  `CREATE TABLE IF NOT EXISTS trigger_node_episodes (
    trigger_id TEXT NOT NULL, node_id TEXT NOT NULL, silent_since INTEGER NOT NULL, notified_at INTEGER NOT NULL,
    PRIMARY KEY (trigger_id, node_id)
  ) WITHOUT ROWID`,
];

/**
 * A node's last-seen time reaches SQLite at most this often (a node posts many times a second;
 * node-silence deadlines are minutes): after a restart a deadline may come that much early.
 */
const SEEN_WRITE_EVERY_MS = 10_000;

interface Episode {
  trigger_id: string;
  node_id: string;
  silent_since: number;
}

/** Prune old buckets at most this often: once a minute is plenty for 24-hour windows. */
const PRUNE_EVERY_MS = MINUTE_MS;
/**
 * Counts reach SQLite at most this often (and at once when a batch fires, and on the object's
 * alarm): under load most batches touch the same groups' current minute, so this writes each
 * changed bucket about once a second instead of once per batch. An object that dies in between
 * loses at most that second of counts (window counts and silenced counts); throttle marks and
 * restarts go with the firing batch.
 */
const FLUSH_EVERY_MS = 1000;
/**
 * The 1 s writes go to the journal (one row for every bucket changed: worker/triggers/bucket-journal.ts),
 * and the buckets to their table this often, with a notice and in the alarm: under load a bucket
 * is then rewritten about once a minute instead of once a second.
 */
const SETTLE_EVERY_MS = MINUTE_MS;

export class TriggerEvaluator {
  private readonly state: WindowStore;
  private versions: Map<string, string> | null = null;
  private readonly compiledTriggers = new Map<string, { version: string; compiled: CompiledTrigger }>();
  private compiledSilences: { source: readonly Silence[]; key: string; compiled: CompiledSilence[] } | null = null;
  /**
   * The triggers array last synced and compiled: the object passes the same array (its control
   * snapshot's) until a control change, so a batch skips both.
   */
  private syncedTriggers: readonly Trigger[] | null = null;
  private compiledList: { source: readonly Trigger[]; compiled: CompiledTrigger[] } | null = null;
  /** Events muted per silence since the last write to `trigger_silenced` (written with the counts). */
  private readonly silencedPending = new Map<string, number>();
  private lastPruneAt = 0;
  private lastFlushAt = 0;
  private lastSettledAt = 0;
  /** Node last-seen times and open silence episodes, read from SQLite once, then kept here. */
  private seen: Map<string, { at: number; written: number }> | null = null;
  private episodes: Map<string, Episode> | null = null;

  constructor(private readonly sql: SqlStorage) {
    for (const statement of SCHEMA) sql.exec(statement);
    this.state = new WindowStore(sql);
  }

  /**
   * One batch of stored events (node and system events, in the order they were stored): the
   * notices to send and what the silences muted. Muted events reach neither triggers nor, through
   * `silencedEventIds`, plain integration subscriptions.
   */
  evaluate(
    triggers: readonly Trigger[],
    silences: readonly Silence[],
    timeZone: string,
    events: readonly StoredEvent[],
    now: number,
  ): EvaluateResult {
    this.sync(triggers);
    if (now - this.lastPruneAt >= PRUNE_EVERY_MS) {
      this.state.prune(Math.floor((now - MAX_WINDOW_MS) / MINUTE_MS) - 1, now - MAX_WINDOW_MS);
      this.lastPruneAt = now;
    }
    const outcome = evaluateBatch(
      this.state,
      this.compiledTriggersOf(triggers),
      this.silences(silences),
      timeZone,
      events,
      () => now,
    );
    for (const [id, count] of Object.entries(outcome.silencedBySilence)) {
      this.silencedPending.set(id, (this.silencedPending.get(id) ?? 0) + count);
    }
    if (outcome.notices.length > 0 || now - this.lastSettledAt >= SETTLE_EVERY_MS) this.persist(now);
    else if (now - this.lastFlushAt >= FLUSH_EVERY_MS) this.writeCounts(now, false);
    return outcome;
  }

  /**
   * Writes the counts and throttle marks not yet in their tables, and empties the journal (the
   * object's alarm calls it too).
   */
  persist(now: number) {
    this.writeCounts(now, true);
  }

  /** The 1 s write: changed buckets to the journal (`settle`: to their table), silenced counts. */
  private writeCounts(now: number, settle: boolean) {
    if (settle) {
      this.state.flush();
      this.lastSettledAt = now;
    } else this.state.journal();
    for (const [id, count] of this.silencedPending) {
      this.sql.exec(
        `INSERT INTO trigger_silenced (silence_id, count) VALUES (?, ?)
         ON CONFLICT (silence_id) DO UPDATE SET count = count + excluded.count`,
        id,
        count,
      );
    }
    this.silencedPending.clear();
    this.lastFlushAt = now;
  }

  /** Events muted so far, per silence id (the object copies them to the silences' silenced_count). */
  silencedCounts(): Record<string, number> {
    const rows = this.sql.exec<{ silence_id: string; count: number }>("SELECT silence_id, count FROM trigger_silenced");
    const counts: Record<string, number> = Object.fromEntries(rows.toArray().map((row) => [row.silence_id, row.count]));
    for (const [id, count] of this.silencedPending) counts[id] = (counts[id] ?? 0) + count;
    return counts;
  }

  /** A node posted (its request's arrival time, not its events' occurred_at). */
  recordNodeSeen(nodeId: string, at: number) {
    const seen = this.seenTimes();
    const known = seen.get(nodeId);
    if (known && at <= known.at) return;
    const write = !known || at - known.written >= SEEN_WRITE_EVERY_MS || this.hasEpisode(nodeId);
    seen.set(nodeId, { at, written: write ? at : known.written });
    if (!write) return;
    this.sql.exec(
      `INSERT INTO trigger_node_seen (node_id, last_seen_at) VALUES (?, ?)
       ON CONFLICT (node_id) DO UPDATE SET last_seen_at = MAX(last_seen_at, excluded.last_seen_at)`,
      nodeId,
      at,
    );
  }

  private seenTimes() {
    this.seen ??= new Map(
      this.sql
        .exec<{ node_id: string; last_seen_at: number }>("SELECT node_id, last_seen_at FROM trigger_node_seen")
        .toArray()
        .map((row) => [row.node_id, { at: row.last_seen_at, written: row.last_seen_at }]),
    );
    return this.seen;
  }

  private openEpisodes() {
    this.episodes ??= new Map(
      this.sql
        .exec<Episode & Record<string, SqlStorageValue>>(
          "SELECT trigger_id, node_id, silent_since FROM trigger_node_episodes",
        )
        .toArray()
        .map((row) => [`${row.trigger_id}\n${row.node_id}`, { ...row }]),
    );
    return this.episodes;
  }

  /** Whether a node-silence episode of this node is open (its next post is a recovery). */
  hasEpisode(nodeId: string): boolean {
    for (const episode of this.openEpisodes().values()) if (episode.node_id === nodeId) return true;
    return false;
  }

  /**
   * The earliest instant `checkSilence` has something to say: a node-silence deadline, or a
   * recovery not yet announced (already due). Null when nothing is pending: the object's alarm.
   */
  dueAt(triggers: readonly Trigger[], nodes: readonly KnownNode[]): number | null {
    this.sync(triggers);
    let due: number | null = null;
    for (const { trigger, node, lastSeen, episode } of this.silenceTargets(triggers, nodes)) {
      const at = episode
        ? lastSeen !== null && lastSeen > episode.silent_since
          ? lastSeen
          : null
        : (lastSeen ?? node.createdAt) + silenceMinutes(trigger) * MINUTE_MS;
      if (at !== null && (due === null || at < due)) due = at;
    }
    return due;
  }

  /** Node-silence notices due at `now`: silent once per episode, recovered when the node posts again. */
  checkSilence(triggers: readonly Trigger[], nodes: readonly KnownNode[], now: number): TriggerNotice[] {
    this.sync(triggers);
    const notices: TriggerNotice[] = [];
    for (const { trigger, node, lastSeen, episode } of this.silenceTargets(triggers, nodes)) {
      const base = {
        triggerId: trigger.id,
        triggerName: trigger.name,
        integrationIds: trigger.integration_ids,
        groupKey: `node=${node.id}`,
        group: { node: node.id },
        firedAt: now,
        nodeId: node.id,
        nodeName: node.name,
      };
      if (episode) {
        if (lastSeen === null || lastSeen <= episode.silent_since) continue;
        this.sql.exec("DELETE FROM trigger_node_episodes WHERE trigger_id = ? AND node_id = ?", trigger.id, node.id);
        this.openEpisodes().delete(`${trigger.id}\n${node.id}`);
        notices.push({ kind: "node_recovered", ...base, silentSince: episode.silent_since, recoveredAt: lastSeen });
        continue;
      }
      const since = lastSeen ?? node.createdAt;
      if (now < since + silenceMinutes(trigger) * MINUTE_MS) continue;
      this.sql.exec(
        "INSERT INTO trigger_node_episodes (trigger_id, node_id, silent_since, notified_at) VALUES (?, ?, ?, ?)",
        trigger.id,
        node.id,
        since,
        now,
      );
      this.openEpisodes().set(`${trigger.id}\n${node.id}`, {
        trigger_id: trigger.id,
        node_id: node.id,
        silent_since: since,
      });
      notices.push({ kind: "node_silent", ...base, lastSeenAt: lastSeen, silenceMinutes: silenceMinutes(trigger) });
    }
    return notices;
  }

  private *silenceTargets(triggers: readonly Trigger[], nodes: readonly KnownNode[]) {
    const live = nodes.filter((node) => !node.revoked);
    const silenceTriggers = triggers.filter((t) => t.enabled && t.condition.kind === "node_silence");
    if (silenceTriggers.length === 0) return;
    const seen = this.seenTimes();
    const episodes = this.openEpisodes();
    for (const trigger of silenceTriggers) {
      const condition = trigger.condition;
      if (condition.kind !== "node_silence") continue;
      for (const node of live) {
        if (condition.node_id !== null && condition.node_id !== node.id) continue;
        yield {
          trigger,
          node,
          lastSeen: seen.get(node.id)?.at ?? null,
          episode: episodes.get(`${trigger.id}\n${node.id}`),
        };
      }
    }
  }

  /** Forgets the state of deleted triggers and of triggers changed since they were last seen. */
  private sync(triggers: readonly Trigger[]) {
    if (triggers === this.syncedTriggers) return;
    if (!this.versions) {
      const rows = this.sql.exec<{ trigger_id: string; updated_at: string }>(
        "SELECT trigger_id, updated_at FROM trigger_versions",
      );
      this.versions = new Map(rows.toArray().map((row) => [row.trigger_id, row.updated_at]));
    }
    const current = new Map(triggers.map((t) => [t.id, t.updated_at]));
    for (const [id, version] of this.versions) {
      if (current.get(id) === version) continue;
      this.forget(id);
    }
    for (const [id, version] of current) {
      if (this.versions.get(id) === version) continue;
      this.sql.exec(
        `INSERT INTO trigger_versions (trigger_id, updated_at) VALUES (?, ?)
         ON CONFLICT (trigger_id) DO UPDATE SET updated_at = excluded.updated_at`,
        id,
        version,
      );
      this.versions.set(id, version);
    }
    this.syncedTriggers = triggers;
  }

  private forget(triggerId: string) {
    this.state.forget(triggerId);
    this.sql.exec("DELETE FROM trigger_node_episodes WHERE trigger_id = ?", triggerId);
    for (const [key, episode] of this.episodes ?? []) if (episode.trigger_id === triggerId) this.episodes?.delete(key);
    this.sql.exec("DELETE FROM trigger_versions WHERE trigger_id = ?", triggerId);
    this.versions?.delete(triggerId);
    this.compiledTriggers.delete(triggerId);
  }

  /** The enabled triggers, compiled (once per triggers array). */
  private compiledTriggersOf(triggers: readonly Trigger[]): CompiledTrigger[] {
    if (this.compiledList?.source !== triggers) {
      this.compiledList = {
        source: triggers,
        compiled: triggers.filter((t) => t.enabled).map((t) => this.compiled(t)),
      };
    }
    return this.compiledList.compiled;
  }

  private compiled(trigger: Trigger): CompiledTrigger {
    const cached = this.compiledTriggers.get(trigger.id);
    if (cached?.version === trigger.updated_at) return cached.compiled;
    const compiled = compileTrigger(trigger);
    this.compiledTriggers.set(trigger.id, { version: trigger.updated_at, compiled });
    return compiled;
  }

  private silences(silences: readonly Silence[]): CompiledSilence[] {
    if (this.compiledSilences?.source === silences) return this.compiledSilences.compiled;
    const key = silences.map((s) => `${s.id}@${s.updated_at}`).join(",");
    const compiled = this.compiledSilences?.key === key ? this.compiledSilences.compiled : compileSilences(silences);
    this.compiledSilences = { source: silences, key, compiled };
    return compiled;
  }
}

function silenceMinutes(trigger: Trigger): number {
  return trigger.condition.kind === "node_silence" ? trigger.condition.silence_minutes : 0;
}
