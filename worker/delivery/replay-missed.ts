import { and, asc, eq, gt } from "drizzle-orm";
import { createDb } from "../db/client";
import { accounts, events, integrations } from "../db/schema";
import type { OutboxItem } from "../domain/notification";
import { type EventSubscriptions, subscribedEventsCondition } from "../domain/subscriptions";
import type { Env } from "../env";
import { eventOutboxItem } from "../outbox/fan-out";

const PAGE_SIZE = 500;
/** A replay queues at most this many matching events: an integration disabled for weeks under a
 * flood should not turn one click into millions of requests. */
export const MAX_REPLAYED_EVENTS = 50_000;

/** How a replay scan ended. */
export interface MissedEventsScan {
  /** True when more matching events were stored than the cap allowed to queue. */
  truncated: boolean;
}

/**
 * The account's events stored after `afterSeq` (events.seq, i.e. committed after the disable that
 * recorded it: worker/integrations/lifecycle.ts) that this integration subscribes to, as outbox
 * items in that order, page by page, at most `maxEvents` of them; the generator's return value
 * says whether matching events were left out. Items are built as fan-out builds them
 * (worker/outbox/fan-out.ts), so an event already in the outbox dedupes by id.
 */
export async function* missedEventBatches(
  env: Env,
  integrationId: string,
  afterSeq: number,
  maxEvents = MAX_REPLAYED_EVENTS,
): AsyncGenerator<OutboxItem[], MissedEventsScan> {
  const db = createDb(env.DB);
  const integration = await db.query.integrations.findFirst({ where: eq(integrations.id, integrationId) });
  if (!integration) return { truncated: false };
  const account = await db.query.accounts.findFirst({ where: eq(accounts.id, integration.accountId) });
  if (!account) return { truncated: false };
  // Only rows the integration wants are read, so a flood of events it does not subscribe to
  // cannot use up the cap.
  const subscribed = subscribedEventsCondition((integration.events ?? {}) as EventSubscriptions);
  if (!subscribed) return { truncated: false };

  let after = afterSeq;
  let queued = 0;
  for (;;) {
    const room = maxEvents - queued;
    // One row past the cap tells whether anything was left out.
    const rows: (typeof events.$inferSelect)[] = await db
      .select()
      .from(events)
      .where(and(gt(events.seq, after), eq(events.accountId, integration.accountId), subscribed))
      .orderBy(asc(events.seq))
      .limit(Math.min(PAGE_SIZE, room + 1));
    const truncated = rows.length > room;
    const page = truncated ? rows.slice(0, room) : rows;
    if (page.length > 0) {
      queued += page.length;
      after = page[page.length - 1]!.seq;
      yield page.map((row) => eventOutboxItem(row, account.name, env.PUBLIC_URL));
    }
    if (truncated) return { truncated: true };
    if (rows.length < Math.min(PAGE_SIZE, room + 1)) return { truncated: false };
  }
}
