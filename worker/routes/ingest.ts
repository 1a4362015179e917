import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  MAX_BODY_BYTES,
  MAX_EVENTS_PER_REQUEST,
  MAX_REPORTED_ERRORS,
  type NodeEvent,
  NodeEventSchema,
  validateIngestBody,
} from "../domain/events";
import { parseNotifyMaxAge, tooOldToNotify } from "../domain/notify-age";
import type { NotifiableEvent } from "../domain/notify-build";
import { checkIngestHeaders, readJsonBody } from "../ingest/body";
import {
  addHeldBack,
  announceHeldBack,
  HELD_BACK_COLLECT_MS,
  type HeldBack,
  summarizeHeldBack,
} from "../ingest/held-back";
import {
  cachedNode,
  type KnownNode,
  nodeTokenFrom,
  readNode,
  remember,
  secondsLeftInWindow,
} from "../ingest/node-auth";
import {
  countRequest,
  flushNotifiedMarks,
  MAX_PENDING_MARKS,
  type PreparedEvent,
  queueNotifiedMarks,
  storeIngestBatch,
} from "../ingest/store";
import { ApiError, unauthorized } from "../lib/errors";
import { uuidv7 } from "../lib/ids";
import { type AppEnv, createRouter, ErrorSchema } from "../lib/router";
import { enqueuePlan } from "../outbox/enqueue";
import { anyEnabledTargetWants, anyTargetMayWant, type FanOutTarget, planFanOut } from "../outbox/fan-out";
import { sha256Hex } from "../security/hashing";

/** When queueing failed, the node should come back soon: the events wait in D1 meanwhile. */
const RETRY_AFTER_SECONDS = "2";

const AcceptedSchema = z
  .object({ accepted: z.number().int(), duplicates: z.number().int() })
  .openapi("IngestAccepted", { description: "Events stored (new) and events already stored (re-sent ids)" });

const router = createRouter();

const errorContent = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorSchema } },
});

// Documented by hand: the handler validates itself (byte limit while reading, per-event errors
// with the event index), which the generic JSON validator cannot do.
router.openAPIRegistry.registerPath({
  method: "post",
  path: "/",
  tags: ["Ingestion"],
  summary: "Post events from a detection node",
  description:
    "Authorization: Bearer <node token>. 1–1000 events, at most 1 MiB. All or nothing: any invalid event rejects " +
    "the request with 400 and one `{index, field, message}` per error. Event `id` (UUID) is the idempotency key. " +
    "202 only once the events are stored and their notifications queued; on 503 re-send the same request.",
  security: [{ bearer: [] }],
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: z.object({ events: z.array(NodeEventSchema).min(1).max(MAX_EVENTS_PER_REQUEST) }),
        },
      },
    },
  },
  responses: {
    202: { description: "Stored and queued", content: { "application/json": { schema: AcceptedSchema } } },
    400: errorContent("Invalid JSON or events; details list {index, field, message}"),
    401: errorContent("Missing, wrong or revoked node token"),
    413: errorContent("Body over 1 MiB"),
    415: errorContent("Content-Type is not application/json"),
    429: errorContent("Over the node's per-minute request limit; see Retry-After"),
    503: errorContent("Storage or queueing failed; nothing lost, re-send the same request"),
  },
});

router.post("/", async (c) => {
  const now = Date.now();
  const token = nodeTokenFrom(c.req.header("Authorization"));
  if (!token) throw unauthorized("Send the node token as Authorization: Bearer hnode_….");
  checkIngestHeaders(c.req.raw, MAX_BODY_BYTES);
  const limit = Number(c.env.NODE_RATE_LIMIT_PER_MINUTE) || 600;

  // Reading and validating the body overlaps reading the node (when it is not cached yet).
  const validation = readJsonBody(c.req.raw, MAX_BODY_BYTES).then(validateIngestBody);
  validation.catch(() => undefined);
  const tokenHash = await sha256Hex(token);
  let node: KnownNode = cachedNode(tokenHash) ?? (await readNodeOrRefuse(c.env.DB, tokenHash, limit, now));

  const result = await validation.catch((error: unknown) => {
    countRefused(c.env.DB, node.nodeId, now, c.executionCtx);
    throw error;
  });
  if (!result.ok) {
    countRefused(c.env.DB, node.nodeId, now, c.executionCtx);
    const more = result.total > result.errors.length ? ` (first ${MAX_REPORTED_ERRORS} of ${result.total} shown)` : "";
    const first = result.errors[0];
    throw new ApiError(
      400,
      "validation_failed",
      `${result.total} invalid field(s)${more}; nothing was stored.${first ? ` First: ${first.field}: ${first.message}` : ""}`,
      result.errors,
    );
  }
  const events = result.events.map((input) => ({ ...input, id: input.id ?? uuidv7(now) }) as NodeEvent);
  const maxAgeMs = parseNotifyMaxAge(c.env.NOTIFY_MAX_AGE);

  // The write re-checks the node and the account's targets in its transaction; when the targets
  // changed since they were cached, nothing was written and it is redone with the fresh ones.
  for (let attempt = 1; ; attempt++) {
    const targets = node.targets.targets;
    // Wanted by an integration but too old (NOTIFY_MAX_AGE): stored and counted, announced per node.
    const late: number[] = [];
    const prepared: PreparedEvent[] = events.map((event) => {
      const occurredAt = Date.parse(event.occurred_at);
      const matchable = { type: event.type, risk: event.type === "security_issue" ? event.risk : null };
      let notify = anyEnabledTargetWants(targets, matchable);
      if (notify && tooOldToNotify(occurredAt, now, maxAgeMs)) {
        late.push(occurredAt);
        notify = false;
      }
      // A late event is notified to nobody, so no disabled integration's replay marker needs it either.
      const checkPending = !tooOldToNotify(occurredAt, now, maxAgeMs) && anyTargetMayWant(targets, matchable);
      return { event, occurredAt, notify, checkPending };
    });
    const stored = await storeIngestBatch(c.env.DB, {
      node,
      receivedAt: now,
      events: prepared,
      limit,
      countRequest: attempt === 1,
    }).catch((error: unknown) => {
      console.error("event storage failed", { nodeId: node.nodeId, error: String(error) });
      throw unavailable("Herald could not store the events; nothing was stored. Re-send the request.");
    });
    const state = stored.state;
    remember(tokenHash, state);
    if (!state?.active) throw revokedOrUnknown();
    if (state.requestsThisWindow > limit) throw rateLimited(limit, now);
    // Active and within its limit: fresh targets came back only if the cached ones were stale.
    if (state.targets) {
      if (attempt === MAX_WRITE_ATTEMPTS) {
        throw unavailable("The account's integrations kept changing; nothing was stored. Re-send the request.");
      }
      node = { ...node, targets: state.targets };
      continue;
    }

    // Counted before fan-out, which may fail: a re-send stores nothing new and counts nothing again.
    const heldBack = stored.accepted > 0 ? summarizeHeldBack(late) : null;
    if (heldBack) await holdBack(c, node, heldBack, maxAgeMs, now);
    await fanOut(c, node.targets.targets, stored.pending, state.accountName, node.accountId);
    return c.json({ accepted: stored.accepted, duplicates: prepared.length - stored.accepted }, 202);
  }
});

/** A write redone this many times with fresh targets, at most (each redo means they changed again). */
const MAX_WRITE_ATTEMPTS = 3;

/**
 * Queues the stored events' notifications in every integration that wants them; only then may the
 * request answer 202. Throws 503 if any queueing fails (the node re-sends; outboxes dedupe).
 */
async function fanOut(
  c: Context<AppEnv>,
  targets: FanOutTarget[],
  rows: NotifiableEvent[],
  accountName: string,
  accountId: string,
): Promise<void> {
  if (rows.length === 0) return;
  try {
    await enqueuePlan(c.env, planFanOut(targets, rows, accountName, c.env.PUBLIC_URL));
  } catch (error) {
    console.error("notification queueing failed", { accountId, error: String(error) });
    throw unavailable("The events are stored but their notifications could not be queued. Re-send the same request.");
  }
  // Marked with the next store batch (see queueNotifiedMarks); on its own only when many wait.
  if (
    queueNotifiedMarks(
      accountId,
      rows.map((r) => [r.id, r.occurredAt]),
    ) > MAX_PENDING_MARKS
  ) {
    c.executionCtx.waitUntil(
      flushNotifiedMarks(c.env.DB).catch((error: unknown) =>
        console.error("marking events notified failed", { error: String(error) }),
      ),
    );
  }
}

/**
 * Counts late events towards the node's notice and announces it once due (after its collection
 * time, in the background). Best effort: the events are stored whatever happens here.
 */
async function holdBack(c: Context<AppEnv>, node: KnownNode, heldBack: HeldBack, maxAgeMs: number | null, now: number) {
  try {
    await addHeldBack(c.env.DB, node.accountId, node.nodeId, heldBack, now).run();
  } catch (error) {
    console.error("counting held-back events failed", { nodeId: node.nodeId, error: String(error) });
    return;
  }
  c.executionCtx.waitUntil(
    new Promise((resolve) => setTimeout(resolve, HELD_BACK_COLLECT_MS + 500))
      .then(() => announceHeldBack(c.env, maxAgeMs, Date.now(), node.nodeId))
      .catch((error: unknown) => console.error("announcing held-back events failed", { error: String(error) })),
  );
}

/** A node not cached yet: read it, refusing a wrong or revoked token, or a node over its limit. */
async function readNodeOrRefuse(d1: D1Database, tokenHash: string, limit: number, now: number): Promise<KnownNode> {
  const read = await readNode(d1, tokenHash, now).catch((error: unknown) => {
    console.error("node authentication failed", { error: String(error) });
    throw unavailable("Herald could not check the node token right now.");
  });
  if (!read) throw revokedOrUnknown();
  if (read.requestsThisWindow + 1 > limit) throw rateLimited(limit, now);
  return read.node;
}

const revokedOrUnknown = () => unauthorized("The node token is wrong or revoked.");

function rateLimited(limit: number, now: number) {
  return new ApiError(
    429,
    "rate_limited",
    `This node may send ${limit} requests per minute; wait and re-send.`,
    undefined,
    { "Retry-After": String(secondsLeftInWindow(now)) },
  );
}

/** Refused requests count towards the limit too (a node looping on a bad batch is throttled). */
function countRefused(
  d1: D1Database,
  nodeId: string,
  now: number,
  ctx: { waitUntil(promise: Promise<unknown>): void },
) {
  ctx.waitUntil(
    countRequest(d1, nodeId, now)
      .run()
      .then(
        () => undefined,
        (error: unknown) => console.error("counting a refused request failed", { error: String(error) }),
      ),
  );
}

function unavailable(message: string) {
  return new ApiError(503, "unavailable", message, undefined, { "Retry-After": RETRY_AFTER_SECONDS });
}

export default router;
