import { and, eq, inArray, isNull } from "drizzle-orm";
import { createDb } from "../db/client";
import { events, findableById } from "../db/schema";
import type { NotifiableEvent } from "../domain/notify-build";
import type { Env } from "../env";
import { fanOutEvents } from "./fan-out";

/**
 * Sends stored system events to the account's integrations that subscribe to `system`, then
 * marks them notified (`notified_at`). Never throws: the change that raised them is already
 * committed; an event left unmarked is published again by the sweep
 * (worker/delivery/sweep.ts), and outboxes drop a notification they already hold.
 * Returns whether the events were queued.
 */
export async function publishSystemEvents(env: Env, accountId: string, rows: NotifiableEvent[]): Promise<boolean> {
  if (rows.length === 0) return true;
  try {
    await fanOutEvents(env, accountId, rows);
  } catch (error) {
    console.error("system event fan-out failed", { accountId, error: String(error) });
    return false;
  }
  try {
    await createDb(env.DB)
      .update(events)
      .set({ notifiedAt: Date.now() })
      .where(
        and(
          eq(events.accountId, accountId),
          findableById, // system events always are
          inArray(
            events.id,
            rows.map((row) => row.id),
          ),
          isNull(events.notifiedAt),
        ),
      );
  } catch (error) {
    // Queued but not marked: the cron queues them again and the outboxes dedupe by id.
    console.error("marking system events notified failed", { accountId, error: String(error) });
  }
  return true;
}
