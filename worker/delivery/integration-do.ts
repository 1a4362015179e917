import { DurableObject } from "cloudflare:workers";
import type { SendOutcome } from "../channels/types";
import { bucketStartFor, shouldAutoDisable, windowTotals } from "../domain/failure-window";
import type { OutboxItem } from "../domain/notification";
import { retryDelayMs } from "../domain/retry-schedule";
import type { Env } from "../env";
import { MAX_REPLAYED_EVENTS } from "../ingest/account-queries";
import {
  type DisableRequest,
  type ResumeOptions,
  type ResumeResult,
  recordAutoDisable,
} from "../integrations/lifecycle";
import { resolveSendTarget, SecretsUnreadableError } from "../integrations/send-target";
import { uuidv7 } from "../lib/ids";
import type { EnqueueResult } from "../outbox/enqueue";
import { loadReportAttachment } from "../reports";
import { type DeliveryConfig, readDeliveryConfig } from "./config";
import { deadFollowupDue, deathIsAnnounced, type FollowUpHost, followUpDeadDeliveries } from "./dead-deliveries";
import { deliveryPage, healthView, type ListQuery } from "./log-view";
import { replayMissedEvents } from "./replay-missed";
import { invalidSettingsOutcome, type LoadReport, type ResolveTarget, type SendTarget, sendDelivery } from "./send";
import { type ClaimedDelivery, DeliveryStore } from "./store";
import type { DeliveryPage, HealthView, PeriodHealth, ReplayResult } from "./views";

/** A claim outlives the longest request (webhook timeout 60 s) with room to record the outcome. */
const LEASE_MS = 90_000;
/**
 * While a request is in flight the alarm stays at most this far ahead (it is not needed then, the
 * running alarm continues by itself): if the runtime dies mid-request, the restarted one finds the
 * alarm due within this time and retries the request, instead of waiting for the lease to end.
 */
const IN_FLIGHT_ALARM_MS = 5_000;
/** A request cut off by a restart is made again after this long. */
const INTERRUPTED_RETRY_MS = 1_000;
/** One alarm run sends for at most this long, then yields and continues in the next alarm. */
const DRAIN_BUDGET_MS = 20_000;
/**
 * A drain that finds nothing queued waits this long for the next enqueue before its run ends. Under
 * steady ingest an enqueue comes every few milliseconds, often just after the queue ran empty: each
 * then went through a new alarm (two alarm writes, the alarm's start-up reads, its dispatch) for a
 * delivery of one group's notifications, which cost more of the shared thread than the sending.
 */
const DRAIN_LINGER_MS = 50;
/** When D1 or the settings cannot be read, try again after this long (not a receiver failure). */
const TARGET_RETRY_MS = 30_000;
/** Retention pruning runs at most this often. */
const PRUNE_SPACING_MS = 3_600_000;
/**
 * History beyond the notification budget is forgotten this many notification seqs per alarm run
 * (one transaction of bounded length), and the next run follows this soon while more is left.
 */
const BUDGET_PRUNE_CHUNK = 20_000;
const BUDGET_PRUNE_AGAIN_MS = 1_000;
/**
 * A drain reuses the target an earlier drain loaded this recently instead of reading D1 again: at
 * one delivery per ingest group that read was a D1 round trip (and a decryption) per request. A
 * running drain already sends with the target it loaded for up to DRAIN_BUDGET_MS, so a settings
 * change taking effect up to this much later is within what a drain already allows; pause, resume
 * and destroy drop it at once.
 */
const TARGET_REUSE_MS = 1_000;

const META = {
  integrationId: "integration_id",
  /** Present while sending is paused: a DisableReason (worker/db/schema.ts), or "missing". */
  paused: "paused",
  /** A DisableRequest D1 has not recorded yet (retried by the alarm). */
  pendingDisable: "pending_disable",
  disableRetryAt: "disable_retry_at",
  lastPrunedAt: "last_pruned_at",
} as const;

/** An attempt's outcome as the engine records it: a channel's SendOutcome, or a lost one. */
type AttemptOutcome = SendOutcome | (Extract<SendOutcome, { ok: false }> & { interrupted: true });

/**
 * One per integration (addressed by idFromName(integrationId)): its outbox, the single alarm that
 * drives sending and retries, the rolling failure window and the attempt log (see store.ts for the
 * storage schema). The alarm is always set to the earliest due time and deleted when nothing is
 * due (cloudflare/agents' `_scheduleNextAlarm`). Handlers are idempotent: a delivery is claimed
 * (in flight until a lease time) before its request, so a second alarm or a call arriving during
 * `await fetch` cannot send it twice; while it is in flight the alarm stays a few seconds ahead, so
 * a runtime restarted after a crash retries it within seconds, not when the lease ends.
 */
export class IntegrationDO extends DurableObject<Env> {
  private readonly store: DeliveryStore;
  private destroyed = false;
  /** Set when the target could not be loaded: sending waits until then. */
  private targetBackoffUntil = 0;
  /**
   * True while this instance's drain runs: only then is a held lease alive. Any other lease was
   * taken by an instance that is gone (restart) or by a drain that ended without recording it.
   */
  private draining = false;
  /** The integration id is in meta (set by the first enqueue of this instance or an earlier one). */
  private integrationIdStored = false;
  /** The send target a drain loaded, and when (reused for TARGET_REUSE_MS). */
  private loadedTarget: { target: SendTarget; at: number } | null = null;
  /** Set while an idle drain waits for the next enqueue (DRAIN_LINGER_MS): wakes it. */
  private wakeDrain: (() => void) | null = null;
  /** Bumped by pause, resume and destroy: a target loaded across one of them is not kept. */
  private targetGeneration = 0;
  /** Set while history beyond the notification budget is left to forget: the next run's time. */
  private budgetPruneAt: number | null = null;

  /** The clock. Tests replace it (runInDurableObject) to check the schedule without sleeping. */
  clock: () => number = () => Date.now();
  /** How the integration is loaded for sending (tests may point it elsewhere). */
  resolveTarget: ResolveTarget = resolveSendTarget;
  /** fetch handed to channels. */
  fetcher: typeof fetch = (input, init) => fetch(input, init);
  /** Loads a report's attachment (PDF) for channels whose sendReport carries it. */
  loadReport: LoadReport = loadReportAttachment;
  /** The most missed events one resume() replays (tests lower it). */
  replayMaxEvents = MAX_REPLAYED_EVENTS;
  /** Notification seqs one budget prune goes through (tests lower it). */
  budgetPruneChunk = BUDGET_PRUNE_CHUNK;
  /** The deployment's delivery settings (tests shorten the retry schedule, as RETRY_SCHEDULE may). */
  config: DeliveryConfig;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new DeliveryStore(ctx.storage.sql);
    this.store.migrate();
    this.config = readDeliveryConfig(env);
    // At most one instance of an object runs at a time, so a lease found at start-up belongs to an
    // instance that is gone (restart, deploy, eviction): retry its request now, not after the lease.
    ctx.blockConcurrencyWhile(async () => {
      if (this.recoverExpiredLeases(Number.MAX_SAFE_INTEGER) > 0) await this.scheduleNextAlarm();
    });
  }

  // --- RPC --------------------------------------------------------------------------------------

  /**
   * Stores the items (deduplicated by notification id) durably before answering, then wakes the
   * alarm. A storage failure is answered, not thrown across RPC (worker/outbox/enqueue.ts turns it
   * into its callers' error): nothing or everything of the batch is stored, so a re-send is safe.
   */
  async enqueue(integrationId: string, items: OutboxItem[]): Promise<EnqueueResult> {
    try {
      this.reopen();
      const now = this.clock();
      this.ctx.storage.transactionSync(() => {
        // Stored once per instance, not read on every enqueue (destroy() forgets it with the storage).
        if (!this.integrationIdStored && !this.store.getMeta(META.integrationId)) {
          this.store.setMeta(META.integrationId, integrationId);
        }
        this.store.enqueue(items, now);
      });
      this.integrationIdStored = true;
      // A running drain claims what was just stored (waking it if it waits for this), and its end
      // sets the next alarm.
      if (this.draining) this.wakeDrain?.();
      else await this.scheduleNextAlarm();
      return { stored: true };
    } catch (error) {
      console.error("outbox enqueue failed", { integrationId, error: String(error) });
      return { stored: false, error: String(error) };
    }
  }

  /** Stops sending (the integration was disabled); pending and newly enqueued items are kept. */
  async pause(): Promise<void> {
    this.reopen();
    this.forgetTarget();
    if (!this.pausedReason()) this.store.setMeta(META.paused, "manual");
    this.wakeDrain?.();
    await this.scheduleNextAlarm();
  }

  /**
   * Sends again after the integration was enabled: pending deliveries restart their retry cycle
   * (or are dropped), the failure window starts afresh; optionally the dead deliveries that
   * finished since `replayDeadSince` are replayed (once: not those replayed before), and the
   * account's subscribed events stored after `replayMissedAfterSeq` are queued (those already in
   * the outbox are not sent twice; `truncated` when more matched than `replayMaxEvents`).
   */
  async resume(opts: ResumeOptions): Promise<ResumeResult> {
    this.reopen();
    this.forgetTarget();
    const now = this.clock();
    this.recoverLostLeases(now);
    let resumed = 0;
    let dropped = 0;
    let replayedDead = 0;
    this.ctx.storage.transactionSync(() => {
      if (opts.pending === "drop") dropped = this.store.dropPending(now);
      else resumed = this.store.restartPending(now);
      if (opts.replayDeadSince !== undefined) {
        for (const dead of this.store.deadDeliveriesNotReplayed(opts.replayDeadSince)) {
          this.store.replay(dead, now, uuidv7());
          replayedDead++;
        }
      }
      this.store.setMeta(META.paused, null);
      this.store.setMeta(META.pendingDisable, null);
      this.store.setMeta(META.disableRetryAt, null);
      // A fresh failure window: the requests that led to the disable must not disable it again.
      this.store.clearWindow();
    });
    this.targetBackoffUntil = 0;
    let replayed = 0;
    let truncated = false;
    const integrationId = this.integrationId();
    if (opts.replayMissedAfterSeq !== undefined && integrationId) {
      // The account object enqueues them here, re-entrantly, while this call awaits.
      ({ replayed, truncated } = await replayMissedEvents(this.env, integrationId, {
        afterSeq: opts.replayMissedAfterSeq,
        untilSeq: opts.replayMissedUntilSeq ?? Number.MAX_SAFE_INTEGER,
        maxEvents: this.replayMaxEvents,
      }));
    }
    await this.scheduleNextAlarm();
    const result: ResumeResult = { resumed, dropped, replayed };
    if (replayedDead > 0) result.replayedDead = replayedDead;
    if (truncated) result.truncated = true;
    return result;
  }

  /** The integration was deleted: forget everything (the alarm included). */
  async destroy(): Promise<void> {
    this.destroyed = true;
    this.forgetTarget();
    this.wakeDrain?.();
    this.integrationIdStored = false;
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  async listDeliveries(query: ListQuery): Promise<DeliveryPage> {
    this.reopen();
    return deliveryPage(this.store, query, this.isPaused(), this.clock());
  }

  async health(): Promise<HealthView> {
    this.reopen();
    return healthView(this.store, this.clock(), this.config, this.pausedReason());
  }

  /** Requests and failures in [from, to), for a report; the log reaches back `retentionMs`. */
  async periodHealth(from: number, to: number): Promise<PeriodHealth> {
    this.reopen();
    // The log reaches back the retention period, or less where the notification budget forgot requests.
    const oldestKept = Math.max(this.clock() - this.config.retentionMs, this.store.logCompleteAfter() + 1);
    const covered = Math.min(to, Math.max(from, oldestKept));
    return { from: covered, to, ...this.store.requestsBetween(covered, to) };
  }

  /** Queues a new delivery with the notifications of a finished one (dead, delivered or dropped). */
  async replayDelivery(deliveryId: string): Promise<ReplayResult | "not_found" | "pending"> {
    this.reopen();
    const original = this.store.deliveryById(deliveryId);
    if (!original) return "not_found";
    if (original.state === "pending") return "pending";
    const id = this.store.replay(original, this.clock(), uuidv7());
    await this.scheduleNextAlarm();
    return { delivery_ids: [id], paused: this.isPaused() };
  }

  /** Replays every dead delivery, oldest first. */
  async replayDead(): Promise<ReplayResult> {
    this.reopen();
    const now = this.clock();
    const ids: string[] = [];
    this.ctx.storage.transactionSync(() => {
      for (const dead of this.store.deadDeliveries()) ids.push(this.store.replay(dead, now, uuidv7()));
    });
    await this.scheduleNextAlarm();
    return { delivery_ids: ids, paused: this.isPaused() };
  }

  // --- alarm ------------------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    if (this.destroyed) return;
    try {
      const now = this.clock();
      this.recoverLostLeases(now);
      this.pruneIfDue(now);
      this.pruneBeyondBudget(now);
      await this.retryPendingDisable(now);
      if (!this.isPaused()) await this.drain();
      await followUpDeadDeliveries(this.deadFollowupHost());
    } finally {
      if (!this.destroyed) await this.scheduleNextAlarm();
    }
  }

  /** Sends due deliveries one after another, oldest first, until nothing is due or the budget is spent. */
  private async drain() {
    const now = this.clock();
    if (now < this.targetBackoffUntil) return;
    const due = this.store.nextSendTime(now);
    if (due === null || due > now) return;

    const integrationId = this.integrationId();
    if (!integrationId) return;
    let target: SendTarget | null;
    /** Set when the integration exists but cannot be sent to as configured: attempts fail with it. */
    let unsendable: SendOutcome | null = null;
    try {
      target = await this.sendTarget(integrationId, now);
    } catch (error) {
      if (error instanceof SecretsUnreadableError) unsendable = invalidSettingsOutcome();
      else {
        console.error("cannot load integration for sending", { integrationId, error: String(error) });
        this.targetBackoffUntil = this.clock() + TARGET_RETRY_MS;
        return;
      }
      target = null;
    }
    if (this.destroyed) return;
    if (!target && !unsendable) {
      this.store.setMeta(META.paused, "missing");
      return;
    }
    if (target && target.status !== "enabled") {
      // D1 says disabled but pause() never reached us: D1 is the source of truth.
      this.store.setMeta(META.paused, "manual");
      return;
    }

    const batchLimit = target?.channel.batchLimit ?? 1;
    const started = Date.now();
    // If the runtime dies mid-run, its restart finds this alarm due (at once, or within
    // IN_FLIGHT_ALARM_MS) and retries the cut-off request: one alarm write per run, not per request.
    await this.ctx.storage.setAlarm(this.clock() + IN_FLIGHT_ALARM_MS);
    this.draining = true;
    try {
      await this.sendDue(target, unsendable, batchLimit, started);
    } finally {
      this.draining = false;
    }
  }

  /** The integration as D1 has it, or as a drain loaded it less than TARGET_REUSE_MS ago. */
  private async sendTarget(integrationId: string, now: number): Promise<SendTarget | null> {
    const loaded = this.loadedTarget;
    if (loaded && now - loaded.at < TARGET_REUSE_MS && now >= loaded.at) return loaded.target;
    this.loadedTarget = null;
    const generation = this.targetGeneration;
    const target = await this.resolveTarget(this.env, integrationId);
    // Only an enabled target is kept: any other answer is acted on (paused) at once.
    if (target?.status === "enabled" && generation === this.targetGeneration) this.loadedTarget = { target, at: now };
    return target;
  }

  private forgetTarget() {
    this.loadedTarget = null;
    this.targetGeneration++;
  }

  /** The drain's loop: one request at a time, each claimed (leased) before it is made. */
  private async sendDue(
    target: SendTarget | null,
    unsendable: SendOutcome | null,
    batchLimit: number,
    started: number,
  ) {
    while (!this.destroyed && !this.isPaused() && Date.now() - started < DRAIN_BUDGET_MS) {
      const claim = this.store.claimNext(this.clock(), batchLimit, LEASE_MS, () => uuidv7());
      if (!claim) {
        // A head waiting for its retry ends the run; an empty outbox waits a moment for more.
        if (this.store.head() || !(await this.nextEnqueue())) return;
        continue;
      }
      const startedAt = this.clock();
      const outcome = target
        ? await sendDelivery(this.env, target, claim.id, claim.items, {
            fetch: this.fetcher,
            loadReport: this.loadReport,
          })
        : (unsendable ?? invalidSettingsOutcome());
      if (this.destroyed) return;
      const disable = this.recordOutcome(claim, outcome, startedAt);
      if (disable) {
        await this.retryPendingDisable(this.clock(), true);
        return;
      }
    }
  }

  /** Resolves true when an enqueue (or pause, destroy) wakes the drain within DRAIN_LINGER_MS, else false. */
  private nextEnqueue(): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeDrain = null;
        resolve(false);
      }, DRAIN_LINGER_MS);
      this.wakeDrain = () => {
        clearTimeout(timer);
        this.wakeDrain = null;
        resolve(true);
      };
    });
  }

  /**
   * Records a request's outcome and decides what follows: delivered; retry after the schedule's
   * delay (lengthened by Retry-After); dead after the last retry; and for a failure, whether the
   * integration must be disabled (410 Gone, or the failure window's rule). One transaction.
   */
  private recordOutcome(claim: ClaimedDelivery, outcome: AttemptOutcome, startedAt: number): DisableRequest | null {
    const now = this.clock();
    const windowConfig = this.config.failureWindow;
    let disable: DisableRequest | null = null;
    this.ctx.storage.transactionSync(() => {
      const delivery = this.store.delivery(claim.seq);
      if (!delivery) return; // dropped from under us (destroyed): nothing to record
      const counted = !("interrupted" in outcome);
      this.store.recordAttempt(claim, outcome, startedAt, counted ? bucketStartFor(startedAt, windowConfig) : null);
      if (outcome.ok) {
        this.store.markDelivered(claim.seq, now);
        return;
      }
      if (delivery.state !== "pending") return;
      if (outcome.gone) {
        this.store.markRetry(claim.seq, now, now);
        disable = { reason: "destination_gone", details: { status: 410 }, at: now };
      } else {
        // A request cut off by a restart says nothing about the receiver: it is made again soon
        // and uses up none of the delivery's retries (else a crash late in the schedule would
        // stall sending for up to its longest wait).
        const delay = counted
          ? retryDelayMs(this.config.retryScheduleSeconds, delivery.failed_in_cycle + 1, outcome.retryAfterSeconds)
          : INTERRUPTED_RETRY_MS;
        if (delay === null) {
          this.store.markDead(claim.seq, now);
          this.store.addDeadFollowup(claim.seq, now, deathIsAnnounced(claim.items));
        } else this.store.markRetry(claim.seq, now, now + delay, counted);
        const totals = windowTotals(this.store.buckets(), now, windowConfig);
        if (counted && shouldAutoDisable(totals, windowConfig)) {
          disable = {
            reason: "auto_failure_ratio",
            details: {
              requests: totals.total,
              failed: totals.failed,
              failure_ratio: Math.round(totals.failureRatio * 10_000) / 10_000,
              window_seconds: windowConfig.windowMs / 1000,
              threshold_ratio: windowConfig.ratio,
              min_requests: windowConfig.minRequests,
            },
            at: now,
          };
        }
      }
      if (disable && !this.isPaused()) {
        this.store.setMeta(META.paused, disable.reason);
        this.store.setMeta(META.pendingDisable, JSON.stringify(disable));
      } else {
        disable = null;
      }
    });
    return disable;
  }

  /**
   * Leases no running request holds: every lease when this instance is not sending (its holder is
   * gone), else only those past their time.
   */
  private recoverLostLeases(now: number): number {
    return this.recoverExpiredLeases(this.draining ? now : Number.MAX_SAFE_INTEGER);
  }

  /** A delivery whose lease ran out without an outcome was cut off mid-request: log it and retry on schedule. */
  private recoverExpiredLeases(now: number): number {
    const expired = this.store.expiredLeases(now);
    for (const delivery of expired) {
      const outcome: AttemptOutcome = {
        ok: false,
        kind: "network",
        interrupted: true,
        latencyMs: 0,
        error: "interrupted: Herald restarted before the request's outcome was recorded",
        requestBody: "",
      };
      this.recordOutcome(
        {
          seq: delivery.seq,
          id: delivery.id,
          requestNumber: delivery.requests,
          plannedAt: delivery.next_attempt_at ?? this.clock(),
          leaseUntil: delivery.lease_until ?? this.clock(),
          items: [],
        },
        outcome,
        (delivery.lease_until ?? this.clock()) - LEASE_MS,
      );
    }
    return expired.length;
  }

  /** Records a pending automatic disable in D1 (audit, system event, emails); retried until it succeeds. */
  private async retryPendingDisable(now: number, force = false) {
    const pending = this.store.getMeta(META.pendingDisable);
    if (!pending) return;
    const retryAt = Number(this.store.getMeta(META.disableRetryAt) ?? 0);
    if (!force && retryAt > now) return;
    const integrationId = this.integrationId();
    if (!integrationId) return;
    try {
      await recordAutoDisable(this.env, integrationId, JSON.parse(pending) as DisableRequest);
      this.store.setMeta(META.pendingDisable, null);
      this.store.setMeta(META.disableRetryAt, null);
    } catch (error) {
      console.error("auto-disable not recorded yet", { integrationId, error: String(error) });
      this.store.setMeta(META.disableRetryAt, String(this.clock() + TARGET_RETRY_MS));
    }
  }

  private pruneIfDue(now: number) {
    const last = Number(this.store.getMeta(META.lastPrunedAt) ?? 0);
    if (now - last < PRUNE_SPACING_MS) return;
    this.ctx.storage.transactionSync(() => {
      this.store.prune(now - this.config.retentionMs, now, this.config.failureWindow.windowMs);
      this.store.setMeta(META.lastPrunedAt, String(now));
    });
  }

  /**
   * Keeps the object's history within DELIVERY_LOG_MAX_NOTIFICATIONS (docs/delivery.md#retention):
   * a busy integration would otherwise fill its object long before the retention period ends.
   */
  private pruneBeyondBudget(now: number) {
    const more = this.ctx.storage.transactionSync(() =>
      this.store.pruneBeyond(this.config.maxLogNotifications, this.budgetPruneChunk),
    );
    this.budgetPruneAt = more ? now + BUDGET_PRUNE_AGAIN_MS : null;
  }

  /**
   * Sets the one alarm to the earliest due time — the head delivery's retry or lease, queued
   * notifications (now), a pending D1 disable, dead deliveries to announce or hand over, the next
   * retention prune or the rest of a budget prune — or deletes it.
   */
  private async scheduleNextAlarm() {
    if (this.destroyed) return;
    const now = this.clock();
    const candidates: number[] = [];
    const head = this.store.head();
    if (!this.isPaused()) {
      const send = this.store.nextSendTime(now, head);
      if (send !== null) candidates.push(Math.max(send, this.targetBackoffUntil));
    }
    const lease = head?.lease_until;
    // A live request (this instance is draining) keeps the alarm near, for a restart to find;
    // a lease nobody holds any more is recovered at once.
    if (lease) candidates.push(this.draining ? Math.min(lease, now + IN_FLIGHT_ALARM_MS) : now);
    if (this.store.getMeta(META.pendingDisable))
      candidates.push(Number(this.store.getMeta(META.disableRetryAt) ?? now));
    if (this.budgetPruneAt !== null) candidates.push(this.budgetPruneAt);
    const deadFollowup = deadFollowupDue(this.store, now);
    if (deadFollowup !== null) candidates.push(deadFollowup);
    const oldest = this.store.oldestFinishedAt();
    if (oldest !== null) {
      const last = Number(this.store.getMeta(META.lastPrunedAt) ?? 0);
      candidates.push(Math.max(oldest + this.config.retentionMs, last + PRUNE_SPACING_MS));
    }
    const next = candidates.length ? Math.min(...candidates) : null;
    const current = await this.ctx.storage.getAlarm();
    if (next === null) {
      if (current !== null) await this.ctx.storage.deleteAlarm();
    } else if (current !== next && !(this.draining && current !== null && current < next)) {
      // (While draining, an earlier alarm is kept: the run's end sets the real one.)
      await this.ctx.storage.setAlarm(next);
    }
  }

  // --- state ------------------------------------------------------------------------------------

  /** What the dead deliveries' follow-up (dead-deliveries.ts) works with. */
  private deadFollowupHost(): FollowUpHost {
    return {
      env: this.env,
      store: this.store,
      clock: () => this.clock(),
      integrationId: this.integrationId(),
      transaction: (write) => this.ctx.storage.transactionSync(write),
      destroyed: () => this.destroyed,
    };
  }

  /** After destroy(), a late call (fan-out racing the delete) starts from an empty outbox. */
  private reopen() {
    if (!this.destroyed) return;
    this.destroyed = false;
    this.store.migrate();
  }

  /** The name the object was addressed by (idFromName(integrationId)); enqueue's argument as a fallback. */
  private integrationId(): string | null {
    return this.ctx.id.name ?? this.store.getMeta(META.integrationId) ?? null;
  }

  private pausedReason(): string | null {
    return this.store.getMeta(META.paused);
  }

  private isPaused(): boolean {
    return this.pausedReason() !== null;
  }
}
