/**
 * Writes one group of concurrent ingest calls of an account (docs/data-plane.md#accountingestdo):
 * seqs handed out at once, one `insert` per shard, issue de-duplication, one `enqueue` per
 * integration, held-back counts and node counters. Each call is still all-or-nothing towards its
 * node: it is answered 202 only when every shard its events went to stored them and every
 * notification of the group was queued; otherwise 503 and the node re-sends the same request.
 */
import type { NodeEvent } from "../domain/events";
import { notifyMaxAge, tooOldToNotify } from "../domain/notify-age";
import type { NotifiableEvent } from "../domain/notify-build";
import { eventShardObject } from "../events/objects";
import type { ShardInsertedRow, ShardInsertRow } from "../events/shard-types";
import { appendTo } from "../lib/group-by";
import { MINUTE_MS } from "../lib/time";
import { anyEnabledTargetWants, anyTargetMayWant } from "../outbox/fan-out";
import type { AccountIngestDO, IngestCall, IngestOutcome } from "./account-do";
import { fanOut, finish, needsNotification, type Unfinished } from "./fan-out-rows";
import { countHeldBack } from "./held-back";
import type { ShardRoute } from "./shard-routing";
import type { HookEvent } from "./trigger-hook";

interface Prepared {
  call: number;
  event: NodeEvent;
  /** The event as the Worker sent it (JSON text): stored as is. */
  json: string;
  occurredAt: number;
  seq: number;
  /** Too old to notify when it arrived (NOTIFY_MAX_AGE). */
  late: boolean;
  /** Some target may want it (a disabled one included: a re-send may be before its marker). */
  wanted: boolean;
  route?: ShardRoute;
  result?: ShardInsertedRow;
}

/** Wanted by a target, or a security issue (which always updates the issues): left unprocessed at insert. */
const needsFinishing = (p: Prepared) => (p.wanted && !p.late) || p.event.type === "security_issue";

function shardRow(p: Prepared, call: IngestCall): ShardInsertRow {
  return shardRowOf(p.event, {
    seq: p.seq,
    occurredAt: p.occurredAt,
    receivedAt: call.receivedAt,
    nodeId: call.nodeId,
    json: p.json,
    processed: !needsFinishing(p),
  });
}

/** A node event's shard row: its list columns taken from the event, its JSON text stored as is. */
export function shardRowOf(
  e: NodeEvent,
  at: { seq: number; occurredAt: number; receivedAt: number; nodeId: string; json: string; processed: boolean },
): ShardInsertRow {
  const hitLike = e.type === "hit" || e.type === "incident";
  return {
    id: e.id,
    occurredAt: at.occurredAt,
    receivedAt: at.receivedAt,
    seq: at.seq,
    nodeId: at.nodeId,
    type: e.type,
    risk: e.type === "security_issue" ? e.risk : null,
    attackType: hitLike ? e.attack_type : null,
    host: e.type === "scope_change" ? null : e.host,
    path: e.type === "scope_change" ? null : e.path,
    remoteAddr: hitLike ? e.remote_addr : null,
    remoteCountry: hitLike ? (e.remote_country ?? null) : null,
    blockStatus: hitLike ? e.block_status : null,
    data: at.json,
    processed: at.processed,
  };
}

/**
 * `stored` is called once the events are in their shards and the issue decisions taken: the next
 * group may start then (its decisions must see this group's issues), while this one fans out.
 */
export async function writeGroup(
  account: AccountIngestDO,
  calls: IngestCall[],
  stored: () => void = () => undefined,
): Promise<IngestOutcome[]> {
  const control = await account.currentControl();
  const outcomes: (IngestOutcome | null)[] = calls.map((call) => {
    const node = control?.nodesByTokenHash.get(call.tokenHash);
    // Revoked while it waited for this group: refused as at the next request.
    return !node || node.revoked || node.id !== call.nodeId ? { outcome: "unknown_token" } : null;
  });
  if (!control) return outcomes.map(() => ({ outcome: "unknown_token" }));

  // Seqs are handed out under this snapshot, before any await: a control change after this point
  // answers with a committedSeq covering them (AccountIngestDO.controlChanged).
  const total = calls.reduce((n, call, i) => n + (outcomes[i] ? 0 : call.events.length), 0);
  let seq = account.store.allocateSeqs(total);
  const maxAgeMs = notifyMaxAge(account.environment);
  const prepared: Prepared[] = [];
  calls.forEach((call, i) => {
    if (outcomes[i]) return;
    for (const json of call.events) {
      const event = JSON.parse(json) as NodeEvent;
      const occurredAt = Date.parse(event.occurred_at);
      prepared.push({
        call: i,
        event,
        json,
        occurredAt,
        seq: seq++,
        late: tooOldToNotify(occurredAt, call.receivedAt, maxAgeMs),
        wanted: anyTargetMayWant(control.targets, matchable(event)),
      });
    }
  });

  const failed = new Set<number>();
  const full = new Set<number>();
  try {
    const routes = await account.directory.routes(prepared.map((p) => ({ id: p.event.id, occurredAt: p.occurredAt })));
    prepared.forEach((p, i) => {
      p.route = routes[i];
    });
    await account.directory.register(routes, Date.now());
  } catch (error) {
    console.error("shard routing failed", { accountId: account.accountId, error: String(error) });
    return outcomes.map((o) => o ?? { outcome: "unavailable", reason: "storage" });
  }
  await insertByShard(account, calls, prepared, failed, full);

  // Per call, in order: counts, issue decisions (against the issues before the call), held back.
  const unfinished: { call: number; row: Unfinished }[] = [];
  const toFinish: { call: number; row: Unfinished }[] = [];
  const accepted = calls.map(() => 0);
  const heldBack = new Map<string, number[]>();
  const now = Date.now();
  const nodeCounts = new Map<string, { fresh: number; seenAt: number }>();
  const byCall = new Map<number, Prepared[]>();
  const triggerEvents: HookEvent[] = [];
  for (const p of prepared) appendTo(byCall, p.call, p);
  for (let i = 0; i < calls.length; i++) {
    if (outcomes[i]) continue;
    if (failed.has(i) || full.has(i)) {
      outcomes[i] = { outcome: "unavailable", reason: full.has(i) ? "shard_full" : "storage" };
      continue;
    }
    const call = calls[i] as IngestCall;
    const rows = byCall.get(i) ?? [];
    let fresh = 0;
    const issues: { event: Extract<NodeEvent, { type: "security_issue" }>; occurredAt: number }[] = [];
    for (const p of rows) {
      const result = p.result as ShardInsertedRow;
      const shard = (p.route as ShardRoute).name;
      if (result.fresh) {
        fresh++;
        // Every event but a hit is findable by its id alone, whatever its fan-out.
        if (p.event.type !== "hit") account.store.link([{ id: p.event.id, shard, occurredAt: p.occurredAt }]);
        if (p.late && anyEnabledTargetWants(control.targets, matchable(p.event))) {
          appendTo(heldBack, call.nodeId, p.occurredAt);
        }
        const event = notifiable(p.event, result.seq, p.occurredAt);
        if (!p.late) {
          const stored = { id: p.event.id, nodeId: call.nodeId, occurredAt: p.occurredAt, data: p.event };
          triggerEvents.push({ stored, notifiable: event });
        }
        if (result.processed) continue;
        let notify = p.wanted && !p.late;
        if (p.event.type === "security_issue") {
          if (notify) notify = account.store.isNewIssue(p.event, p.occurredAt);
          account.store.rememberDecision(p.occurredAt, p.event.id, notify);
          issues.push({ event: p.event, occurredAt: p.occurredAt });
        }
        (notify ? unfinished : toFinish).push({ call: i, row: { shard, event } });
      } else if (!result.processed && result.data !== undefined && !account.isMarkPending(shard, result)) {
        // Stored before and never finished (a crash, or a 503 the node now re-sends).
        const event = notifiable(JSON.parse(result.data) as NodeEvent, result.seq, result.occurredAt);
        const tooOld = tooOldToNotify(result.occurredAt, now, maxAgeMs);
        const notify = needsNotification(account, control, event, tooOld, call.nodeId);
        (notify ? unfinished : toFinish).push({ call: i, row: { shard, event } });
      }
    }
    account.store.upsertIssues(issues);
    const counted = nodeCounts.get(call.nodeId);
    nodeCounts.set(call.nodeId, {
      fresh: (counted?.fresh ?? 0) + fresh,
      seenAt: Math.max(counted?.seenAt ?? 0, call.receivedAt),
    });
    accepted[i] = fresh;
  }

  // Triggers and silences see the fresh events (worker/ingest/trigger-hook.ts); muted ones are not notified.
  const triggered = account.triggers.evaluate(
    control,
    triggerEvents,
    new Map([...nodeCounts].map(([nodeId, counted]) => [nodeId, counted.seenAt])),
    { accountName: control.accountName, publicUrl: account.environment.PUBLIC_URL },
    now,
  );
  if (triggered.muted.size > 0) {
    for (const u of unfinished.splice(0)) (triggered.muted.has(u.row.event.id) ? toFinish : unfinished).push(u);
  }
  stored();
  // Counted before fan-out, which may fail: a re-send stores nothing new and counts nothing again.
  await countHeldBack(account.environment.DB, account.accountId, heldBack, now).catch((error: unknown) =>
    console.error("counting held-back events failed", { accountId: account.accountId, error: String(error) }),
  );
  // One counter update per node per group; D1 hears of a node at most once a minute.
  let flushDue = false;
  for (const [nodeId, { fresh, seenAt }] of nodeCounts) {
    if (account.store.countNode(nodeId, fresh, seenAt).flushedAt < now - MINUTE_MS) flushDue = true;
  }
  if (flushDue) void account.flushNodes(now);

  const queued = await fanOut(
    account,
    control,
    unfinished.map((u) => u.row),
    triggered.plan,
  );
  finish(
    account,
    (queued ? [...unfinished, ...toFinish] : toFinish).map((u) => u.row),
  );
  const fannedOut = new Set(unfinished.map((u) => u.call));
  return outcomes.map((outcome, i) => {
    if (outcome) return outcome;
    if (!queued && fannedOut.has(i)) return { outcome: "unavailable", reason: "queueing" };
    const call = calls[i] as IngestCall;
    return {
      outcome: "accepted",
      accepted: accepted[i] as number,
      duplicates: call.events.length - (accepted[i] as number),
      heldBack: heldBack.has(call.nodeId),
    };
  });
}

/** One insert per shard, in parallel, carrying the shard's pending processed marks in its transaction. */
async function insertByShard(
  account: AccountIngestDO,
  calls: IngestCall[],
  prepared: Prepared[],
  failed: Set<number>,
  full: Set<number>,
): Promise<void> {
  const byShard = new Map<string, Prepared[]>();
  for (const p of prepared) appendTo(byShard, (p.route as ShardRoute).name, p);
  await Promise.all(
    [...byShard].map(async ([name, rows]) => {
      const shard = eventShardObject(account.environment, name);
      const marks = account.takeMarks(name);
      try {
        const result = await shard.insert({
          rows: rows.map((p) => shardRow(p, calls[p.call] as IngestCall)),
          finished: marks,
        });
        if (result.full) {
          account.queueMarks(name, marks);
          for (const p of rows) full.add(p.call);
          return;
        }
        rows.forEach((p, i) => {
          p.result = result.rows[i];
        });
        const seqs = rows.map((p) => p.seq);
        const route = rows[0]?.route as ShardRoute;
        account.store.recordShardWrite(name, route.period.start, Math.min(...seqs), Math.max(...seqs), Date.now());
        account.shardSizes.set(name, {
          events: result.events,
          bytes: result.bytes,
          maxSeq: Math.max(...seqs),
          periodStart: route.period.start,
        });
      } catch (error) {
        console.error("shard insert failed", { shard: name, error: String(error) });
        account.queueMarks(name, marks);
        for (const p of rows) failed.add(p.call);
      }
    }),
  );
}

const matchable = (event: NodeEvent) => ({
  type: event.type,
  risk: event.type === "security_issue" ? event.risk : null,
});

/** What a node event's notifications are built from (fan-out, and the floor benchmark's queueing). */
export function notifiable(event: NodeEvent, seq: number, occurredAt: number): NotifiableEvent {
  return {
    id: event.id,
    seq,
    type: event.type,
    risk: event.type === "security_issue" ? event.risk : null,
    occurredAt,
    data: event,
  };
}
