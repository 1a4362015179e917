import { and, eq } from "drizzle-orm";
import { getChannel } from "../channels/catalog";
import { createDb } from "../db/client";
import { integrations } from "../db/schema";
import type { NotificationType, OutboxItem } from "../domain/notification";
import type { Category } from "../domain/subscriptions";
import { buildSystemEvent, type SystemEventRow, systemEventOutboxInsert } from "../domain/system-events";
import type { Env } from "../env";
import { loadWithRecipientContext } from "../integrations/send-target";
import type { IntegrationRow } from "../integrations/store";
import { uiLink } from "../lib/links";
import { raiseSystemNotice } from "../notices/system-notice";
import { enqueueItems } from "../outbox/enqueue";
import type { DeadFollowup, DeliveryStore } from "./store";

/**
 * What follows a delivery that died after its last retry (docs/delivery.md#dead-deliveries): a
 * `delivery_dead` notice, raised like the auto-disable notice (worker/notices/system-notice.ts),
 * at most once per integration per spacing; and its notifications handed to the integration's
 * fallback, once. The IntegrationDO keeps what is still to do in its `dead_followups` table and
 * runs `followUpDeadDeliveries` from its alarm.
 */

/** At most one delivery_dead notice per integration this often; the deaths in between are counted in the next. */
export const DEAD_NOTICE_SPACING_MS = 15 * 60_000;
/** When D1, the notice or the fallback's outbox failed, the follow-up is tried again after this long. */
const RETRY_MS = 30_000;

/** The follow-up's keys in the object's `meta` table. */
const META = {
  /** When the last delivery_dead notice was raised (the next waits DEAD_NOTICE_SPACING_MS). */
  noticeAt: "dead_notice_at",
  /** A notice built but not yet raised (a DeadNotice as JSON): raised again, same event, until it is. */
  notice: "dead_notice",
  /** Not tried again before this time. */
  retryAt: "dead_retry_at",
} as const;

/** What the follow-up needs of its IntegrationDO. */
export interface FollowUpHost {
  env: Env;
  store: DeliveryStore;
  clock: () => number;
  integrationId: string | null;
  transaction: (write: () => void) => void;
  /** True once the integration's object was destroyed (deleted meanwhile). */
  destroyed: () => boolean;
}

/**
 * Runs from the object's alarm, paused or not, after deliveries died: hands their notifications
 * to the fallback (once: the copies' ids are derived from the originals) and raises the notice
 * for the deaths not yet announced when the spacing allows. A failure is retried after RETRY_MS;
 * a fallback that cannot be reached does not hold back the notice.
 */
export async function followUpDeadDeliveries(host: FollowUpHost): Promise<void> {
  const { env, store, integrationId } = host;
  const now = host.clock();
  if (Number(store.getMeta(META.retryAt) ?? 0) > now || !integrationId) return;
  const waiting = store.deadFollowupsWaiting();
  if (!waiting.forward && !waiting.announce && !store.getMeta(META.notice)) return;
  const followups = store.deadFollowups();
  const toForward = followups.filter((f) => f.forward === 1);
  const toAnnounce = followups.filter((f) => f.announce === 1);
  const announceNow = toAnnounce.length > 0 && now >= nextNoticeAt(store);
  let pending = store.getMeta(META.notice);
  if (toForward.length === 0 && !announceNow && !pending) return;
  try {
    const loaded = await loadWithRecipientContext(createDb(env.DB), integrationId);
    if (host.destroyed()) return;
    if (!loaded) {
      // Deleted: nobody to tell about it, nothing to hand over.
      store.clearAllFollowups();
      store.setMeta(META.notice, null);
      return;
    }
    const row = loaded.integration;
    const fallback = await loadFallback(env, row);
    let handOverFailed = false;
    try {
      if (!fallback) for (const dead of toForward) store.markDeadForwarded(dead.seq);
      else {
        for (const batch of handOverBatches(store, toForward)) {
          await handOver(env, fallback, batch.items, integrationId);
          for (const seq of batch.seqs) store.markDeadForwarded(seq);
        }
      }
    } catch (error) {
      console.error("hand-over to the fallback failed", { integrationId, error: String(error) });
      handOverFailed = true;
    }
    if (announceNow) {
      const notice = JSON.stringify(buildDeadNotice(env, row, loaded.accountName, toAnnounce, fallback, now));
      pending = notice;
      host.transaction(() => {
        store.setMeta(META.notice, notice);
        store.setMeta(META.noticeAt, String(now));
        store.markDeadAnnounced(toAnnounce.map((f) => f.seq));
      });
    }
    if (pending) {
      await raiseDeadNotice(env, JSON.parse(pending) as DeadNotice);
      store.setMeta(META.notice, null);
    }
    store.clearSettledFollowups();
    store.setMeta(META.retryAt, handOverFailed ? String(host.clock() + RETRY_MS) : null);
  } catch (error) {
    console.error("dead deliveries' follow-up failed", { integrationId, error: String(error) });
    store.setMeta(META.retryAt, String(host.clock() + RETRY_MS));
  }
}

/** At most this many notifications per enqueue into the fallback's outbox: one RPC message stays small. */
const HAND_OVER_BATCH_ITEMS = 500;

/**
 * The dead deliveries' notifications in as few enqueues as the batch limit allows (one for the
 * usual handful): oldest first, a delivery never split, one larger than the limit alone.
 */
function handOverBatches(store: DeliveryStore, deaths: readonly DeadFollowup[]) {
  const batches: { seqs: number[]; items: OutboxItem[] }[] = [];
  for (const dead of deaths) {
    const items = store.itemsOf(dead.seq);
    const last = batches[batches.length - 1];
    if (last && last.items.length + items.length <= HAND_OVER_BATCH_ITEMS) {
      last.seqs.push(dead.seq);
      last.items.push(...items);
    } else {
      batches.push({ seqs: [dead.seq], items });
    }
  }
  return batches;
}

/** When the object's alarm must run for the follow-up, or null (read on every scheduling: no join). */
export function deadFollowupDue(store: DeliveryStore, now: number): number | null {
  const waiting = store.deadFollowupsWaiting();
  const due: number[] = [];
  if (store.getMeta(META.notice) || waiting.forward) due.push(now);
  if (waiting.announce) due.push(nextNoticeAt(store));
  if (due.length === 0) return null;
  return Math.max(Math.min(...due), Number(store.getMeta(META.retryAt) ?? 0));
}

/** The earliest time the next delivery_dead notice may be raised. */
function nextNoticeAt(store: DeliveryStore): number {
  const last = store.getMeta(META.noticeAt);
  return last === null ? 0 : Number(last) + DEAD_NOTICE_SPACING_MS;
}

/** A notice built once and kept until raised, so a retry raises the same event (same id). */
export interface DeadNotice {
  event: SystemEventRow;
  mail: { subject: string; text: string };
}

/** A fallback integration as the hand-over needs it. */
export interface Fallback {
  id: string;
  name: string;
  type: string;
}

/**
 * Is a dead delivery announced? Not when it carried only delivery_dead notices: those announce
 * other deaths, and announcing their own death could go on forever.
 */
export function deathIsAnnounced(items: readonly OutboxItem[]): boolean {
  return items.some((item) => item.notification.details.notification_type !== "delivery_dead");
}

/**
 * The fallback of an integration, when it names one that exists in its account and is enabled
 * (a disabled fallback takes nothing new, like fan-out; the dead delivery stays replayable).
 */
export async function loadFallback(env: Env, row: IntegrationRow): Promise<Fallback | null> {
  if (!row.fallbackIntegrationId) return null;
  const fallback = await createDb(env.DB).query.integrations.findFirst({
    columns: { id: true, name: true, type: true, status: true },
    where: and(eq(integrations.id, row.fallbackIntegrationId), eq(integrations.accountId, row.accountId)),
  });
  return fallback && fallback.status === "enabled" && fallback.id !== row.id ? fallback : null;
}

/**
 * A fallback copy's notification id: derived from the original id and the integration it came
 * from, so handing the same dead delivery over again (a repeated alarm) is dropped by the
 * fallback's outbox, which ignores ids it holds. A UUID (version 8) made of SHA-256 bits.
 */
export async function fallbackNotificationId(fromIntegrationId: string, originalId: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(`herald-fallback:${fromIntegrationId}:${originalId}`),
  );
  const bytes = new Uint8Array(digest).slice(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The subscription category a notification belongs to (what a system may carry, docs/channels.md). */
function categoryOf(type: NotificationType): Category {
  if (type === "new_hits") return "hit";
  if (type === "security_issue" || type === "incident" || type === "scope_change") return type;
  if (type === "report_daily" || type === "report_weekly" || type === "report_monthly") return "reports";
  return "system";
}

/**
 * The copies of a dead delivery's notifications for the fallback: same content (the fallback's
 * channel renders it in its own format when it sends), new ids. Left out: copies that already
 * came from a fallback hand-over (fallbacks do not cascade), notifications the fallback's
 * system cannot carry (raw hits on a messenger) and delivery_dead notices about the fallback's
 * own deliveries (never sent to the integration whose delivery died).
 */
export async function fallbackItems(
  items: readonly OutboxItem[],
  fromIntegrationId: string,
  fallback: Pick<Fallback, "id" | "type">,
): Promise<OutboxItem[]> {
  const carries = getChannel(fallback.type)?.categories ?? [];
  const aboutFallback = (item: OutboxItem) => {
    const { details } = item.notification;
    if (details.notification_type !== "delivery_dead") return false;
    const system = details.system as { subject?: Record<string, unknown> } | undefined;
    return system?.subject?.integration_id === fallback.id;
  };
  const originals = items.filter(
    (item) =>
      item.fallbackFrom === undefined &&
      carries.includes(categoryOf(item.notification.details.notification_type)) &&
      !aboutFallback(item),
  );
  return Promise.all(
    originals.map(async (item) => ({
      ...item,
      notification: { ...item.notification, id: await fallbackNotificationId(fromIntegrationId, item.notification.id) },
      fallbackFrom: fromIntegrationId,
    })),
  );
}

/** Queues a dead delivery's notifications in the fallback's outbox (deduplicated by id there). */
export async function handOver(env: Env, fallback: Fallback, items: readonly OutboxItem[], fromIntegrationId: string) {
  await enqueueItems(env, fallback.id, await fallbackItems(items, fromIntegrationId, fallback));
}

/** The link to one delivery in the UI: the integration's page, its delivery log open at that delivery. */
export function deliveryLink(publicUrl: string, integrationId: string, deliveryId: string): string {
  return uiLink(publicUrl, `/integrations/${integrationId}?delivery=${encodeURIComponent(deliveryId)}`);
}

/**
 * The notice for deliveries that died since the last one (oldest first, at least one): one
 * delivery, or the count of an outage's deaths with the last one's details.
 */
export function buildDeadNotice(
  env: Pick<Env, "PUBLIC_URL">,
  row: IntegrationRow,
  accountName: string,
  deaths: readonly DeadFollowup[],
  fallback: Fallback | null,
  at: number,
): DeadNotice {
  const last = deaths[deaths.length - 1] as DeadFollowup;
  const title = getChannel(row.type)?.title ?? row.type;
  const notifications = deaths.reduce((sum, death) => sum + death.notifications, 0);
  const noun = (n: number, one: string, many: string) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
  const lastError = last.last_error ?? "unknown error";
  const what =
    deaths.length === 1
      ? `A delivery of integration "${row.name}" (${title}) failed after its last retry: ${noun(notifications, "notification", "notifications")}, ${noun(last.attempts, "attempt", "attempts")}, last error: ${lastError}.`
      : `${noun(deaths.length, "delivery", "deliveries")} of integration "${row.name}" (${title}) died after their last retry (${noun(notifications, "notification", "notifications")}); the last one after ${noun(last.attempts, "attempt", "attempts")}: ${lastError}.`;
  const where = fallback
    ? ` The notifications were sent to the fallback integration "${fallback.name}".`
    : " They are kept in the delivery log for replay.";
  const message = `${what}${where}`;
  const link = deliveryLink(env.PUBLIC_URL, row.id, last.id);
  const event = buildSystemEvent(
    row.accountId,
    "delivery_dead",
    "Herald",
    message,
    {
      integration_id: row.id,
      integration_name: row.name,
      integration_type: row.type,
      deliveries_died: deaths.length,
      delivery_id: last.id,
      notifications,
      attempts: last.attempts,
      last_error: lastError,
      delivery_link: link,
      fallback_integration_id: fallback?.id ?? null,
      fallback_integration_name: fallback?.name ?? null,
    },
    at,
  );
  const subject =
    deaths.length === 1
      ? `[Herald] A delivery of "${row.name}" failed after its last retry`
      : `[Herald] ${deaths.length} deliveries of "${row.name}" failed after their last retry`;
  return { event, mail: { subject, text: `${message}\n\nAccount: ${accountName}\nThe delivery:\n${link}\n` } };
}

/**
 * Stores and raises the notice: to the account's `system` integrations but the one whose
 * delivery died, and by email to the admins who do not get those (raiseSystemNotice, the rule of
 * the auto-disable notice). Safe to repeat: the event keeps its id: a second outbox insert is ignored, or stored again and de-duplicated by its shard and the outboxes.
 */
export async function raiseDeadNotice(env: Env, notice: DeadNotice): Promise<void> {
  // Already stored by an earlier try whose answer was lost: raise that one, not a second event.
  await systemEventOutboxInsert(createDb(env.DB), notice.event).onConflictDoNothing();
  await raiseSystemNotice(env, notice.event, notice.mail);
}
