import type { EventSubscriptions } from "../domain/subscriptions";
import { sha256Hex } from "../security/hashing";
import type { FanOutTarget } from "./fanout";

export const NODE_TOKEN_PREFIX = "hnode";
const RATE_WINDOW_MS = 60_000;

export interface AuthenticatedNode {
  nodeId: string;
  accountId: string;
  accountName: string;
  /** The account's enabled integrations, read in the same round trip. */
  targets: FanOutTarget[];
  /** Requests of this node in the current minute, this one included. */
  requestsThisWindow: number;
  retryAfterSeconds: number;
}

/**
 * Counts the request against the node's per-minute window. The row is keyed by node id and
 * only written for a live (not revoked) token, so random tokens cannot fill the table.
 */
const COUNT_REQUEST = `INSERT INTO rate_limits (key, window_start, count)
SELECT 'node:' || id, ?2, 1 FROM nodes WHERE token_hash = ?1 AND revoked_at IS NULL
ON CONFLICT (key) DO UPDATE SET
  count = CASE WHEN window_start = excluded.window_start THEN count + 1 ELSE 1 END,
  window_start = excluded.window_start
RETURNING count`;

const SELECT_NODE = `SELECT n.id, n.account_id, a.name AS account_name FROM nodes AS n
JOIN accounts AS a ON a.id = n.account_id WHERE n.token_hash = ?1 AND n.revoked_at IS NULL`;

const SELECT_TARGETS = `SELECT i.id, i.events FROM integrations AS i
JOIN nodes AS n ON n.account_id = i.account_id
WHERE n.token_hash = ?1 AND n.revoked_at IS NULL AND i.status = 'enabled'`;

/** The bearer token if it has the node token's shape, else null (answered 401 without a query). */
export function nodeTokenFrom(authorization: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? "");
  const token = match?.[1];
  return token?.startsWith(`${NODE_TOKEN_PREFIX}_`) && token.length <= 128 ? token : null;
}

/**
 * One D1 round trip: checks the token (revocation is effective at the next request), counts the
 * request for the rate limit, and loads what fan-out needs. Null when the token is unknown or revoked.
 */
export async function authenticateNode(
  d1: D1Database,
  token: string,
  now = Date.now(),
): Promise<AuthenticatedNode | null> {
  const tokenHash = await sha256Hex(token);
  const windowStart = now - (now % RATE_WINDOW_MS);
  const [counted, node, targets] = await d1.batch<Record<string, unknown>>([
    d1.prepare(COUNT_REQUEST).bind(tokenHash, windowStart),
    d1.prepare(SELECT_NODE).bind(tokenHash),
    d1.prepare(SELECT_TARGETS).bind(tokenHash),
  ]);
  const row = node?.results[0] as { id: string; account_id: string; account_name: string } | undefined;
  if (!row) return null;
  const count = Number((counted?.results[0] as { count?: number } | undefined)?.count ?? 1);
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
