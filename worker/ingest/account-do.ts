/**
 * One object per account (docs/data-plane.md#accountingestdo): every ingest request of the account
 * goes through it. It checks the node against its control snapshot, counts the node's requests,
 * hands out the account seq, routes events to their shards, de-duplicates security issues and
 * fans out — for a whole group of concurrent requests at once: one `insert` per shard and one
 * `enqueue` per integration per group.
 */
import { DurableObject } from "cloudflare:workers";
import { notifyMaxAge } from "../domain/notify-age";
import type { Env } from "../env";
import { refreshShardCounters } from "../events/directory";
import { eventShardObject } from "../events/objects";
import type { ShardEventKey } from "../events/shard-types";
import { MINUTE_MS } from "../lib/time";
import { type AccountQueries, accountQueries } from "./account-queries";
import { AccountReportStore, type DayTopsRow } from "./account-reports";
import { AccountStore, type IssueQuery } from "./account-store";
import { type ControlSnapshot, loadControlSnapshot } from "./control-snapshot";
import { finishUnprocessed, recordSystemEvents, type SystemEventInput } from "./finish-later";
import { writeGroup } from "./ingest-group";
import { continueLegacySeqs, type LegacyBatch, takeLegacyBatch } from "./legacy-intake";
import { RATE_WINDOW_MS, secondsLeftInWindow, windowStartOf } from "./node-auth";
import { PendingShardSizes } from "./pending-shard-sizes";
import { ShardDirectory } from "./shard-routing";
import { issueStatusChanged, runTriggerAlarm } from "./trigger-alarm";
import { TriggerHook } from "./trigger-hook";

export interface IngestCall {
  tokenHash: string;
  nodeId: string;
  /**
   * The validated events, each with its id, as JSON text one by one: a string crosses the RPC
   * boundary as one copy, where event objects are cloned field by field; and the text is what the
   * shard stores.
   */
  events: string[];
  receivedAt: number;
  /** Requests per node per minute. */
  limit: number;
}

export type IngestOutcome =
  | { outcome: "accepted"; accepted: number; duplicates: number; heldBack: boolean }
  | { outcome: "unknown_token" }
  | { outcome: "rate_limited"; limit: number; retryAfterSeconds: number }
  | { outcome: "unavailable"; reason: "storage" | "queueing" | "shard_full" };

/** Past this many events a group is closed; the rest wait for the next one. */
const MAX_GROUP_EVENTS = 5000;
/** Groups under way at once: one storing, the one before it fanning out. */
const MAX_GROUPS_IN_FLIGHT = 2;
/** The alarm's spacing while there is anything to finish or flush. */
const ALARM_SPACING_MS = MINUTE_MS;

interface Waiting {
  call: IngestCall;
  resolve: (outcome: IngestOutcome) => void;
}

export class AccountIngestDO extends DurableObject<Env> {
  readonly store: AccountStore;
  /** Report day digests and report bodies (worker/ingest/account-reports.ts). */
  readonly reportStore: AccountReportStore;
  readonly directory: ShardDirectory;
  /** Triggers and silences on the ingest path (worker/ingest/trigger-hook.ts). */
  readonly triggers: TriggerHook;
  /** The bindings, for the helpers this object's work is split into (ingest-group.ts, finish-later.ts). */
  readonly environment: Env;
  private accountIdValue: string | null = null;
  private snapshot: ControlSnapshot | null = null;
  private snapshotLoad: Promise<ControlSnapshot | null> | null = null;
  /** Bumped by every control change: a snapshot loaded under an older one is not used. */
  private generation = 0;
  /** Per node, requests counted in the current fixed minute. */
  readonly rateWindows = new Map<string, { windowStart: number; count: number }>();
  private readonly waiting: Waiting[] = [];
  /** The alarm's clock. Tests move it (runInDurableObject) to run the sweep a minute or hours on. */
  clock: () => number = () => Date.now();
  private inFlight: Promise<void> | null = null;
  /** The groups being written right now (a control change waits for them, not for the whole queue). */
  private readonly groupsInFlight = new Set<Promise<void>>();
  /** When the alarm is known to be set (saves reading it after every group). */
  private alarmAt: number | null = null;
  /** Per shard, events finished (fanned out) whose processed mark is not written yet. */
  readonly pendingMarks = new Map<string, Map<string, ShardEventKey>>();
  /** Per shard, the size it reported last, until pushed to the directory (stored: the alarm may run in a new instance). */
  readonly shardSizes: PendingShardSizes;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.environment = env;
    this.store = new AccountStore(ctx.storage.sql);
    this.reportStore = new AccountReportStore(ctx.storage.sql);
    this.shardSizes = new PendingShardSizes(ctx.storage.sql);
    this.triggers = new TriggerHook(ctx.storage.sql);
    this.directory = new ShardDirectory(env, () => this.accountId);
    // Upgraded from events in D1: seqs continue past theirs (worker/ingest/legacy-intake.ts).
    const name = ctx.id.name;
    if (name) void ctx.blockConcurrencyWhile(() => continueLegacySeqs(ctx.storage.sql, env, name));
  }

  /** The account this object serves (its name: idFromName(accountId)). */
  get accountId(): string {
    this.accountIdValue ??= this.ctx.id.name ?? null;
    if (!this.accountIdValue) throw new Error("AccountIngestDO must be addressed by idFromName(accountId)");
    return this.accountIdValue;
  }

  // --- ingest ------------------------------------------------------------------------------------

  async ingest(call: IngestCall): Promise<IngestOutcome> {
    const control = await this.control();
    const node = control?.nodesByTokenHash.get(call.tokenHash);
    if (!node || node.revoked || node.id !== call.nodeId) return { outcome: "unknown_token" };
    if (this.countRequest(node.id, call.receivedAt) > call.limit) {
      return { outcome: "rate_limited", limit: call.limit, retryAfterSeconds: secondsLeftInWindow(call.receivedAt) };
    }
    return new Promise((resolve) => {
      this.waiting.push({ call, resolve });
      if (!this.inFlight) this.inFlight = this.drain().finally(() => (this.inFlight = null));
    });
  }

  /** An invalid batch counts towards the node's limit too (a node looping on it is throttled). */
  countRefused(nodeId: string, now: number): void {
    this.countRequest(nodeId, now);
  }

  private countRequest(nodeId: string, now: number): number {
    const windowStart = windowStartOf(now);
    const window = this.rateWindows.get(nodeId);
    if (!window || window.windowStart !== windowStart) {
      this.rateWindows.set(nodeId, { windowStart, count: 1 });
      if (this.rateWindows.size > 10_000) this.forgetOldWindows(windowStart);
      return 1;
    }
    window.count++;
    return window.count;
  }

  private forgetOldWindows(current: number): void {
    for (const [nodeId, window] of this.rateWindows) {
      if (window.windowStart < current - RATE_WINDOW_MS) this.rateWindows.delete(nodeId);
    }
  }

  /**
   * Writes waiting calls group by group; calls arriving meanwhile join the next group. The next
   * group starts once the previous one has stored its events and taken its issue decisions (its
   * `stored` signal), so one group's fan-out overlaps the next one's shard writes; at most
   * MAX_GROUPS_IN_FLIGHT are under way.
   */
  private async drain(): Promise<void> {
    while (this.waiting.length > 0) {
      const group: Waiting[] = [];
      let events = 0;
      while (this.waiting.length > 0) {
        const next = this.waiting[0] as Waiting;
        if (group.length > 0 && events + next.call.events.length > MAX_GROUP_EVENTS) break;
        this.waiting.shift();
        group.push(next);
        events += next.call.events.length;
      }
      let stored!: () => void;
      const storedSignal = new Promise<void>((resolve) => {
        stored = resolve;
      });
      const write: Promise<void> = writeGroup(
        this,
        group.map((w) => w.call),
        () => stored(),
      )
        .catch((error: unknown) => {
          console.error("ingest group failed", { accountId: this.accountId, error: String(error) });
          return group.map((): IngestOutcome => ({ outcome: "unavailable", reason: "storage" }));
        })
        .then((outcomes) => {
          group.forEach((w, i) => {
            w.resolve(outcomes[i] ?? { outcome: "unavailable", reason: "storage" });
          });
        })
        .finally(() => {
          this.groupsInFlight.delete(write);
          stored();
        });
      this.groupsInFlight.add(write);
      await storedSignal;
      while (this.groupsInFlight.size >= MAX_GROUPS_IN_FLIGHT) await Promise.race(this.groupsInFlight);
    }
    await Promise.all(this.groupsInFlight);
    await this.scheduleAlarm();
  }

  // --- control -----------------------------------------------------------------------------------

  /**
   * The current snapshot; loaded from D1 when a control change dropped it. A load that a control
   * change overtook is thrown away and done again.
   */
  async control(): Promise<ControlSnapshot | null> {
    for (;;) {
      if (this.snapshot) return this.snapshot;
      const generation = this.generation;
      this.snapshotLoad ??= loadControlSnapshot(this.env.DB, this.accountId).finally(() => {
        this.snapshotLoad = null;
      });
      const loaded = await this.snapshotLoad;
      if (generation !== this.generation) continue;
      if (loaded) {
        for (const node of loaded.nodesById.values()) this.store.seedNode(node.id, node.eventsCount, node.lastSeenAt);
      }
      this.snapshot = loaded;
      return loaded;
    }
  }

  /**
   * A node, integration, trigger or silence of the account changed in D1: the next request loads
   * the snapshot again. Answers once the group in flight (written with the old snapshot) is done;
   * `committedSeq` is the last seq written with the old one (a disable records it as its marker).
   */
  async controlChanged(): Promise<{ committedSeq: number }> {
    this.generation++;
    this.snapshot = null;
    const committedSeq = this.store.lastSeq();
    await Promise.all(this.groupsInFlight);
    // A new node-silence trigger (or node) may need the alarm before any node posts again.
    this.ctx.waitUntil(
      this.currentControl()
        .then(() => this.scheduleAlarm())
        .catch((error: unknown) => console.error("rescheduling after a control change failed", String(error))),
    );
    return { committedSeq };
  }

  /** The snapshot in use right now (null once a control change dropped it). */
  get currentSnapshot(): ControlSnapshot | null {
    return this.snapshot;
  }

  /** The current snapshot, read again until no control change overtook the read. */
  async currentControl(): Promise<ControlSnapshot | null> {
    for (;;) {
      const control = await this.control();
      if (this.snapshot === control) return control;
    }
  }

  // --- system events, the alarm ----------------------------------------------------------------

  /** Stores system events (from the D1 outbox `system_event_outbox`) and fans them out. */
  async recordSystemEvents(rows: SystemEventInput[]): Promise<{ stored: number }> {
    // A system event often follows a control change (an integration disabled, its marker written
    // since): the targets are read again.
    this.snapshot = null;
    this.generation++;
    const stored = await recordSystemEvents(this, rows);
    await this.scheduleAlarm();
    return { stored };
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const now = this.clock();
    await runTriggerAlarm(this, now);
    await this.flushMarks();
    await finishUnprocessed(this, now, notifyMaxAge(this.env));
    await this.flushMarks();
    await this.flushShardSizes(now);
    await this.flushNodes(now, true);
    await this.scheduleAlarm();
  }

  /** Keeps the alarm set while anything is left to mark, push or finish. */
  async scheduleAlarm(): Promise<void> {
    // Trigger work (node-silence deadlines, retries, silenced counts) may need it sooner.
    const triggersDue = this.triggers.dueAt(this.snapshot, this.clock());
    const sooner = (at: number | null) => triggersDue !== null && (at === null || triggersDue < at);
    // Known set: no storage read per group (the alarm clears it when it runs).
    if (this.alarmAt !== null && !sooner(this.alarmAt)) return;
    const current = await this.ctx.storage.getAlarm();
    if (current !== null && !sooner(current)) {
      this.alarmAt = current;
      return;
    }
    const recent = this.store.shardsWrittenSince(Date.now() - 2 * ALARM_SPACING_MS).length > 0;
    let at: number | null = null;
    if (this.pendingMarks.size > 0 || this.shardSizes.any() || recent) at = Date.now() + ALARM_SPACING_MS;
    if (sooner(at)) at = triggersDue;
    if (at !== null) {
      await this.ctx.storage.setAlarm(at);
      this.alarmAt = at;
    }
  }

  /** Writes the processed marks that no insert has carried yet. */
  async flushMarks(): Promise<void> {
    const taken = [...this.pendingMarks];
    this.pendingMarks.clear();
    await Promise.all(
      taken.map(async ([shard, keys]) => {
        try {
          await eventShardObject(this.env, shard).markProcessed([...keys.values()]);
        } catch (error) {
          console.error("marking events processed failed", { shard, error: String(error) });
          this.queueMarks(shard, [...keys.values()]);
        }
      }),
    );
  }

  /** The shard's pending marks, taken to be written with the next insert to it. */
  takeMarks(shard: string): ShardEventKey[] {
    const marks = this.pendingMarks.get(shard);
    this.pendingMarks.delete(shard);
    return marks ? [...marks.values()] : [];
  }

  queueMarks(shard: string, keys: ShardEventKey[]): void {
    if (keys.length === 0) return;
    let marks = this.pendingMarks.get(shard);
    if (!marks) {
      marks = new Map();
      this.pendingMarks.set(shard, marks);
    }
    for (const key of keys) marks.set(`${key.occurredAt}:${key.id}`, key);
  }

  isMarkPending(shard: string, key: ShardEventKey): boolean {
    return this.pendingMarks.get(shard)?.has(`${key.occurredAt}:${key.id}`) ?? false;
  }

  /** Pushes shard sizes to the directory (at most once a minute: the alarm). */
  private async flushShardSizes(now: number): Promise<void> {
    await Promise.all(
      this.shardSizes.all().map(async ([name, size]) => {
        try {
          await refreshShardCounters(this.env.DB, name, size, now);
          await this.directory.splitIfGrown(size.periodStart, size.bytes, now);
          this.shardSizes.pushed(name, size);
        } catch (error) {
          // Kept: the next alarm pushes it (or the size a later write left).
          console.error("updating the shard directory failed", { shard: name, error: String(error) });
        }
      }),
    );
  }

  /**
   * Writes node counters (absolute values) to D1: a node at most once a minute, unless `all`.
   * Never throws (the counters are kept here and written next time).
   */
  async flushNodes(now: number, all = false): Promise<void> {
    const due = this.store.nodesToFlush(all ? now + 1 : now - MINUTE_MS);
    if (due.length === 0) return;
    const d1 = this.env.DB;
    try {
      await d1.batch(
        due.map((n) =>
          d1
            .prepare("UPDATE nodes SET events_count = ?2, last_seen_at = ?3 WHERE id = ?1")
            .bind(n.node_id, n.events, n.last_seen_at),
        ),
      );
      for (const n of due) this.store.markNodeFlushed(n.node_id, now);
    } catch (error) {
      console.error("writing node counters failed", { error: String(error) });
    }
  }

  // --- readers -----------------------------------------------------------------------------------

  /** Security issues, replay and retention (account-queries.ts). */
  private readonly queries: AccountQueries = accountQueries(this);

  findLinked(id: string) {
    return this.store.findLinked(id);
  }

  securityIssues(query: IssueQuery) {
    return this.queries.securityIssues(query);
  }

  /** Closes an issue; the integrations that got it hear of it (a resolve for incident systems). */
  async closeIssue(id: string, by: string, at: number) {
    const issue = this.store.setIssueStatus(id, "closed", at, by);
    if (issue) await issueStatusChanged(this, "closed", issue, by, at);
    return issue;
  }

  async reopenIssue(id: string, by = "an admin") {
    const at = Date.now();
    const issue = this.store.setIssueStatus(id, "open", at, null);
    if (issue) await issueStatusChanged(this, "reopened", issue, by, at);
    return issue;
  }

  issuesForReport(query: Parameters<AccountQueries["issuesForReport"]>[0]) {
    return this.queries.issuesForReport(query);
  }

  replay(integrationId: string, afterSeq: number, untilSeq: number, maxEvents?: number) {
    return this.queries.replay(integrationId, afterSeq, untilSeq, maxEvents);
  }

  archivedRollups(fromHour: number, toHour: number) {
    return this.store.archivedRollups(fromHour, toHour);
  }

  dropExpiredShards(before: number) {
    return this.queries.dropExpiredShards(before);
  }

  // --- reports (docs/storage.md#reports) ---------------------------------------------------------

  dayTops(timeZone: string, fromDay: string, toDay: string) {
    return this.reportStore.dayTops(timeZone, fromDay, toDay);
  }

  saveDayTops(rows: DayTopsRow[]) {
    this.reportStore.saveDayTops(rows);
  }

  /** A report's body (its JSON text), written before its D1 row so no row lacks one. */
  saveReportBody(id: string, data: string, createdAt: number) {
    this.reportStore.saveBody(id, data, createdAt);
  }

  reportBody(id: string) {
    return this.reportStore.body(id);
  }

  reportTotals(ids: string[]) {
    return this.reportStore.totals(ids);
  }

  /** A body whose D1 row was never written (a scheduled build that lost its claim). */
  deleteReportBody(id: string) {
    this.reportStore.deleteBody(id);
  }

  purgeReports(before: number) {
    return this.reportStore.purge(before);
  }

  /** Rows moved from D1 by the upgrade's import (worker/legacy-import.ts). */
  importLegacy(batch: LegacyBatch) {
    return takeLegacyBatch(this, this.ctx.storage.sql, batch);
  }
}
