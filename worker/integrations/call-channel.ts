import { invalidSettings, redact } from "../channels/http";
import type { SendOutcome } from "../channels/types";
import type { Notification, ReportAttachment } from "../domain/notification";
import type { Env } from "../env";
import { checkDestinationUrl, destinationPolicy } from "../security/destination-url";
import { type SendTarget, sendContextFor } from "./send-target";

/** What a channel is called with: a saved integration (delivery) or a test send's settings. */
type ChannelTarget = Pick<
  SendTarget,
  "integrationId" | "accountName" | "channel" | "settings" | "recipients" | "secrets"
>;

interface ChannelCall {
  /** The delivery's stable id across attempts (a fresh one per test sample). */
  deliveryId: string;
  notifications: Notification[];
  /** Loads the attachment of a single report notification, for channels that carry it. */
  loadReport?: () => Promise<ReportAttachment | null>;
  fetch?: typeof fetch;
  test?: boolean;
}

/**
 * The one way Herald calls a channel, for deliveries and test sends alike: the deployment's
 * destination URL rules first (settings saved under looser rules are refused, nothing is sent),
 * then `sendReport` or `send`, with every failure text scrubbed of the target's secrets. Never
 * throws: a channel bug becomes a failed outcome, so a delivery is retried on schedule instead of
 * being lost or retried in a tight loop.
 */
export async function callChannel(env: Env, target: ChannelTarget, call: ChannelCall): Promise<SendOutcome> {
  const refused = refusedDestination(target, env);
  if (refused) return invalidSettings(refused);
  const started = Date.now();
  const ctx = sendContextFor(target, env, { deliveryId: call.deliveryId, fetch: call.fetch, test: call.test });
  let outcome: SendOutcome;
  try {
    const [first, ...rest] = call.notifications;
    const report = first && rest.length === 0 && target.channel.sendReport ? await call.loadReport?.() : null;
    outcome =
      first && report && target.channel.sendReport
        ? await target.channel.sendReport(ctx, first, report)
        : await target.channel.send(ctx, call.notifications);
  } catch (error) {
    // An exception's text may quote a secret (a URL with a token, a header value): never log it as is.
    const message = redact(error instanceof Error ? error.message : String(error), target.secrets);
    console.error("channel send threw", {
      integrationId: target.integrationId,
      deliveryId: call.deliveryId,
      error: message,
    });
    return {
      ok: false,
      kind: "network",
      latencyMs: Date.now() - started,
      error: `Herald could not send: ${message}`,
      requestBody: "",
    };
  }
  // Channels redact their own texts; this is the last line of defence for the ones that forget.
  return outcome.ok ? outcome : { ...outcome, error: redact(outcome.error, target.secrets) };
}

/** Why the deployment's URL rules refuse one of the target's destinations now, or null. */
function refusedDestination(target: ChannelTarget, env: Env): string | null {
  const policy = destinationPolicy(env);
  for (const field of target.channel.urlFields) {
    const value = target.settings[field];
    const refused = typeof value === "string" ? checkDestinationUrl(value, policy) : null;
    if (refused) return `settings.${field} is refused by this deployment's rules: ${refused}`;
  }
  return null;
}
