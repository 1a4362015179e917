import type { EventSubscriptions } from "../domain/subscriptions";
import { sha256Hex } from "../security/hashing";
import type { FanOutTarget } from "./fanout";
import { GroupCommit } from "./group-commit";
import { RATE_WINDOW_MS } from "./store";

export const NODE_TOKEN_PREFIX = "hnode";

export interface AuthenticatedNode {
  nodeId: string;
  accountId: string;
  accountName: string;
  /** The account's enabled integrations, read in the same round trip. */
  targets: FanOutTarget[];
  /** Requests of this node in the current minute, this one included (as far as committed). */
  requestsThisWindow: number;
  retryAfterSeconds: number;
}

/**
 * The node, its account, and its requests so far in this window. Read-only: the request is
 * counted in the store batch (one write transaction per request instead of two); concurrent
 * requests may therefore overshoot the limit by the node's concurrency, never more.
 */
const SELECT_NODE = `SELECT n.id, n.account_id, a.name AS account_name,
  CASE WHEN r.window_start = ?2 THEN r.count ELSE 0 END AS counted
FROM nodes AS n JOIN accounts AS a ON a.id = n.account_id
LEFT JOIN rate_limits AS r ON r.key = 'node:' || n.id
WHERE n.token_hash = ?1 AND n.revoked_at IS NULL`;

const SELECT_TARGETS = `SELECT i.id, i.events FROM integrations AS i
JOIN nodes AS n ON n.account_id = i.account_id
WHERE n.token_hash = ?1 AND n.revoked_at IS NULL AND i.status = 'enabled'`;

/** Token checks of concurrent requests share one D1 round trip (see group-commit.ts). */
const authReads = new GroupCommit();

/** The bearer token if it has the node token's shape, else null (answered 401 without a query). */
export function nodeTokenFrom(authorization: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? "");
  const token = match?.[1];
  return token?.startsWith(`${NODE_TOKEN_PREFIX}_`) && token.length <= 128 ? token : null;
}

/**
 * One read-only D1 round trip: checks the token (revocation is effective at the next request),
 * reads the node's request count for the rate limit, and loads what fan-out needs.
 * Null when the token is unknown or revoked.
 */
export async function authenticateNode(
  d1: D1Database,
  token: string,
  now = Date.now(),
): Promise<AuthenticatedNode | null> {
  const tokenHash = await sha256Hex(token);
  const windowStart = now - (now % RATE_WINDOW_MS);
  const [node, targets] = await authReads.run(
    d1,
    [d1.prepare(SELECT_NODE).bind(tokenHash, windowStart), d1.prepare(SELECT_TARGETS).bind(tokenHash)],
    0,
  );
  const row = node?.results[0] as
    | { id: string; account_id: string; account_name: string; counted: number | null }
    | undefined;
  if (!row) return null;
  const count = Number(row.counted ?? 0) + 1;
  return {
    nodeId: row.id,
    accountId: row.account_id,
    accountName: row.account_name,
    targets: ((targets?.results ?? []) as { id: string; events: string }[]).map((t) => ({
      id: t.id,
      events: JSON.parse(t.events) as EventSubscriptions,
    })),
    requestsThisWindow: count,
    retryAfterSeconds: Math.max(1, Math.ceil((windowStart + RATE_WINDOW_MS - now) / 1000)),
  };
}
