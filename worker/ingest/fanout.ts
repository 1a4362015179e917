import { and, eq } from "drizzle-orm";
import { createDb } from "../db/client";
import { accounts, integrations } from "../db/schema";
import type { OutboxItem } from "../delivery/outbox-item";
import { buildNotification, type NotifiableEvent } from "../domain/notify-build";
import { type EventSubscriptions, subscribesTo } from "../domain/subscriptions";
import type { Env } from "../env";

/**
 * Queues notifications for stored events in every enabled integration of the account whose
 * subscriptions cover them. Resolves only once every IntegrationDO has stored its items durably;
 * rejects if any enqueue fails (the caller answers 503 so the node re-sends; ids dedupe).
 */
export async function fanOutEvents(env: Env, accountId: string, rows: NotifiableEvent[]): Promise<number> {
  if (rows.length === 0) return 0;
  const db = createDb(env.DB);
  const [account, targets] = await Promise.all([
    db.query.accounts.findFirst({ where: eq(accounts.id, accountId) }),
    db
      .select({ id: integrations.id, events: integrations.events })
      .from(integrations)
      .where(and(eq(integrations.accountId, accountId), eq(integrations.status, "enabled"))),
  ]);
  if (!account || targets.length === 0) return 0;

  const notifications = new Map<string, OutboxItem>();
  const itemFor = (row: NotifiableEvent) => {
    let item = notifications.get(row.id);
    if (!item) {
      item = { notification: buildNotification(row, account.name, env.PUBLIC_URL), eventId: row.id };
      notifications.set(row.id, item);
    }
    return item;
  };

  const enqueues: Promise<void>[] = [];
  for (const target of targets) {
    const subscriptions = target.events as EventSubscriptions;
    const items = rows.filter((row) => subscribesTo(subscriptions, { type: row.type, risk: row.risk })).map(itemFor);
    if (items.length === 0) continue;
    const stub = env.INTEGRATION_DO.get(env.INTEGRATION_DO.idFromName(target.id));
    enqueues.push(stub.enqueue(target.id, items));
  }
  await Promise.all(enqueues);
  return enqueues.length;
}
