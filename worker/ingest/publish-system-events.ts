import { inArray } from "drizzle-orm";
import { createDb } from "../db/client";
import { systemEventOutbox } from "../db/schema";
import type { SystemEventRow } from "../domain/system-events";
import type { Env } from "../env";
import { accountIngestObject } from "./account-object";

/**
 * Publishes system events already written to the D1 outbox `system_event_outbox` (with the change
 * that raised them): the account object stores them in the shards and fans them out, then the
 * outbox rows go. Never throws: the change is already committed; a row left behind is published
 * again by the minute cron (republishSystemEvents), and the shard and the outboxes drop copies.
 * Returns whether the events were stored.
 */
export async function publishSystemEvents(env: Env, accountId: string, rows: SystemEventRow[]): Promise<boolean> {
  if (rows.length === 0) return true;
  try {
    await accountIngestObject(env, accountId).recordSystemEvents(
      rows.map((row) => ({ id: row.id, occurredAt: row.occurredAt, systemType: row.systemType, data: row.data })),
    );
  } catch (error) {
    console.error("system event publishing failed", { accountId, error: String(error) });
    return false;
  }
  try {
    await createDb(env.DB)
      .delete(systemEventOutbox)
      .where(
        inArray(
          systemEventOutbox.id,
          rows.map((row) => row.id),
        ),
      );
  } catch (error) {
    // Stored but still in the outbox: the cron publishes it again and the shard drops the copy.
    console.error("clearing the system event outbox failed", { accountId, error: String(error) });
  }
  return true;
}

/** Outbox rows older than this are published again by the minute cron (their publisher failed). */
export const REPUBLISH_AFTER_MS = 30_000;
const REPUBLISH_BATCH = 200;

/** The minute cron's step: publishes outbox rows whose own publish did not finish. */
export async function republishSystemEvents(env: Env, now = Date.now()): Promise<number> {
  const { results } = await env.DB.prepare(
    `SELECT id, account_id, occurred_at, system_type, data FROM system_event_outbox
     WHERE created_at <= ?1 ORDER BY created_at LIMIT ${REPUBLISH_BATCH}`,
  )
    .bind(now - REPUBLISH_AFTER_MS)
    .all<{ id: string; account_id: string; occurred_at: number; system_type: string; data: string }>();
  const byAccount = new Map<string, SystemEventRow[]>();
  for (const row of results) {
    const rows = byAccount.get(row.account_id) ?? [];
    rows.push({
      id: row.id,
      accountId: row.account_id,
      occurredAt: row.occurred_at,
      systemType: row.system_type as SystemEventRow["systemType"],
      data: JSON.parse(row.data),
      createdAt: now,
    });
    byAccount.set(row.account_id, rows);
  }
  let published = 0;
  for (const [accountId, rows] of byAccount) {
    if (await publishSystemEvents(env, accountId, rows)) published += rows.length;
  }
  return published;
}
