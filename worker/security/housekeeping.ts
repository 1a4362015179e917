import { lt, or } from "drizzle-orm";
import { createDb } from "../db/client";
import { rateLimits, sessions } from "../db/schema";
import type { Env } from "../env";

/** The longest rate-limit window in use (login failures: 15 minutes); older counters are dead. */
const RATE_LIMIT_KEEP_MS = 24 * 3_600_000;

/**
 * Hourly: deletes sessions past their idle or absolute expiry and rate-limit counters whose window
 * ended long ago. requireAuth already refuses such sessions; this keeps the tables from growing.
 */
export async function housekeepingStep(_controller: ScheduledController, env: Env, _ctx: ExecutionContext) {
  const db = createDb(env.DB);
  const now = Date.now();
  const idleMs = Number(env.SESSION_IDLE_MINUTES) * 60_000;
  await db.batch([
    db.delete(sessions).where(or(lt(sessions.expiresAt, now), lt(sessions.lastSeenAt, now - idleMs))),
    db.delete(rateLimits).where(lt(rateLimits.windowStart, now - RATE_LIMIT_KEEP_MS)),
  ]);
}
