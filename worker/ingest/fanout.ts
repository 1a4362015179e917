import { and, eq } from "drizzle-orm";
import { createDb } from "../db/client";
import { accounts, integrations } from "../db/schema";
import type { OutboxItem } from "../domain/notification";
import { buildNotification, type NotifiableEvent } from "../domain/notify-build";
import { type EventSubscriptions, type MatchableEvent, subscribesTo } from "../domain/subscriptions";
import type { Env } from "../env";

/** An enabled integration of the account and what it subscribes to. */
export interface FanOutTarget {
  id: string;
  events: EventSubscriptions;
}

/** Does at least one of the targets want this event? (Decides whether it waits for fan-out.) */
export function anyTargetWants(targets: FanOutTarget[], event: MatchableEvent): boolean {
  return targets.some((target) => subscribesTo(target.events, event));
}

/**
 * Which notifications go to which integration. Pure: one notification object per event, shared
 * by every integration that receives it (its id is the event id, so outboxes dedupe re-sends).
 */
export function planFanOut(
  targets: FanOutTarget[],
  rows: NotifiableEvent[],
  accountName: string,
  publicUrl: string,
): Map<string, OutboxItem[]> {
  const items = new Map<string, OutboxItem>();
  const itemFor = (row: NotifiableEvent) => {
    let item = items.get(row.id);
    if (!item) {
      item = { notification: buildNotification(row, accountName, publicUrl), eventId: row.id };
      items.set(row.id, item);
    }
    return item;
  };
  const plan = new Map<string, OutboxItem[]>();
  for (const target of targets) {
    const matching = rows.filter((row) => subscribesTo(target.events, { type: row.type, risk: row.risk }));
    if (matching.length > 0) plan.set(target.id, matching.map(itemFor));
  }
  return plan;
}

/**
 * Hands each integration its items. Resolves only once every IntegrationDO has stored them
 * durably; rejects if any enqueue fails (ingest then answers 503 and the node re-sends).
 */
export async function enqueuePlan(env: Env, plan: Map<string, OutboxItem[]>): Promise<void> {
  await Promise.all(
    [...plan].map(([integrationId, items]) =>
      env.INTEGRATION_DO.get(env.INTEGRATION_DO.idFromName(integrationId)).enqueue(integrationId, items),
    ),
  );
}

/**
 * Queues notifications for stored events in every enabled integration of the account whose
 * subscriptions cover them (system events; node events go through the ingest route, which has
 * already loaded the targets).
 */
export async function fanOutEvents(env: Env, accountId: string, rows: NotifiableEvent[]): Promise<void> {
  if (rows.length === 0) return;
  const db = createDb(env.DB);
  const [account, targets] = await Promise.all([
    db.query.accounts.findFirst({ columns: { name: true }, where: eq(accounts.id, accountId) }),
    db
      .select({ id: integrations.id, events: integrations.events })
      .from(integrations)
      .where(and(eq(integrations.accountId, accountId), eq(integrations.status, "enabled"))),
  ]);
  if (!account || targets.length === 0) return;
  const plan = planFanOut(
    targets.map((t) => ({ id: t.id, events: t.events as EventSubscriptions })),
    rows,
    account.name,
    env.PUBLIC_URL,
  );
  await enqueuePlan(env, plan);
}
