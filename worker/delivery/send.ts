import { invalidSettings, redact } from "../channels/http";
import type { SendOutcome } from "../channels/types";
import type { ReportAttachment } from "../domain/notification";
import type { Env } from "../env";
import { type SendTarget, sendContextFor } from "../integrations/send-target";
import type { OutboxItem } from "./outbox-item";

export type { SendTarget };

/** Loads the target; null when the integration no longer exists. */
export type ResolveTarget = (env: Env, integrationId: string) => Promise<SendTarget | null>;

/** Loads a report's attachment for channels that carry it (email and Telegram PDF, webhook JSON). */
export type LoadReport = (env: Env, reportId: string) => Promise<ReportAttachment | null>;

/**
 * Sends one delivery's notifications in one request through the integration's channel. Never
 * throws: a channel bug or an unexpected exception becomes a failed outcome, so the delivery is
 * retried on schedule instead of being lost or retried in a tight loop.
 */
export async function sendDelivery(
  env: Env,
  target: SendTarget,
  deliveryId: string,
  items: readonly OutboxItem[],
  options: { fetch?: typeof fetch; loadReport?: LoadReport },
): Promise<SendOutcome> {
  const started = Date.now();
  const ctx = sendContextFor(target, env, { deliveryId, fetch: options.fetch });
  try {
    const first = items[0];
    if (items.length === 1 && first?.reportId && target.channel.sendReport && options.loadReport) {
      const report = await options.loadReport(env, first.reportId);
      if (report) return await target.channel.sendReport(ctx, first.notification, report);
    }
    return await target.channel.send(
      ctx,
      items.map((item) => item.notification),
    );
  } catch (error) {
    // An exception's text may quote a secret (a URL with a token, a header value): never log it as is.
    const message = redact(error instanceof Error ? error.message : String(error), target.secrets);
    console.error("channel send threw", { integrationId: target.integrationId, deliveryId, error: message });
    return {
      ok: false,
      kind: "network",
      latencyMs: Date.now() - started,
      error: `Herald could not send: ${message}`,
      requestBody: "",
    };
  }
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
