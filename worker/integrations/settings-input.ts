import type { Channel } from "../channels/types";
import type { FieldError } from "../lib/errors";
import type { DestinationPolicy } from "../security/destination-url";
import { keepBlankSecrets } from "./secret-fields";
import type { OpenedSettings } from "./store";
import { validateSettings } from "./validate";

type Settings = Record<string, unknown>;
type InputChannel = Pick<
  Channel<any>,
  "settingsSchema" | "secretFields" | "urlFields" | "categories" | "title" | "generatedFields" | "generateSecrets"
>;

export type PreparedSettings =
  | {
      ok: true;
      /** Full settings to seal and store. */
      settings: Settings;
      /** Values the server generated in this request (signing secret): answered once. */
      generated: Record<string, string>;
    }
  | { ok: false; errors: FieldError[] };

/** Generated settings are the server's: whatever the client sent for them is ignored. */
function withoutGenerated(channel: InputChannel, input: Settings): Settings {
  const out = { ...input };
  for (const key of channel.generatedFields ?? []) delete out[key];
  return out;
}

/** Create: the admin's settings plus freshly generated secrets, validated. */
export function prepareCreateSettings(
  channel: InputChannel,
  input: Settings,
  policy: DestinationPolicy,
): PreparedSettings {
  const generated = channel.generateSecrets?.() ?? {};
  const result = validateSettings(channel, { ...withoutGenerated(channel, input), ...generated }, policy);
  return result.ok ? { ok: true, settings: result.settings, generated } : result;
}

/**
 * Update: keys given replace the stored ones; secrets left blank, absent or masked keep their
 * stored value; generated settings stay (regenerated only when they were lost with unreadable
 * secrets). Secrets that cannot be kept (unreadable) must be re-entered: the error says so.
 */
export function prepareUpdateSettings(
  channel: InputChannel,
  input: Settings,
  previous: OpenedSettings,
  policy: DestinationPolicy,
): PreparedSettings {
  const merged: Settings = { ...previous.settings, ...withoutGenerated(channel, input) };
  const generated: Record<string, string> = {};
  for (const [key, value] of Object.entries(channel.generateSecrets?.() ?? {})) {
    if (merged[key] === undefined || merged[key] === null) {
      merged[key] = value;
      generated[key] = value;
    }
  }
  const { settings, missing } = keepBlankSecrets(merged, previous.settings, channel.secretFields);
  const result = validateSettings(channel, settings, policy);
  if (result.ok) return { ok: true, settings: result.settings, generated };
  const missingFields = new Set(missing.map((path) => ["settings", ...path].join(".")));
  const errors = result.errors.map((error) =>
    missingFields.has(error.field) && previous.unreadable
      ? { field: error.field, message: "The stored secret cannot be decrypted any more: enter it again." }
      : error,
  );
  return { ok: false, errors };
}
