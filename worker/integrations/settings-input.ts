import type { Channel } from "../channels/types";
import type { FieldError } from "../lib/errors";
import type { DestinationPolicy } from "../security/destination-url";
import { keepBlankSecrets, looksMasked, splitSecrets } from "./secret-fields";
import type { OpenedSettings } from "./store";
import { validateSettings } from "./validate";

type Settings = Record<string, unknown>;
type InputChannel = Pick<
  Channel<any>,
  "settingsSchema" | "secretFields" | "urlFields" | "categories" | "title" | "generatedFields" | "generateSecrets"
>;

type PreparedSettings =
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
  const incoming = withoutGenerated(channel, input);
  // A stored secret is only kept for the destination it was entered for: once the destination
  // moves to another host, keeping it would hand it there (any admin could read it that way).
  const bound = movedDestination(channel, previous.settings, { ...previous.settings, ...incoming })
    ? boundSecretPaths(channel)
    : [];
  const stored = bound.length ? splitSecrets(previous.settings, bound).clear : previous.settings;
  const merged: Settings = { ...stored, ...incoming };
  const generated: Record<string, string> = {};
  for (const [key, value] of Object.entries(channel.generateSecrets?.() ?? {})) {
    if (merged[key] === undefined || merged[key] === null) {
      merged[key] = value;
      generated[key] = value;
    }
  }
  const kept = keepBlankSecrets(
    merged,
    previous.settings,
    channel.secretFields.filter((path) => !bound.includes(path)),
  );
  const { settings, missing: mustReenter } = keepBlankSecrets(kept.settings, null, bound);
  const reentryErrors = mustReenter.map((path) => ({
    field: ["settings", ...path].join("."),
    message: "The destination moved to another host: enter this secret again.",
  }));
  const result = validateSettings(channel, settings, policy);
  if (result.ok && reentryErrors.length === 0) return { ok: true, settings: result.settings, generated };
  const missingFields = new Set(kept.missing.map((path) => ["settings", ...path].join(".")));
  const reentryFields = new Set(reentryErrors.map((error) => error.field));
  const schemaErrors = (result.ok ? [] : result.errors)
    .filter((error) => !reentryFields.has(error.field))
    .map((error) =>
      missingFields.has(error.field) && previous.unreadable
        ? { field: error.field, message: "The stored secret cannot be decrypted any more: enter it again." }
        : error,
    );
  return { ok: false, errors: [...reentryErrors, ...schemaErrors] };
}

/** scheme://host:port of a URL setting, or null when it is not one. */
function originOf(value: unknown): string | null {
  return typeof value === "string" && URL.canParse(value.trim()) ? new URL(value.trim()).origin : null;
}

/** Whether any destination URL of the update points at another origin than the stored one. */
function movedDestination(channel: InputChannel, previous: Settings, next: Settings): boolean {
  return channel.urlFields.some((field) => {
    const before = originOf(previous[field]);
    // A secret URL sent back masked keeps the stored one (keepBlankSecrets): not a move.
    const sent = next[field];
    if (typeof sent === "string" && looksMasked(sent)) return false;
    return before !== null && before !== originOf(sent);
  });
}

/**
 * Secrets that authenticate to the destination (API key, token, header values): every secret but
 * the URL itself and the server-generated ones (a signing key the receiver never sees).
 */
function boundSecretPaths(channel: InputChannel): string[] {
  const notBound = new Set([...channel.urlFields, ...(channel.generatedFields ?? [])]);
  return channel.secretFields.filter((path) => !notBound.has(path));
}
