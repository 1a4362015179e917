import { and, asc, eq, gte, isNull, lt } from "drizzle-orm";
import { createDb } from "../db/client";
import { accounts, events } from "../db/schema";
import { publishSystemEvents } from "../domain/publish";
import type { Env } from "../env";

/** Younger events may still be on their way through the request that raised them. */
const REPUBLISH_MIN_AGE_MS = 60_000;
/** Older notices are stale: a day-old "integration disabled" helps nobody. */
const REPUBLISH_MAX_AGE_MS = 86_400_000;
/** Events per account and run (the mark's id list stays under D1's 100 bound parameters). */
const BATCH_PER_ACCOUNT = 50;
/** A cron run stops after this long; whatever is left goes at the next hour. */
const TIME_BUDGET_MS = 20_000;

export interface RepublishResult {
  published: number;
  /** Events whose fan-out failed again (left for the next run). */
  failed: number;
}

/**
 * Queues again the system events whose fan-out never succeeded (`notified_at` NULL: publish.ts
 * marks them once queued), e.g. when the IntegrationDO could not be reached right after an
 * automatic disable. Per account, a bounded batch, oldest first, through the same publish path;
 * an outbox that already holds a notice drops it, so a notice is never queued twice.
 */
export async function republishSystemEvents(env: Env, now = Date.now()): Promise<RepublishResult> {
  const db = createDb(env.DB);
  const started = Date.now();
  const result: RepublishResult = { published: 0, failed: 0 };
  const accountIds = await db.select({ id: accounts.id }).from(accounts);
  for (const { id: accountId } of accountIds) {
    if (Date.now() - started > TIME_BUDGET_MS) break;
    // System events have occurred_at = received_at: (account_id, type, occurred_at) is indexed.
    const rows = await db
      .select()
      .from(events)
      .where(
        and(
          eq(events.accountId, accountId),
          eq(events.type, "system"),
          gte(events.occurredAt, now - REPUBLISH_MAX_AGE_MS),
          lt(events.occurredAt, now - REPUBLISH_MIN_AGE_MS),
          isNull(events.notifiedAt),
        ),
      )
      .orderBy(asc(events.occurredAt))
      .limit(BATCH_PER_ACCOUNT);
    if (rows.length === 0) continue;
    if (await publishSystemEvents(env, accountId, rows)) result.published += rows.length;
    else result.failed += rows.length;
  }
  return result;
}

/** The hourly cron's step (worker/scheduled.ts). */
export async function republishStep(controller: ScheduledController, env: Env, _ctx: ExecutionContext) {
  const result = await republishSystemEvents(env, controller.scheduledTime);
  if (result.published + result.failed > 0) console.log("system events re-published", result);
}
