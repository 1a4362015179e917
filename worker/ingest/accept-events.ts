/**
 * The ingest use case (docs/ingest.md): authenticate the node, validate the batch (all or
 * nothing), store it with the node and the account's fan-out targets re-checked in the same write,
 * then queue the notifications in every outbox that wants them. Answers a typed result; the route
 * (worker/routes/ingest.ts) reads the request and maps the result to HTTP.
 */
import { type EventFieldError, type NodeEvent, validateIngestBody } from "../domain/events";
import { notifyMaxAge, tooOldToNotify } from "../domain/notify-age";
import type { NotifiableEvent } from "../domain/notify-build";
import type { MatchableEvent } from "../domain/subscriptions";
import type { Env } from "../env";
import { uuidv7 } from "../lib/ids";
import { enqueuePlan } from "../outbox/enqueue";
import { anyEnabledTargetWants, anyTargetMayWant, type FanOutTarget, planFanOut } from "../outbox/fan-out";
import { sha256Hex } from "../security/hashing";
import { addHeldBack, announceHeldBack, HELD_BACK_COLLECT_MS, type HeldBack, summarizeHeldBack } from "./held-back";
import { cachedNode, type KnownNode, readNode, remember, secondsLeftInWindow } from "./node-auth";
import {
  countRequest,
  flushNotifiedMarks,
  MAX_PENDING_MARKS,
  type PreparedEvent,
  queueNotifiedMarks,
  storeIngestBatch,
} from "./store";

export interface AcceptEventsInput {
  /** The node token from the request (without "Bearer "). */
  token: string;
  /** The request's body being read (started by the route, so reading overlaps authentication). */
  body: Promise<unknown>;
  /** Requests per node per minute. */
  limit: number;
  now: number;
  /** Work that may finish after the answer (the request's waitUntil). */
  waitUntil: (promise: Promise<unknown>) => void;
}

/** Why the batch could not be taken now; nothing is lost, the node re-sends the same request. */
export type UnavailableReason =
  /** The node could not be read. */
  | "node_check"
  /** The write failed; nothing was stored. */
  | "storage"
  /** The account's integrations changed under every attempt; nothing was stored. */
  | "targets_changing"
  /** Stored, but the notifications could not all be queued. */
  | "queueing";

export type AcceptEventsResult =
  | { outcome: "accepted"; accepted: number; duplicates: number }
  | { outcome: "invalid"; errors: EventFieldError[]; total: number }
  | { outcome: "unknown_token" }
  | { outcome: "rate_limited"; limit: number; retryAfterSeconds: number }
  | { outcome: "unavailable"; reason: UnavailableReason };

/** A write redone this many times with fresh targets, at most (each redo means they changed again). */
const MAX_WRITE_ATTEMPTS = 3;

/**
 * Takes one request's batch. A body that cannot be read rejects with the body's own error (the
 * route's), after the refusal is counted towards the node's limit.
 */
export async function acceptEvents(env: Env, input: AcceptEventsInput): Promise<AcceptEventsResult> {
  const { now, limit } = input;
  // Validating the body overlaps reading the node (when it is not cached yet).
  const validation = input.body.then(validateIngestBody);
  validation.catch(() => undefined);
  const tokenHash = await sha256Hex(input.token);
  let node = cachedNode(tokenHash);
  if (!node) {
    const read = await readNode(env.DB, tokenHash, now).catch((error: unknown) => {
      console.error("node authentication failed", { error: String(error) });
      return "failed" as const;
    });
    if (read === "failed") return { outcome: "unavailable", reason: "node_check" };
    if (!read) return { outcome: "unknown_token" };
    if (read.requestsThisWindow + 1 > limit) return rateLimited(limit, now);
    node = read.node;
  }

  const refused = () => countRefused(env.DB, (node as KnownNode).nodeId, now, input.waitUntil);
  const result = await validation.catch((error: unknown) => {
    refused();
    throw error;
  });
  if (!result.ok) {
    refused();
    return { outcome: "invalid", errors: result.errors, total: result.total };
  }
  const events = result.events.map((event) => ({ ...event, id: event.id ?? uuidv7(now) }) as NodeEvent);
  const maxAgeMs = notifyMaxAge(env);

  // The write re-checks the node and the account's targets in its transaction; when the targets
  // changed since they were cached, nothing was written and it is redone with the fresh ones.
  for (let attempt = 1; ; attempt++) {
    const wanted = wantedByTargets(node.targets.targets);
    // Wanted by an integration but too old (NOTIFY_MAX_AGE): stored and counted, announced per node.
    const late: number[] = [];
    const prepared: PreparedEvent[] = events.map((event) => {
      const occurredAt = Date.parse(event.occurred_at);
      const tooOld = tooOldToNotify(occurredAt, now, maxAgeMs);
      const wants = wanted(event.type, event.type === "security_issue" ? event.risk : null);
      if (wants.enabled && tooOld) late.push(occurredAt);
      // A late event is notified to nobody, so no disabled integration's replay marker needs it either.
      return { event, occurredAt, notify: wants.enabled && !tooOld, checkPending: wants.any && !tooOld };
    });
    let stored: Awaited<ReturnType<typeof storeIngestBatch>>;
    try {
      stored = await storeIngestBatch(env.DB, {
        node,
        receivedAt: now,
        events: prepared,
        limit,
        countRequest: attempt === 1,
      });
    } catch (error) {
      console.error("event storage failed", { nodeId: node.nodeId, error: String(error) });
      return { outcome: "unavailable", reason: "storage" };
    }
    const state = stored.state;
    remember(tokenHash, state);
    if (!state?.active) return { outcome: "unknown_token" };
    if (state.requestsThisWindow > limit) return rateLimited(limit, now);
    // Active and within its limit: fresh targets came back only if the cached ones were stale.
    if (state.targets) {
      if (attempt === MAX_WRITE_ATTEMPTS) return { outcome: "unavailable", reason: "targets_changing" };
      node = { ...node, targets: state.targets };
      continue;
    }

    // Counted before fan-out, which may fail: a re-send stores nothing new and counts nothing again.
    const heldBack = stored.accepted > 0 ? summarizeHeldBack(late) : null;
    if (heldBack) await holdBack(env, input.waitUntil, node, heldBack, maxAgeMs, now);
    const queued = await fanOut(env, input.waitUntil, node.targets.targets, stored.pending, {
      accountId: node.accountId,
      accountName: state.accountName,
    });
    if (!queued) return { outcome: "unavailable", reason: "queueing" };
    return { outcome: "accepted", accepted: stored.accepted, duplicates: prepared.length - stored.accepted };
  }
}

/**
 * Whether an enabled target, or any target, subscribes to an event of this type and risk. A batch
 * holds a handful of such pairs (a hundred hits are one), so each is matched against the targets
 * once per batch, not once per event.
 */
function wantedByTargets(targets: FanOutTarget[]) {
  const known = new Map<string, { enabled: boolean; any: boolean }>();
  return (type: NodeEvent["type"], risk: string | null) => {
    const key = `${type}:${risk}`;
    let wants = known.get(key);
    if (!wants) {
      const event: MatchableEvent = { type, risk };
      wants = { enabled: anyEnabledTargetWants(targets, event), any: anyTargetMayWant(targets, event) };
      known.set(key, wants);
    }
    return wants;
  };
}

/**
 * Queues the stored events' notifications in every integration that wants them; only then may the
 * request answer 202. False if any queueing failed (the node re-sends; outboxes dedupe).
 */
async function fanOut(
  env: Env,
  waitUntil: AcceptEventsInput["waitUntil"],
  targets: FanOutTarget[],
  rows: NotifiableEvent[],
  account: { accountId: string; accountName: string },
): Promise<boolean> {
  if (rows.length === 0) return true;
  try {
    await enqueuePlan(env, planFanOut(targets, rows, account.accountName, env.PUBLIC_URL));
  } catch (error) {
    console.error("notification queueing failed", { accountId: account.accountId, error: String(error) });
    return false;
  }
  // Marked with the next store batch (see queueNotifiedMarks); on its own only when many wait.
  if (
    queueNotifiedMarks(
      account.accountId,
      rows.map((r) => [r.id, r.occurredAt]),
    ) > MAX_PENDING_MARKS
  ) {
    waitUntil(
      flushNotifiedMarks(env.DB).catch((error: unknown) =>
        console.error("marking events notified failed", { error: String(error) }),
      ),
    );
  }
  return true;
}

/**
 * Counts late events towards the node's notice and announces it once due (after its collection
 * time, in the background). Best effort: the events are stored whatever happens here.
 */
async function holdBack(
  env: Env,
  waitUntil: AcceptEventsInput["waitUntil"],
  node: KnownNode,
  heldBack: HeldBack,
  maxAgeMs: number | null,
  now: number,
) {
  try {
    await addHeldBack(env.DB, node.accountId, node.nodeId, heldBack, now).run();
  } catch (error) {
    console.error("counting held-back events failed", { nodeId: node.nodeId, error: String(error) });
    return;
  }
  waitUntil(
    new Promise((resolve) => setTimeout(resolve, HELD_BACK_COLLECT_MS + 500))
      .then(() => announceHeldBack(env, maxAgeMs, Date.now(), node.nodeId))
      .catch((error: unknown) => console.error("announcing held-back events failed", { error: String(error) })),
  );
}

const rateLimited = (limit: number, now: number): AcceptEventsResult => ({
  outcome: "rate_limited",
  limit,
  retryAfterSeconds: secondsLeftInWindow(now),
});

/** Refused requests count towards the limit too (a node looping on a bad batch is throttled). */
function countRefused(d1: D1Database, nodeId: string, now: number, waitUntil: AcceptEventsInput["waitUntil"]) {
  waitUntil(
    countRequest(d1, nodeId, now)
      .run()
      .then(
        () => undefined,
        (error: unknown) => console.error("counting a refused request failed", { error: String(error) }),
      ),
  );
}
