import { redact } from "../channels/http";
import type { Channel } from "../channels/types";
import { type EventSubscriptions, subscribedCategories } from "../domain/subscriptions";
import { type FieldError, fieldErrors } from "../lib/errors";
import { checkDestinationUrl, type DestinationPolicy } from "../security/destination-url";
import { secretValues } from "./secret-fields";

type Settings = Record<string, unknown>;
type ValidatingChannel = Pick<Channel<any>, "settingsSchema" | "secretFields" | "urlFields" | "categories" | "title">;

/**
 * Full settings (secrets included) against the channel's schema, then the deployment's rules the
 * schema cannot know: destination URLs (https, no private targets).
 * Errors name the field as the client sent it ("settings.url", "settings.headers.2.name").
 */
export function validateSettings(
  channel: ValidatingChannel,
  settings: unknown,
  policy: DestinationPolicy,
): { ok: true; settings: Settings } | { ok: false; errors: FieldError[] } {
  let parsed: ReturnType<ValidatingChannel["settingsSchema"]["safeParse"]>;
  try {
    parsed = channel.settingsSchema.safeParse(settings);
  } catch (error) {
    // A schema that throws (a refinement on input it did not expect) is a bug, but the caller
    // still gets a 400 rather than a 500; the error text is logged without the input.
    const secrets = secretValues((settings ?? {}) as Settings, channel.secretFields);
    console.error("settings schema threw", { title: channel.title, error: redact(String(error), secrets) });
    const urlErrors = urlProblems(channel, (settings ?? {}) as Settings, policy);
    return {
      ok: false,
      errors: urlErrors.length ? urlErrors : [{ field: "settings", message: "The settings are invalid." }],
    };
  }
  if (!parsed.success) return { ok: false, errors: fieldErrors(parsed.error, ["settings"]) };
  const value = parsed.data as Settings;
  // Custom header limits are part of the webhook schema itself (worker/channels/webhook.ts).
  const errors = urlProblems(channel, value, policy);
  return errors.length ? { ok: false, errors } : { ok: true, settings: value };
}

/** The deployment's rules on every destination URL the channel declares. */
function urlProblems(channel: ValidatingChannel, settings: Settings, policy: DestinationPolicy): FieldError[] {
  const errors: FieldError[] = [];
  for (const field of channel.urlFields) {
    const url = settings[field];
    if (typeof url !== "string") continue;
    const problem = checkDestinationUrl(url.trim(), policy);
    if (problem) errors.push({ field: `settings.${field}`, message: problem });
  }
  return errors;
}

/** Subscriptions this system may not have (e.g. `hit` on Slack) → "events.hit". */
export function validateSubscriptions(channel: ValidatingChannel, events: EventSubscriptions): FieldError[] {
  return subscribedCategories(events)
    .filter((category) => !channel.categories.includes(category))
    .map((category) => ({
      field: `events.${category}`,
      message: `${channel.title} integrations cannot subscribe to ${category === "reports" ? "reports" : `"${category}" events`}.`,
    }));
}
