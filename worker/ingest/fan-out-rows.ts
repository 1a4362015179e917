/**
 * What the account object does with stored events that are not finished yet (fresh ones, a
 * re-send's stored-before rows, what the alarm finds): decide which are notified — security
 * issues only when new (account-store.ts) — queue them in every integration that takes them, link
 * them for `/events/<id>`, and queue their processed marks.
 */
import type { NodeEvent } from "../domain/events";
import type { NotifiableEvent } from "../domain/notify-build";
import { type CompiledSilence, compileSilences, isSilenced } from "../domain/silences";
import type { ShardEventKey } from "../events/shard-types";
import { appendTo } from "../lib/group-by";
import { enqueuePlan } from "../outbox/enqueue";
import { anyTargetMayWant, planFanOut } from "../outbox/fan-out";
import type { AccountIngestDO } from "./account-do";
import type { ControlSnapshot } from "./control-snapshot";
import { type ItemPlan, mergePlans } from "./trigger-hook";

/** A stored event waiting for its fan-out, and the shard that holds it. */
export interface Unfinished {
  shard: string;
  event: NotifiableEvent;
}

/** Each control snapshot's silences, compiled once. */
const compiledSilences = new WeakMap<ControlSnapshot, CompiledSilence[]>();

/**
 * Muted by a silence? Fresh events are judged (and counted) by the trigger hook; this is for rows
 * finished later — a re-send of a stored row, the alarm's sweep — which must stay muted too.
 */
function mutedBySilence(control: ControlSnapshot, event: NotifiableEvent, nodeId: string | null): boolean {
  if (control.silences.length === 0 || event.type === "system") return false;
  let silences = compiledSilences.get(control);
  if (!silences) {
    silences = compileSilences(control.silences);
    compiledSilences.set(control, silences);
  }
  const stored = { id: event.id, nodeId, occurredAt: event.occurredAt, data: event.data as NodeEvent };
  return isSilenced(silences, stored, control.timeZone);
}

/**
 * Whether a stored, unfinished event is to be notified now (its notification is not queued yet):
 * some target may want it, it is not too old, no silence mutes it, and a security issue is news. A security issue
 * decided before (a fan-out that failed) keeps that decision; one never decided is decided now and
 * taken into the issues.
 */
export function needsNotification(
  account: AccountIngestDO,
  control: ControlSnapshot,
  event: NotifiableEvent,
  tooOld: boolean,
  nodeId: string | null,
): boolean {
  if (tooOld || !anyTargetMayWant(control.targets, { type: event.type, risk: event.risk ?? null })) return false;
  if (mutedBySilence(control, event, nodeId)) return false;
  if (event.type !== "security_issue") return true;
  const decided = account.store.decision(event.occurredAt, event.id);
  if (decided !== null) return decided;
  const report = event.data as Extract<NodeEvent, { type: "security_issue" }>;
  const notify = account.store.isNewIssue(report, event.occurredAt);
  account.store.rememberDecision(event.occurredAt, event.id, notify);
  account.store.upsertIssues([{ event: report, occurredAt: event.occurredAt }]);
  return notify;
}

/**
 * Queues these events' notifications in every integration that takes them (one enqueue per
 * integration for all of them) and links the queued ones. False when any queueing failed: nothing
 * is marked, a re-send or the alarm queues them again (outboxes dedupe by notification id).
 * `triggerItems` (worker/ingest/trigger-hook.ts) go in the same enqueue; when it fails they are
 * kept for the alarm, since a re-send's events are no longer fresh and would not fire again.
 */
export async function fanOut(
  account: AccountIngestDO,
  control: ControlSnapshot,
  rows: Unfinished[],
  triggerItems?: ItemPlan,
): Promise<boolean> {
  if (rows.length === 0 && !triggerItems?.size) return true;
  const plan = mergePlans(
    planFanOut(
      control.targets,
      rows.map((r) => r.event),
      control.accountName,
      account.environment.PUBLIC_URL,
    ),
    triggerItems,
  );
  try {
    await enqueuePlan(account.environment, plan);
  } catch (error) {
    console.error("notification queueing failed", { accountId: account.accountId, error: String(error) });
    if (triggerItems?.size) account.triggers.defer(triggerItems);
    return false;
  }
  // Hits are not linked: a notification's link carries the event's time (eventLink), and at a
  // busy account's rate a link per notified hit would outgrow the object (README, Capacity).
  return true;
}

/** Marks finished events processed (with the next write to their shard, or the alarm). */
export function finish(account: AccountIngestDO, rows: Unfinished[]): void {
  // Every event but a hit is findable by its id alone, notified or not (a hit with its time).
  account.store.link(
    rows
      .filter((r) => r.event.type !== "hit")
      .map((r) => ({ id: r.event.id, shard: r.shard, occurredAt: r.event.occurredAt })),
  );
  const byShard = new Map<string, ShardEventKey[]>();
  for (const { shard, event } of rows) appendTo(byShard, shard, { id: event.id, occurredAt: event.occurredAt });
  for (const [shard, keys] of byShard) account.queueMarks(shard, keys);
  const issues = rows.filter((r) => r.event.type === "security_issue");
  account.store.forgetDecisions(issues.map((r) => [r.event.id, r.event.occurredAt]));
}
