import { and, asc, eq, gte, lt, type SQL, sql } from "drizzle-orm";
import { createDb } from "../db/client";
import { events } from "../db/schema";
import type { StoredEvent } from "../domain/event-filters";
import type { Env } from "../env";

/**
 * The one reader of an account's stored events over a time range, in occurred_at order, for the
 * trigger and silence previews. It pages the D1 events table by (occurred_at, id), so each read is
 * one index range; the move of events into Durable Objects re-implements it over their shards.
 */

export const SCAN_PAGE_SIZE = 1000;

export interface ScanResult {
  scanned: number;
  /** True when `limit` stopped the scan before the end of the range. */
  truncated: boolean;
}

/**
 * Calls `onBatch` with the events that occurred in [fromMs, toMs), oldest first, at most `limit`
 * in all (default 200 000).
 */
export async function scanAccountEvents(
  env: Pick<Env, "DB">,
  accountId: string,
  fromMs: number,
  toMs: number,
  onBatch: (batch: StoredEvent[]) => void | Promise<void>,
  limit = 200_000,
): Promise<ScanResult> {
  const db = createDb(env.DB);
  let scanned = 0;
  let after: { occurredAt: number; id: string } | null = null;
  const range = (): SQL =>
    and(
      eq(events.accountId, accountId),
      after
        ? sql`(${events.occurredAt}, ${events.id}) > (${after.occurredAt}, ${after.id})`
        : gte(events.occurredAt, fromMs),
      lt(events.occurredAt, toMs),
    ) as SQL;
  while (scanned < limit) {
    const rows: { id: string; nodeId: string | null; occurredAt: number; data: unknown }[] = await db
      .select({ id: events.id, nodeId: events.nodeId, occurredAt: events.occurredAt, data: events.data })
      .from(events)
      .where(range())
      .orderBy(asc(events.occurredAt), asc(events.id))
      .limit(Math.min(SCAN_PAGE_SIZE, limit - scanned));
    if (rows.length === 0) break;
    scanned += rows.length;
    await onBatch(rows as StoredEvent[]);
    const last = rows[rows.length - 1] as (typeof rows)[number];
    after = { occurredAt: last.occurredAt, id: last.id };
    if (rows.length < SCAN_PAGE_SIZE) return { scanned, truncated: false };
  }
  if (scanned < limit) return { scanned, truncated: false };
  // Stopped at the limit: is there anything left?
  const more = await db.select({ id: events.id }).from(events).where(range()).limit(1);
  return { scanned, truncated: more.length > 0 };
}
