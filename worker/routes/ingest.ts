import { z } from "@hono/zod-openapi";
import { MAX_BODY_BYTES, MAX_EVENTS_PER_REQUEST, MAX_REPORTED_ERRORS, NodeEventSchema } from "../domain/events";
import { acceptEvents, type UnavailableReason } from "../ingest/accept-events";
import { checkIngestHeaders, readJsonBody } from "../ingest/body";
import { nodeTokenFrom } from "../ingest/node-auth";
import { ApiError, unauthorized } from "../lib/errors";
import { createRouter, ErrorSchema } from "../lib/router";

/** When queueing failed, the node should come back soon: the events wait in their shard meanwhile. */
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
  const token = nodeTokenFrom(c.req.header("Authorization"));
  if (!token) throw unauthorized("Send the node token as Authorization: Bearer hnode_….");
  checkIngestHeaders(c.req.raw, MAX_BODY_BYTES);
  const result = await acceptEvents(c.env, {
    token,
    body: readJsonBody(c.req.raw, MAX_BODY_BYTES),
    limit: Number(c.env.NODE_RATE_LIMIT_PER_MINUTE) || 600,
    now: Date.now(),
    waitUntil: (promise) => c.executionCtx.waitUntil(promise),
  });
  switch (result.outcome) {
    case "accepted":
      return c.json({ accepted: result.accepted, duplicates: result.duplicates }, 202);
    case "invalid": {
      const more =
        result.total > result.errors.length ? ` (first ${MAX_REPORTED_ERRORS} of ${result.total} shown)` : "";
      const first = result.errors[0];
      throw new ApiError(
        400,
        "validation_failed",
        `${result.total} invalid field(s)${more}; nothing was stored.${first ? ` First: ${first.field}: ${first.message}` : ""}`,
        result.errors,
      );
    }
    case "unknown_token":
      throw unauthorized("The node token is wrong or revoked.");
    case "rate_limited":
      throw new ApiError(
        429,
        "rate_limited",
        `This node may send ${result.limit} requests per minute; wait and re-send.`,
        undefined,
        { "Retry-After": String(result.retryAfterSeconds) },
      );
    case "unavailable":
      throw new ApiError(503, "unavailable", UNAVAILABLE[result.reason], undefined, {
        "Retry-After": RETRY_AFTER_SECONDS,
      });
  }
});

const UNAVAILABLE: Record<UnavailableReason, string> = {
  node_check: "Herald could not check the node token right now.",
  storage: "Herald could not store the events; nothing was stored. Re-send the request.",
  shard_full: "This account's event storage for that period is full; nothing new was stored. Re-send later.",
  queueing: "The events are stored but their notifications could not be queued. Re-send the same request.",
};

export default router;
