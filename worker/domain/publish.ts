import type { Env } from "../env";
import { fanOutEvents } from "../ingest/fanout";
import type { SystemEventRow } from "./system-events";

/**
 * Sends stored system events to the account's integrations that subscribe to `system`.
 * Awaited (not waitUntil) so a failure surfaces in the request's logs while the event row,
 * already committed with the change, stays available for replay.
 */
export async function publishSystemEvents(env: Env, accountId: string, rows: SystemEventRow[]): Promise<void> {
  try {
    await fanOutEvents(env, accountId, rows);
  } catch (error) {
    console.error("system event fan-out failed", { accountId, error: String(error) });
  }
}
