/**
 * The account object's work outside a node's request: system events (stored in the shards and
 * fanned out like node events) and the alarm's sweep of rows a crash left unfinished between the
 * shard write and the fan-out, when the node never re-sent them (docs/data-plane.md).
 */
import type { NodeEvent } from "../domain/events";
import { tooOldToNotify } from "../domain/notify-age";
import type { NotifiableEvent } from "../domain/notify-build";
import type { SystemEventData } from "../domain/system-events";
import { eventShardObject } from "../events/objects";
import type { ShardInsertResult, StoredShardEvent } from "../events/shard-types";
import { appendTo } from "../lib/group-by";
import { DAY_MS, MINUTE_MS } from "../lib/time";
import { anyEnabledTargetWants, anyTargetMayWant } from "../outbox/fan-out";
import type { AccountIngestDO } from "./account-do";
import type { ControlSnapshot } from "./control-snapshot";
import { fanOut, finish, needsNotification, type Unfinished } from "./fan-out-rows";
import { countHeldBack } from "./held-back";
import type { HookEvent } from "./trigger-hook";

const context = (account: AccountIngestDO, control: ControlSnapshot) => ({
  accountName: control.accountName,
  publicUrl: account.environment.PUBLIC_URL,
});

/** Younger rows may still be on their way through the request or call that stored them. */
export const SWEEP_MIN_AGE_MS = MINUTE_MS;
/** Older system notices are stale: a day-old "integration disabled" helps nobody. */
const SYSTEM_MAX_AGE_MS = DAY_MS;
/** Shards written within this long are looked at by the sweep. */
const SWEEP_SHARDS_WITHIN_MS = 2 * DAY_MS;
/** Rows per shard per alarm run. */
const SWEEP_BATCH = 500;

/** A system event as the D1 outbox `system_event_outbox` holds it. */
export interface SystemEventInput {
  id: string;
  occurredAt: number;
  systemType: string;
  data: SystemEventData;
}

const systemTooOld = (occurredAt: number, now: number) => now - occurredAt > SYSTEM_MAX_AGE_MS;

/** Stores system events in their shards and fans them out; answers how many were new. */
export async function recordSystemEvents(account: AccountIngestDO, rows: SystemEventInput[]): Promise<number> {
  const control = await account.currentControl();
  if (!control || rows.length === 0) return 0;
  let seq = account.store.allocateSeqs(rows.length);
  const seqs = rows.map(() => seq++);
  const routes = await account.directory.routes(rows.map((r) => ({ id: r.id, occurredAt: r.occurredAt })));
  const now = Date.now();
  await account.directory.register(routes, now);
  const byShard = new Map<string, number[]>();
  routes.forEach((route, i) => {
    appendTo(byShard, route.name, i);
  });
  let stored = 0;
  const triggerEvents: HookEvent[] = [];
  const unfinished: Unfinished[] = [];
  const toFinish: Unfinished[] = [];
  // The shards are written together; each answer is then taken in order, as one by one.
  const shardWrites = await Promise.allSettled(
    [...byShard].map(([name, indexes]) =>
      eventShardObject(account.environment, name).insert({
        rows: indexes.map((i) => {
          const row = rows[i] as SystemEventInput;
          return {
            id: row.id,
            occurredAt: row.occurredAt,
            receivedAt: now,
            seq: seqs[i] as number,
            nodeId: null,
            type: "system",
            systemType: row.systemType,
            data: JSON.stringify(row.data),
            processed: !anyTargetMayWant(control.targets, { type: "system" }),
          };
        }),
      }),
    ),
  );
  const failures: unknown[] = [];
  for (const [j, [name, indexes]] of [...byShard].entries()) {
    const answer = shardWrites[j] as PromiseSettledResult<ShardInsertResult>;
    if (answer.status === "rejected" || answer.value.full) {
      failures.push(answer.status === "rejected" ? answer.reason : new Error(`shard ${name} is full`));
      continue;
    }
    const result = answer.value;
    const route = routes[indexes[0] as number];
    const written = indexes.map((i) => seqs[i] as number);
    account.store.recordShardWrite(name, route?.period.start ?? 0, Math.min(...written), Math.max(...written), now);
    account.shardSizes.set(name, {
      events: result.events,
      bytes: result.bytes,
      maxSeq: Math.max(...written),
      periodStart: route?.period.start ?? 0,
    });
    result.rows.forEach((inserted, k) => {
      const row = rows[indexes[k] as number] as SystemEventInput;
      const event: NotifiableEvent = {
        id: row.id,
        seq: inserted.seq,
        type: "system",
        occurredAt: row.occurredAt,
        systemType: row.systemType,
        data: row.data,
      };
      if (inserted.fresh) stored++;
      if (inserted.fresh && !systemTooOld(row.occurredAt, now)) {
        triggerEvents.push({
          stored: { id: row.id, nodeId: null, occurredAt: row.occurredAt, data: row.data },
          notifiable: event,
        });
      }
      if (inserted.processed || (!inserted.fresh && inserted.data === undefined)) return;
      const notify = needsNotification(account, control, event, systemTooOld(row.occurredAt, now), null);
      (notify ? unfinished : toFinish).push({ shard: name, event });
    });
  }
  // Written shards are recorded above (the alarm's sweep finds their rows); the caller retries.
  if (failures.length > 0) throw failures[0];
  // System-event triggers (worker/ingest/trigger-hook.ts), in the same enqueue.
  const triggered = account.triggers.evaluate(control, triggerEvents, new Map(), context(account, control), now);
  const queued = await fanOut(account, control, unfinished, triggered.plan);
  finish(account, queued ? [...unfinished, ...toFinish] : toFinish);
  return stored;
}

/**
 * Finishes rows of recently written shards that were stored but never fanned out (their request
 * failed after the shard write and the node did not re-send): queued as the request would have
 * queued them, or, too old by now, counted towards their node's held-back notice.
 */
export async function finishUnprocessed(account: AccountIngestDO, now: number, maxAgeMs: number | null) {
  const shards = account.store.shardsWrittenSince(now - SWEEP_SHARDS_WITHIN_MS);
  if (shards.length === 0) return;
  const control = await account.currentControl();
  if (!control) return;
  const unfinished: Unfinished[] = [];
  const toFinish: Unfinished[] = [];
  const heldBack = new Map<string, number[]>();
  for (const { shard } of shards) {
    let rows: StoredShardEvent[];
    try {
      rows = await eventShardObject(account.environment, shard).unprocessed({
        receivedBefore: now - SWEEP_MIN_AGE_MS,
        limit: SWEEP_BATCH,
      });
    } catch (error) {
      console.error("sweep: reading unprocessed rows failed", { shard, error: String(error) });
      continue;
    }
    for (const row of rows) {
      if (account.isMarkPending(shard, row)) continue;
      const event: NotifiableEvent = {
        id: row.id,
        seq: row.seq,
        type: row.type,
        risk: row.risk,
        occurredAt: row.occurredAt,
        systemType: row.systemType,
        data: JSON.parse(row.data) as NodeEvent,
      };
      const tooOld =
        row.type === "system" ? systemTooOld(row.occurredAt, now) : tooOldToNotify(row.occurredAt, now, maxAgeMs);
      if (tooOld && row.nodeId && anyEnabledTargetWants(control.targets, { type: row.type, risk: row.risk })) {
        appendTo(heldBack, row.nodeId, row.occurredAt);
      }
      const notify = needsNotification(account, control, event, tooOld, row.nodeId);
      (notify ? unfinished : toFinish).push({ shard, event });
    }
  }
  await countHeldBack(account.environment.DB, account.accountId, heldBack, now);
  const queued = await fanOut(account, control, unfinished);
  finish(account, queued ? [...unfinished, ...toFinish] : toFinish);
}
