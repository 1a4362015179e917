/**
 * The ingest use case (docs/ingest.md): authenticate the node (isolate cache, D1 on a miss),
 * validate the batch (all or nothing), and hand it to the account's AccountIngestDO, which checks
 * the node again, stores the events in their shards and queues their notifications. Answers a
 * typed result; the route (worker/routes/ingest.ts) reads the request and maps the result to HTTP.
 */
import { type EventFieldError, validateIngestBody } from "../domain/events";
import { notifyMaxAge } from "../domain/notify-age";
import type { Env } from "../env";
import { uuidv7 } from "../lib/ids";
import { sha256Hex } from "../security/hashing";
import { accountIngestObject } from "./account-object";
import { announceHeldBack, HELD_BACK_COLLECT_MS } from "./held-back";
import { forgetToken, nodeOfToken } from "./node-auth";

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
  /** The write failed or the account object could not be reached; a re-send is safe. */
  | "storage"
  /** A shard of the account is at its size limit (docs/data-plane.md). */
  | "shard_full"
  /** Stored, but the notifications could not all be queued. */
  | "queueing";

export type AcceptEventsResult =
  | { outcome: "accepted"; accepted: number; duplicates: number }
  | { outcome: "invalid"; errors: EventFieldError[]; total: number }
  | { outcome: "unknown_token" }
  | { outcome: "rate_limited"; limit: number; retryAfterSeconds: number }
  | { outcome: "unavailable"; reason: UnavailableReason };

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
  let node: Awaited<ReturnType<typeof nodeOfToken>>;
  try {
    node = await nodeOfToken(env.DB, tokenHash);
  } catch (error) {
    console.error("node authentication failed", { error: String(error) });
    return { outcome: "unavailable", reason: "node_check" };
  }
  if (!node) return { outcome: "unknown_token" };
  const account = accountIngestObject(env, node.accountId);

  const refused = () => {
    input.waitUntil(
      account.countRefused((node as NonNullable<typeof node>).nodeId, now).catch((error: unknown) => {
        console.error("counting a refused request failed", { error: String(error) });
      }),
    );
  };
  const result = await validation.catch((error: unknown) => {
    refused();
    throw error;
  });
  if (!result.ok) {
    refused();
    return { outcome: "invalid", errors: result.errors, total: result.total };
  }
  const events = result.events.map((event) => JSON.stringify({ ...event, id: event.id ?? uuidv7(now) }));

  let outcome: Awaited<ReturnType<typeof account.ingest>>;
  try {
    outcome = await account.ingest({ tokenHash, nodeId: node.nodeId, events, receivedAt: now, limit });
  } catch (error) {
    console.error("the account object failed", { accountId: node.accountId, error: String(error) });
    return { outcome: "unavailable", reason: "storage" };
  }
  if (outcome.outcome === "unknown_token") forgetToken(tokenHash);
  if (outcome.outcome !== "accepted") return outcome;
  if (outcome.heldBack) announceLater(env, input.waitUntil, node.nodeId);
  return { outcome: "accepted", accepted: outcome.accepted, duplicates: outcome.duplicates };
}

/** Announces the node's held-back notice once its collection time is over (in the background). */
function announceLater(env: Env, waitUntil: AcceptEventsInput["waitUntil"], nodeId: string): void {
  waitUntil(
    new Promise((resolve) => setTimeout(resolve, HELD_BACK_COLLECT_MS + 500))
      .then(() => announceHeldBack(env, notifyMaxAge(env), Date.now(), nodeId))
      .catch((error: unknown) => console.error("announcing held-back events failed", { error: String(error) })),
  );
}
