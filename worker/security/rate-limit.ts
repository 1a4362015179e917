import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { rateLimits } from "../db/schema";
import { ApiError } from "../lib/errors";
import { HOUR_MS, MINUTE_MS } from "../lib/time";

interface RateLimitResult {
  allowed: boolean;
  count: number;
  /** Seconds until the window resets (for Retry-After). */
  retryAfterSeconds: number;
}

/**
 * Fixed-window counter in D1, one row per key. A single upsert both resets an expired window
 * and counts, so concurrent requests cannot both slip through on a stale read.
 */
export async function hitRateLimit(
  db: Db,
  key: string,
  limit: number,
  windowMs: number,
  now = Date.now(),
): Promise<RateLimitResult> {
  const windowStart = now - (now % windowMs);
  const [row] = await db
    .insert(rateLimits)
    .values({ key, windowStart, count: 1 })
    .onConflictDoUpdate({
      target: rateLimits.key,
      set: {
        count: sql`CASE WHEN ${rateLimits.windowStart} = ${windowStart} THEN ${rateLimits.count} + 1 ELSE 1 END`,
        windowStart: sql`${windowStart}`,
      },
    })
    .returning({ count: rateLimits.count });
  const count = row?.count ?? 1;
  return { allowed: count <= limit, count, retryAfterSeconds: Math.ceil((windowStart + windowMs - now) / 1000) };
}

/**
 * Takes back one hit of the current window (an attempt counted up front that turned out fine,
 * e.g. a successful sign-in from an address shared by many users).
 */
export async function refundRateLimit(db: Db, key: string, windowMs: number, now = Date.now()): Promise<void> {
  const windowStart = now - (now % windowMs);
  const inWindow = sql`${rateLimits.key} = ${key} AND ${rateLimits.windowStart} = ${windowStart}`;
  // A counter back at zero is dropped rather than kept as an empty row.
  await db.batch([
    db.delete(rateLimits).where(sql`${inWindow} AND ${rateLimits.count} <= 1`),
    db
      .update(rateLimits)
      .set({ count: sql`${rateLimits.count} - 1` })
      .where(sql`${inWindow} AND ${rateLimits.count} > 1`),
  ]);
}

export async function clearRateLimit(db: Db, key: string): Promise<void> {
  await db.delete(rateLimits).where(sql`${rateLimits.key} = ${key}`);
}

/**
 * Counts one use of an expensive action by an account and refuses it with 429 `rate_limited`
 * (and Retry-After) past `limit` in the window. `what` names the action in the message.
 */
export async function limitPerAccount(
  db: Db,
  action: string,
  accountId: string,
  limit: { max: number; windowMs: number; what: string },
): Promise<void> {
  const result = await hitRateLimit(db, `${action}:${accountId}`, limit.max, limit.windowMs);
  if (result.allowed) return;
  const window = limit.windowMs >= HOUR_MS ? `${limit.windowMs / HOUR_MS} h` : `${limit.windowMs / MINUTE_MS} min`;
  throw new ApiError(
    429,
    "rate_limited",
    `At most ${limit.max} ${limit.what} per ${window}; try again in ${result.retryAfterSeconds} s.`,
    undefined,
    { "Retry-After": String(result.retryAfterSeconds) },
  );
}
