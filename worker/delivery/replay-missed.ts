import { and, asc, eq, gt, gte, or } from "drizzle-orm";
import { createDb } from "../db/client";
import { accounts, events, integrations } from "../db/schema";
import { buildNotification } from "../domain/notify-build";
import { type EventSubscriptions, subscribesTo } from "../domain/subscriptions";
import type { Env } from "../env";
import type { OutboxItem } from "./outbox-item";

const PAGE_SIZE = 500;
/** A replay covers at most this many events: an integration disabled for weeks under a hit flood
 * should not turn one click into millions of requests. */
export const MAX_REPLAYED_EVENTS = 50_000;

/**
 * The account's events stored since `since` (epoch ms, by arrival) that this integration
 * subscribes to, as outbox items in arrival order, page by page. Notifications are built exactly
 * as fan-out builds them, so an event already in the outbox dedupes by id.
 */
export async function* missedEventBatches(
  env: Env,
  integrationId: string,
  since: number,
): AsyncGenerator<OutboxItem[]> {
  const db = createDb(env.DB);
  const integration = await db.query.integrations.findFirst({ where: eq(integrations.id, integrationId) });
  if (!integration) return;
  const account = await db.query.accounts.findFirst({ where: eq(accounts.id, integration.accountId) });
  if (!account) return;
  const subscriptions = (integration.events ?? {}) as EventSubscriptions;

  type Cursor = { receivedAt: number; id: string };
  let after: Cursor | null = null;
  let seen = 0;
  while (seen < MAX_REPLAYED_EVENTS) {
    const cursor: Cursor | null = after;
    const rows: (typeof events.$inferSelect)[] = await db
      .select()
      .from(events)
      .where(
        and(
          eq(events.accountId, integration.accountId),
          cursor
            ? or(
                gt(events.receivedAt, cursor.receivedAt),
                and(eq(events.receivedAt, cursor.receivedAt), gt(events.id, cursor.id)),
              )
            : gte(events.receivedAt, since),
        ),
      )
      .orderBy(asc(events.receivedAt), asc(events.id))
      .limit(PAGE_SIZE);
    if (rows.length === 0) return;
    seen += rows.length;
    const last: Cursor = rows[rows.length - 1]!;
    after = { receivedAt: last.receivedAt, id: last.id };
    const items = rows
      .filter((row) => subscribesTo(subscriptions, { type: row.type, risk: row.risk }))
      .map((row) => ({ notification: buildNotification(row, account.name, env.PUBLIC_URL), eventId: row.id }));
    if (items.length > 0) yield items;
    if (rows.length < PAGE_SIZE) return;
  }
}
