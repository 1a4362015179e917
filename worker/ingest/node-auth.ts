import type { FanOutTarget } from "../outbox/fan-out";
import { GroupCommit } from "./group-commit";

export const NODE_TOKEN_PREFIX = "hnode";
export const RATE_WINDOW_MS = 60_000;

/**
 * What ingest needs to know about a node before it can write its events. Cached in the isolate:
 * a token always names the same node, and the account's fan-out targets carry the account's
 * `integrations_version`. Nothing here is trusted on its own: every write re-checks, in its own
 * transaction, that the node is not revoked, is under its rate limit and that the targets are
 * still current (WRITE_ALLOWED in store.ts), so revocation and integration changes take effect
 * at the next request exactly as without the cache.
 */
export interface KnownNode {
  nodeId: string;
  accountId: string;
  targets: AccountTargets;
}

/** An account's fan-out targets (worker/outbox/fan-out.ts) and what they subscribe to, as of `version`. */
export interface AccountTargets {
  version: number;
  targets: FanOutTarget[];
}

/** A node's state as read in a transaction (the cache-miss read, or the end of a write). */
export interface NodeState {
  nodeId: string;
  accountId: string;
  accountName: string;
  active: boolean;
  /** Requests of this node in the current window, as committed (the writing request included). */
  requestsThisWindow: number;
  /** The account's targets, when they were read (a version other than the one passed in). */
  targets: AccountTargets | null;
}

/** Bounds the caches; past this many entries they start over (a re-read per node, nothing more). */
const MAX_CACHED = 10_000;
const nodesByToken = new Map<string, { nodeId: string; accountId: string }>();
const targetsByAccount = new Map<string, AccountTargets>();

/**
 * The node's requests counted in the rate window starting at `windowParam` (`n` is the node row);
 * countRequest in store.ts writes them under the same key.
 */
export const requestsInWindowSql = (windowParam: string) =>
  `coalesce((SELECT r.count FROM rate_limits AS r WHERE r.key = 'node:' || n.id AND r.window_start = ${windowParam}), 0)`;

/**
 * One row about a node: active or revoked, its account's name and `integrations_version`, its
 * requests in the window ?2, and — only when the version differs from ?3 — the account's fan-out
 * targets (FanOutTarget: enabled integrations, and disabled ones with their marker). Selected by
 * token hash (cache miss) or by node id (at the end of every ingest write).
 */
const nodeStateSql = (where: string) => `SELECT n.id, n.account_id, a.name AS account_name,
  n.revoked_at IS NULL AS active, a.integrations_version AS version,
  ${requestsInWindowSql("?2")} AS counted,
  CASE WHEN a.integrations_version <> ?3 THEN (
    SELECT json_group_array(json_object('id', i.id, 'events', json(i.events), 'untilSeq', i.disabled_after_seq))
    FROM integrations AS i
    WHERE i.account_id = a.id AND (i.status = 'enabled' OR i.disabled_after_seq IS NOT NULL)
  ) END AS targets
FROM nodes AS n JOIN accounts AS a ON a.id = n.account_id WHERE ${where}`;

const NODE_STATE_BY_TOKEN = nodeStateSql("n.token_hash = ?1");
const NODE_STATE_BY_ID = nodeStateSql("n.id = ?1");

export interface NodeStateRow {
  id: string;
  account_id: string;
  account_name: string;
  active: number;
  version: number;
  counted: number;
  targets: string | null;
}

/** Token reads of concurrent cache misses share one D1 round trip (see group-commit.ts). */
const authReads = new GroupCommit();

/** The bearer token if it has the node token's shape, else null (answered 401 without a query). */
export function nodeTokenFrom(authorization: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? "");
  const token = match?.[1];
  return token?.startsWith(`${NODE_TOKEN_PREFIX}_`) && token.length <= 128 ? token : null;
}

export const windowStartOf = (now: number) => now - (now % RATE_WINDOW_MS);

/** Seconds until the rate window of `now` ends (Retry-After of a 429). */
export const secondsLeftInWindow = (now: number) =>
  Math.max(1, Math.ceil((windowStartOf(now) + RATE_WINDOW_MS - now) / 1000));

/** The node this token names, from the cache: no I/O. Null when it has to be read. */
export function cachedNode(tokenHash: string): KnownNode | null {
  const node = nodesByToken.get(tokenHash);
  const targets = node && targetsByAccount.get(node.accountId);
  return node && targets ? { ...node, targets } : null;
}

/**
 * Reads the node named by the token in one D1 round trip and caches it. Null when the token is
 * unknown or revoked; `requestsThisWindow` lets the caller refuse a node over its limit at once.
 */
export async function readNode(
  d1: D1Database,
  tokenHash: string,
  now: number,
): Promise<{ node: KnownNode; requestsThisWindow: number } | null> {
  const [result] = await authReads.run(
    d1,
    [d1.prepare(NODE_STATE_BY_TOKEN).bind(tokenHash, windowStartOf(now), -1)],
    0,
  );
  const state = nodeStateFrom(result?.results[0] as NodeStateRow | undefined);
  if (!state?.active || !state.targets) return null;
  remember(tokenHash, state);
  return {
    node: { nodeId: state.nodeId, accountId: state.accountId, targets: state.targets },
    requestsThisWindow: state.requestsThisWindow,
  };
}

/** The statement that ends every ingest write: the node's state right after it. */
export function nodeStateAfterWrite(d1: D1Database, node: KnownNode, now: number): D1PreparedStatement {
  return d1.prepare(NODE_STATE_BY_ID).bind(node.nodeId, windowStartOf(now), node.targets.version);
}

/** Parses a node state row (null when the node no longer exists). */
export function nodeStateFrom(row: NodeStateRow | undefined): NodeState | null {
  if (!row) return null;
  return {
    nodeId: row.id,
    accountId: row.account_id,
    accountName: row.account_name,
    active: row.active === 1,
    requestsThisWindow: Number(row.counted),
    targets:
      row.targets === null
        ? null
        : { version: Number(row.version), targets: JSON.parse(row.targets) as FanOutTarget[] },
  };
}

/** Keeps what a read or a write learnt; forgets a node found revoked or gone. */
export function remember(tokenHash: string, state: NodeState | null): void {
  if (!state?.active) {
    nodesByToken.delete(tokenHash);
    return;
  }
  if (nodesByToken.size >= MAX_CACHED) nodesByToken.clear();
  nodesByToken.set(tokenHash, { nodeId: state.nodeId, accountId: state.accountId });
  if (state.targets) {
    if (targetsByAccount.size >= MAX_CACHED) targetsByAccount.clear();
    const known = targetsByAccount.get(state.accountId);
    if (!known || known.version < state.targets.version) targetsByAccount.set(state.accountId, state.targets);
  }
}
