/**
 * Triggers and silences on the account object's ingest path (docs/triggers.md#evaluation): the
 * evaluator runs over the object's SQLite with the triggers and silences of its control snapshot,
 * and what it decides becomes outbox items that the object queues in the same `enqueue` per
 * integration as the group's subscription fan-out. No D1 read per event or per group.
 */
import type { StoredEvent } from "../domain/event-filters";
import type { OutboxItem } from "../domain/notification";
import { buildNotification, type NotifiableEvent } from "../domain/notify-build";
import {
  buildSecurityIssueClosedNotification,
  buildSecurityIssueReopenedNotification,
} from "../domain/security-issue-notifications";
import { subscribesTo } from "../domain/subscriptions";
import {
  buildNodeSilenceNotification,
  buildThresholdNotification,
  buildTriggerEventNotification,
  type NotificationContext,
} from "../domain/trigger-notifications";
import type { Trigger } from "../domain/triggers";
import { MINUTE_MS } from "../lib/time";
import type { FanOutTarget } from "../outbox/fan-out";
import { type KnownNode, TriggerEvaluator } from "../triggers/evaluator";
import type { TopEntry, TriggerNotice } from "../triggers/notices";
import { compileTrigger } from "../triggers/rules";
import type { ControlSnapshot } from "./control-snapshot";

/** Integration id → items: the shape of a fan-out plan (worker/outbox/fan-out.ts). */
export type ItemPlan = Map<string, OutboxItem[]>;

/** A fresh event of a group as the evaluator reads it, and as its notification is built. */
export interface HookEvent {
  stored: StoredEvent;
  notifiable: NotifiableEvent;
}

/** Silenced counts reach D1 at most this often. */
const COUNTS_FLUSH_EVERY_MS = MINUTE_MS;
/** Trigger items whose enqueue failed are retried by the alarm this long after. */
const RETRY_AFTER_MS = MINUTE_MS;

const PENDING_SCHEMA = `CREATE TABLE IF NOT EXISTS trigger_pending_items (
  integration_id TEXT NOT NULL, notification_id TEXT NOT NULL, item TEXT NOT NULL,
  PRIMARY KEY (integration_id, notification_id)
) WITHOUT ROWID`;

const enabledIds = (targets: readonly FanOutTarget[]) =>
  new Set(targets.filter((t) => t.untilSeq === undefined || t.untilSeq === null).map((t) => t.id));

const hasNodeSilence = (triggers: readonly Trigger[]) => triggers.some((t) => t.condition.kind === "node_silence");

/**
 * Adds `extra` to `plan`, one item per notification id and integration: a trigger's item replaces
 * the subscription's item of the same event (same id, it says which trigger sent it), so an event
 * that both would send reaches an integration once (docs/triggers.md).
 */
export function mergePlans(plan: ItemPlan, extra: ItemPlan | undefined): ItemPlan {
  if (!extra) return plan;
  for (const [integrationId, items] of extra) {
    const current = plan.get(integrationId) ?? [];
    const byId = new Map(current.map((item) => [item.notification.id, item]));
    for (const item of items) byId.set(item.notification.id, item);
    plan.set(integrationId, [...byId.values()]);
  }
  return plan;
}

export class TriggerHook {
  private evaluatorValue: TriggerEvaluator | null = null;
  private pendingReady = false;
  /** Whether `trigger_pending_items` has rows: read once, then kept (only this class writes it). */
  private pendingKnown: boolean | null = null;
  /** Muted counts changed since they were last copied to D1 (unknown after a restart: copied once). */
  private countsDirty = true;
  private countsFlushedAt = 0;
  /**
   * Per control snapshot: whether it has node-silence triggers and, then, a lower bound of the
   * earliest node-silence deadline (posts only move deadlines later), so a group asks
   * `checkSilence` only once one may be due or a silent node posts. Dropped after every check.
   */
  private silenceWatch: { control: ControlSnapshot; watch: boolean; dueAt: number | null } | null = null;

  constructor(private readonly sql: SqlStorage) {}

  private watchOf(control: ControlSnapshot) {
    if (this.silenceWatch?.control !== control) {
      const watch = hasNodeSilence(control.triggers);
      this.silenceWatch = {
        control,
        watch,
        dueAt: watch ? this.evaluator.dueAt(control.triggers, knownNodes(control)) : null,
      };
    }
    return this.silenceWatch;
  }

  /** Node-silence notices due at `now` (their episodes change: the lower bound is computed again). */
  private checkSilence(control: ControlSnapshot, now: number): TriggerNotice[] {
    const notices = this.evaluator.checkSilence(control.triggers, knownNodes(control), now);
    this.silenceWatch = null;
    return notices;
  }

  /** Created on first use: an account without triggers or silences never builds their tables. */
  private get evaluator(): TriggerEvaluator {
    this.evaluatorValue ??= new TriggerEvaluator(this.sql);
    return this.evaluatorValue;
  }

  private static idle(control: ControlSnapshot): boolean {
    return control.triggers.length === 0 && control.silences.length === 0;
  }

  /**
   * A group's fresh, notifiable events (in the order they were stored) and the nodes that posted:
   * the event ids silences muted, and the trigger items per integration (node recoveries included).
   */
  evaluate(
    control: ControlSnapshot,
    events: readonly HookEvent[],
    posted: ReadonlyMap<string, number>,
    context: NotificationContext,
    now: number,
  ): { muted: Set<string>; plan: ItemPlan } {
    if (TriggerHook.idle(control)) return { muted: new Set(), plan: new Map() };
    const silenceWatch = this.watchOf(control);
    let recovering = false;
    if (silenceWatch.watch) {
      for (const [nodeId, at] of posted) {
        this.evaluator.recordNodeSeen(nodeId, at);
        if (this.evaluator.hasEpisode(nodeId)) recovering = true;
      }
    }
    const outcome =
      events.length > 0
        ? this.evaluator.evaluate(
            control.triggers,
            control.silences,
            control.timeZone,
            events.map((e) => e.stored),
            now,
          )
        : null;
    if (outcome && outcome.silenced > 0) this.countsDirty = true;
    const notices = outcome?.notices ?? [];
    const due = silenceWatch.dueAt;
    if (silenceWatch.watch && (recovering || (due !== null && due <= now))) {
      notices.push(...this.checkSilence(control, now));
    }
    const muted = new Set(outcome?.silencedEventIds);
    if (notices.length === 0) return { muted, plan: new Map() };
    const byId = new Map(events.map((e) => [e.notifiable.id, e.notifiable]));
    return { muted, plan: this.itemsOf(control, notices, byId, context) };
  }

  /** The earliest instant the alarm has trigger work: a node-silence deadline, a retry, a counts copy. */
  dueAt(control: ControlSnapshot | null, now: number): number | null {
    const candidates: number[] = [];
    if (control && hasNodeSilence(control.triggers)) {
      const due = this.evaluator.dueAt(control.triggers, knownNodes(control));
      if (due !== null) candidates.push(due);
    }
    if (this.evaluatorValue && this.countsDirty) candidates.push(this.countsFlushedAt + COUNTS_FLUSH_EVERY_MS);
    if (this.hasPending()) candidates.push(now + RETRY_AFTER_MS);
    return candidates.length > 0 ? Math.min(...candidates) : null;
  }

  /** Counts kept in memory since the evaluator's last write, written now (the alarm's run). */
  persist(now: number) {
    this.evaluatorValue?.persist(now);
  }

  /** Node-silence notices due at `now` (the alarm's run). */
  dueNotices(control: ControlSnapshot, context: NotificationContext, now: number): ItemPlan {
    if (!hasNodeSilence(control.triggers)) return new Map();
    return this.itemsOf(control, this.checkSilence(control, now), new Map(), context);
  }

  /** The muted totals per silence, when they are due for D1 (at most once a minute); then marked copied. */
  countsToCopy(now: number): Record<string, number> | null {
    if (!this.evaluatorValue || !this.countsDirty || now - this.countsFlushedAt < COUNTS_FLUSH_EVERY_MS) return null;
    return this.evaluator.silencedCounts();
  }

  countsCopied(now: number) {
    this.countsDirty = false;
    this.countsFlushedAt = now;
  }

  countsRetryLater(now: number) {
    this.countsFlushedAt = now;
  }

  /**
   * A security issue closed or reopened: the short notice (a resolve / re-trigger for incident
   * systems) to every enabled integration that would have received the issue — by subscription
   * to its risk, or named by an enabled trigger whose filters take it.
   */
  issueStatusItems(
    control: ControlSnapshot,
    state: "closed" | "reopened",
    issue: IssueForNotice,
    actor: string,
    at: number,
    context: NotificationContext,
  ): ItemPlan {
    const build = state === "closed" ? buildSecurityIssueClosedNotification : buildSecurityIssueReopenedNotification;
    const item: OutboxItem = { notification: build(issue, actor, { ...context, at }) };
    const enabled = enabledIds(control.targets);
    const receivers = new Set(
      control.targets
        .filter(
          (t) => enabled.has(t.id) && subscribesTo(t.events, { type: "security_issue", risk: issue.risk as never }),
        )
        .map((t) => t.id),
    );
    const asEvent: StoredEvent = {
      id: issue.id,
      nodeId: issue.nodeId,
      occurredAt: at,
      data: {
        type: "security_issue",
        occurred_at: new Date(at).toISOString(),
        risk: issue.risk,
        title: issue.title,
        vuln_type: issue.vulnType,
        host: issue.host,
        path: issue.path,
      } as StoredEvent["data"],
    };
    for (const trigger of control.triggers) {
      const kind = trigger.condition.kind;
      if (kind !== "each_event" && kind !== "threshold") continue;
      if (!compileTrigger(trigger).matches(asEvent)) continue;
      for (const id of trigger.integration_ids) if (enabled.has(id)) receivers.add(id);
    }
    return new Map([...receivers].map((id) => [id, [item]]));
  }

  /** Keeps trigger items whose enqueue failed, for the alarm to queue again (outboxes dedupe by id). */
  defer(plan: ItemPlan) {
    this.ensurePending();
    for (const [integrationId, items] of plan) {
      for (const item of items) {
        this.sql.exec(
          `INSERT OR REPLACE INTO trigger_pending_items (integration_id, notification_id, item) VALUES (?, ?, ?)`,
          integrationId,
          item.notification.id,
          JSON.stringify(item),
        );
        this.pendingKnown = true;
      }
    }
  }

  /** The deferred items, taken out (defer them again if queueing fails once more). */
  takePending(): ItemPlan {
    const plan: ItemPlan = new Map();
    if (!this.hasPending()) return plan;
    const rows = this.sql
      .exec<{ integration_id: string; item: string }>("SELECT integration_id, item FROM trigger_pending_items")
      .toArray();
    this.sql.exec("DELETE FROM trigger_pending_items");
    this.pendingKnown = false;
    for (const row of rows) {
      const items = plan.get(row.integration_id) ?? [];
      items.push(JSON.parse(row.item) as OutboxItem);
      plan.set(row.integration_id, items);
    }
    return plan;
  }

  /** Asked after every group (the alarm's schedule): SQLite is read only the first time. */
  private hasPending(): boolean {
    if (this.pendingKnown === null) {
      this.ensurePending();
      this.pendingKnown = this.sql.exec("SELECT 1 FROM trigger_pending_items LIMIT 1").toArray().length > 0;
    }
    return this.pendingKnown;
  }

  private ensurePending() {
    if (this.pendingReady) return;
    this.sql.exec(PENDING_SCHEMA);
    this.pendingReady = true;
  }

  /** Notices to items, for the enabled integrations each trigger names (a disabled or deleted one is skipped). */
  private itemsOf(
    control: ControlSnapshot,
    notices: readonly TriggerNotice[],
    events: ReadonlyMap<string, NotifiableEvent>,
    context: NotificationContext,
  ): ItemPlan {
    const plan: ItemPlan = new Map();
    if (notices.length === 0) return plan;
    const enabled = enabledIds(control.targets);
    const triggers = new Map(control.triggers.map((t) => [t.id, t]));
    for (const notice of notices) {
      const trigger = triggers.get(notice.triggerId);
      if (!trigger) continue;
      const item = toItem(notice, trigger, events, context);
      if (!item) continue;
      for (const id of trigger.integration_ids) {
        if (!enabled.has(id)) continue;
        const items = plan.get(id) ?? [];
        if (!items.some((i) => i.notification.id === item.notification.id)) items.push(item);
        plan.set(id, items);
      }
    }
    return plan;
  }
}

/** The fields of a security issue its closed / reopened notice names. */
export interface IssueForNotice {
  id: string;
  fingerprint: string;
  risk: string;
  title: string;
  host: string;
  path: string;
  vulnType: string;
  nodeId: string | null;
}

function knownNodes(control: ControlSnapshot): KnownNode[] {
  return [...control.nodesById.values()].map((n) => ({
    id: n.id,
    name: n.name,
    createdAt: n.createdAt,
    revoked: n.revoked,
  }));
}

const tops = (entries: TopEntry[]) => entries.map((e) => ({ key: e.value, count: e.count }));

function toItem(
  notice: TriggerNotice,
  trigger: Trigger,
  events: ReadonlyMap<string, NotifiableEvent>,
  context: NotificationContext,
): OutboxItem | null {
  const ref = { id: trigger.id, name: trigger.name };
  switch (notice.kind) {
    case "trigger_event": {
      const event = events.get(notice.event.id);
      if (!event) return null;
      const plain = buildNotification(event, context.accountName, context.publicUrl);
      return { notification: buildTriggerEventNotification(plain, ref, notice.group), eventId: event.id };
    }
    case "trigger_threshold": {
      const { filters } = trigger;
      return {
        notification: buildThresholdNotification({
          ...context,
          trigger: ref,
          group: notice.group,
          count: notice.count,
          threshold: notice.threshold,
          windowStart: notice.windowStart,
          windowEnd: notice.windowEnd,
          firedAt: notice.firedAt,
          eventTypes: filters.event_types,
          filters: { attackTypes: filters.attack_types, hosts: filters.hosts, minRisk: filters.min_risk },
          top: {
            hosts: tops(notice.top.hosts),
            attackTypes: tops(notice.top.attackTypes),
            sourceIps: tops(notice.top.sourceIps),
            countries: tops(notice.top.countries),
          },
        }),
      };
    }
    case "node_silent":
    case "node_recovered": {
      const silenceMinutes = trigger.condition.kind === "node_silence" ? trigger.condition.silence_minutes : 0;
      const recovered = notice.kind === "node_recovered";
      return {
        notification: buildNodeSilenceNotification({
          ...context,
          state: recovered ? "recovered" : "silent",
          trigger: ref,
          node: { id: notice.nodeId, name: notice.nodeName },
          lastEventAt: recovered ? notice.silentSince : notice.lastSeenAt,
          silenceMinutes,
          at: recovered ? notice.recoveredAt : notice.firedAt,
        }),
      };
    }
  }
}
