import { invalidSettings } from "../channels/http";
import type { SendOutcome } from "../channels/types";
import type { OutboxItem, ReportAttachment } from "../domain/notification";
import type { Env } from "../env";
import { callChannel } from "../integrations/call-channel";
import type { SendTarget } from "../integrations/send-target";

export type { SendTarget };

/** Loads the target; null when the integration no longer exists. */
export type ResolveTarget = (env: Env, integrationId: string) => Promise<SendTarget | null>;

/** Loads a report's attachment for channels that carry it (email and Telegram PDF, webhook JSON). */
export type LoadReport = (env: Env, reportId: string) => Promise<ReportAttachment | null>;

/**
 * Sends one delivery's notifications in one request through the integration's channel
 * (callChannel: URL rules, report or batch, never throws).
 */
export function sendDelivery(
  env: Env,
  target: SendTarget,
  deliveryId: string,
  items: readonly OutboxItem[],
  options: { fetch?: typeof fetch; loadReport?: LoadReport },
): Promise<SendOutcome> {
  const reportId = items.length === 1 ? items[0]?.reportId : undefined;
  const loadReport = options.loadReport;
  return callChannel(env, target, {
    deliveryId,
    notifications: items.map((item) => item.notification),
    loadReport: reportId && loadReport ? () => loadReport(env, reportId) : undefined,
    fetch: options.fetch,
  });
}

/**
 * The failed attempt recorded when the integration cannot be sent to as configured (nothing is
 * sent); by default, because its secrets cannot be decrypted.
 */
export function invalidSettingsOutcome(
  error = "The integration's secrets cannot be decrypted; re-enter them in its settings.",
): SendOutcome {
  return invalidSettings(error);
}
