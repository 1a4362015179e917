import type { Channel, IntegrationType } from "../channels/types";
import type { DisableReason, integrations } from "../db/schema";
import type { EventSubscriptions } from "../domain/subscriptions";
import { decryptSecrets, encryptSecrets, type KeyringEnv, SecretsUnreadableError } from "../security/secrets";
import { maskSettings, mergeSecrets, splitSecrets } from "./secret-fields";

/**
 * The one place integration rows are opened (decrypted) and sealed (encrypted), and turned into
 * the API's JSON with secrets masked. Nothing here branches on the type: the channel says which
 * settings are secret.
 */

export type IntegrationRow = typeof integrations.$inferSelect;
type Settings = Record<string, unknown>;
type AnyChannel = Pick<Channel<any>, "secretFields">;

export interface OpenedSettings {
  /** Full settings, secrets included (only the readable part when `unreadable`). */
  settings: Settings;
  /**
   * The secrets could not be decrypted (moved between rows, tampered, or sealed with a key no
   * longer configured): the integration needs its secrets re-entered.
   */
  unreadable: boolean;
}

/** Clear settings merged with the decrypted secrets of this row. Never throws for a bad envelope. */
export async function openSettings(env: KeyringEnv, row: Pick<IntegrationRow, "id" | "settings" | "secrets">) {
  const clear = (row.settings ?? {}) as Settings;
  if (!row.secrets) return { settings: clear, unreadable: false } satisfies OpenedSettings;
  try {
    const secret = await decryptSecrets(env, row.id, row.secrets);
    return { settings: mergeSecrets(clear, secret), unreadable: false } satisfies OpenedSettings;
  } catch (error) {
    if (!(error instanceof SecretsUnreadableError)) throw error;
    // The reason only: the envelope itself is not logged.
    console.warn("integration secrets unreadable", { integrationId: row.id, reason: error.reason });
    return { settings: clear, unreadable: true } satisfies OpenedSettings;
  }
}

/** Full settings → the row's `settings` (clear) and `secrets` (sealed for this row id) columns. */
export async function sealSettings(
  env: KeyringEnv,
  integrationId: string,
  channel: AnyChannel,
  settings: Settings,
): Promise<{ settings: Settings; secrets: string | null }> {
  const { clear, secret } = splitSecrets(settings, channel.secretFields);
  const secrets = Object.keys(secret).length > 0 ? await encryptSecrets(env, integrationId, secret) : null;
  return { settings: clear, secrets };
}

export interface IntegrationJson {
  id: string;
  type: IntegrationType;
  name: string;
  status: "enabled" | "disabled";
  disabled_reason?: DisableReason;
  disabled_details?: unknown;
  disabled_at?: string;
  settings: Settings;
  events: EventSubscriptions;
  /** "needs_reentry" when the stored secrets cannot be decrypted. */
  secrets_status: "ok" | "needs_reentry";
  /** personal_email: the user whose login address receives it. */
  user_id?: string;
  created_at: string;
  updated_at: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The API's view of an integration (SPEC §2): secrets masked, never the values. */
export function toIntegrationJson(row: IntegrationRow, channel: AnyChannel, opened: OpenedSettings): IntegrationJson {
  const json: IntegrationJson = {
    id: row.id,
    // Rows are only written with a catalog type (validated on create).
    type: row.type as IntegrationType,
    name: row.name,
    status: row.status,
    settings: maskSettings(opened.settings, channel.secretFields, opened.unreadable),
    events: (row.events ?? {}) as EventSubscriptions,
    secrets_status: opened.unreadable ? "needs_reentry" : "ok",
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  };
  if (row.status === "disabled") {
    json.disabled_reason = row.disabledReason ?? "manual";
    if (row.disabledDetails != null) json.disabled_details = row.disabledDetails;
    if (row.disabledAt != null) json.disabled_at = iso(row.disabledAt);
  }
  if (row.userId) json.user_id = row.userId;
  return json;
}
