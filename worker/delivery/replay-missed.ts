import { eq } from "drizzle-orm";
import { createDb } from "../db/client";
import { integrations } from "../db/schema";
import type { Env } from "../env";
import { accountIngestObject } from "../ingest/account-object";

/** How a replay of missed events ended. */
interface MissedEventsReplay {
  /** Events queued in the outbox. */
  replayed: number;
  /** True when more matching events were stored than the cap allowed to queue. */
  truncated: boolean;
}

/**
 * Queues the account's events with a seq in (afterSeq, untilSeq] — after the disable's marker, up
 * to the enable's (worker/integrations/lifecycle.ts) — that this integration subscribes to, at
 * most `maxEvents`. The account object reads them from its shards in seq order and enqueues them
 * into this integration's outbox (`AccountIngestDO.replay`, docs/data-plane.md), so this is called
 * from the IntegrationDO's `resume` and its enqueues arrive while `resume` awaits.
 */
export async function replayMissedEvents(
  env: Env,
  integrationId: string,
  range: { afterSeq: number; untilSeq: number; maxEvents: number },
): Promise<MissedEventsReplay> {
  const [row] = await createDb(env.DB)
    .select({ accountId: integrations.accountId })
    .from(integrations)
    .where(eq(integrations.id, integrationId));
  if (!row) return { replayed: 0, truncated: false };
  return accountIngestObject(env, row.accountId).replay(integrationId, range.afterSeq, range.untilSeq, range.maxEvents);
}
