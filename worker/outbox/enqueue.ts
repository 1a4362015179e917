import type { OutboxItem } from "../domain/notification";
import type { Env } from "../env";
import { integrationObject } from "./object";

/**
 * The IntegrationDO's answer to `enqueue`, in its own terms: a storage failure is an answer, not
 * an exception thrown across RPC (workerd would report it as uncaught on the object's side).
 */
export type EnqueueResult = { stored: true } | { stored: false; error: string };

/** Queueing into an outbox failed: nothing is lost, the producer's caller retries (docs/delivery.md). */
export class OutboxUnavailableError extends Error {
  constructor(
    readonly integrationId: string,
    reason: string,
  ) {
    super(`outbox of integration ${integrationId} did not store the items: ${reason}`);
    this.name = "OutboxUnavailableError";
  }
}

/**
 * Puts items into one integration's outbox. Resolves once the object stored them durably
 * (deduplicated by notification id); rejects with OutboxUnavailableError when it did not, or with
 * the RPC's own error when the object could not be reached.
 */
export async function enqueueItems(env: Env, integrationId: string, items: OutboxItem[]): Promise<void> {
  if (items.length === 0) return;
  const result = await integrationObject(env, integrationId).enqueue(integrationId, items);
  if (!result.stored) throw new OutboxUnavailableError(integrationId, result.error);
}

/**
 * Hands each integration its items (a fan-out plan: integration id → items). Resolves only once
 * every outbox stored them; rejects if any did not (ingest then answers 503 and the node re-sends).
 */
export async function enqueuePlan(env: Env, plan: Map<string, OutboxItem[]>): Promise<void> {
  await Promise.all([...plan].map(([integrationId, items]) => enqueueItems(env, integrationId, items)));
}
