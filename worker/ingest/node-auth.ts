/**
 * Which node and account a node token names, for the Worker in front of the account objects. Cached
 * in the isolate (a token always names the same node); nothing here is trusted on its own: the
 * account object checks the node against its control snapshot, which every revocation replaces
 * (worker/ingest/control-change.ts), so a revoked token is refused at the next request.
 */
export const NODE_TOKEN_PREFIX = "hnode";
export const RATE_WINDOW_MS = 60_000;

export interface KnownNode {
  nodeId: string;
  accountId: string;
}

/** Bounds the cache; past this many entries it starts over (a re-read per node, nothing more). */
const MAX_CACHED = 10_000;
const nodesByToken = new Map<string, KnownNode>();

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

/** The node this token names: from the cache, or read from D1 (null when unknown or revoked). */
export async function nodeOfToken(d1: D1Database, tokenHash: string): Promise<KnownNode | null> {
  const cached = nodesByToken.get(tokenHash);
  if (cached) return cached;
  const row = await d1
    .prepare("SELECT id, account_id FROM nodes WHERE token_hash = ?1 AND revoked_at IS NULL")
    .bind(tokenHash)
    .first<{ id: string; account_id: string }>();
  if (!row) return null;
  const node = { nodeId: row.id, accountId: row.account_id };
  if (nodesByToken.size >= MAX_CACHED) nodesByToken.clear();
  nodesByToken.set(tokenHash, node);
  return node;
}

/** Forgets a token the account object refused (revoked): the next request reads D1 again. */
export function forgetToken(tokenHash: string): void {
  nodesByToken.delete(tokenHash);
}
