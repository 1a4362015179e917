import { emailChannel } from "./email";
import { insightconnectChannel } from "./insightconnect";
import { opsgenieChannel } from "./opsgenie";
import { pagerdutyChannel } from "./pagerduty";
import { personalEmailChannel } from "./personal-email";
import { slackChannel } from "./slack";
import { splunkChannel } from "./splunk";
import { sumologicChannel } from "./sumologic";
import { telegramChannel } from "./telegram";
import type { Channel, IntegrationType } from "./types";
import { webhookChannel } from "./webhook";

/** A channel of any system, as the rest of the code sees it (settings validated by its schema). */
export type AnyChannel = Channel<Record<string, unknown>>;

/**
 * Forgets a channel's settings type. Sound because callers only pass a channel settings that its
 * own `settingsSchema` produced (the integrations API validates on save; senders parse on load).
 */
function erase<Settings>(channel: Channel<Settings>): AnyChannel {
  return channel as unknown as AnyChannel;
}

/**
 * Every system, in the catalog's order (docs/channels.md#the-catalog): email and messengers, incident management and
 * SIEM, other systems. The only place that knows the list; nothing else branches on the type.
 */
export const CHANNELS: readonly AnyChannel[] = [
  erase(personalEmailChannel),
  erase(emailChannel),
  erase(slackChannel),
  erase(telegramChannel),
  erase(opsgenieChannel),
  erase(insightconnectChannel),
  erase(pagerdutyChannel),
  erase(splunkChannel),
  erase(sumologicChannel),
  erase(webhookChannel),
];

const BY_TYPE = new Map<string, AnyChannel>(CHANNELS.map((channel) => [channel.type, channel]));

/** The channel of a type, or undefined for an unknown type (validate input with INTEGRATION_TYPES). */
export function getChannel(type: IntegrationType | string): AnyChannel | undefined {
  return BY_TYPE.get(type);
}
