import type { Channel, IntegrationType } from "../channels/types";
import type { integrations } from "../db/schema";
import type { EventSubscriptions } from "../domain/subscriptions";
import { iso } from "../lib/time";
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

/**
 * The API's view of an integration (docs/api.md#integrations): secrets masked, never the values.
 * Its shape is defined once, by IntegrationSchema (worker/routes/integrations/schemas.ts); the
 * routes' typed responses check this against it.
 */
export function toIntegrationJson(row: IntegrationRow, channel: AnyChannel, opened: OpenedSettings) {
  const disabled = row.status === "disabled";
  return {
    id: row.id,
    // Rows are only written with a catalog type (validated on create).
    type: row.type as IntegrationType,
    name: row.name,
    status: row.status,
    ...(disabled && { disabled_reason: row.disabledReason ?? "manual" }),
    ...(disabled && row.disabledDetails != null && { disabled_details: row.disabledDetails }),
    ...(disabled && row.disabledAt != null && { disabled_at: iso(row.disabledAt) }),
    settings: maskSettings(opened.settings, channel.secretFields, opened.unreadable),
    events: (row.events ?? {}) as EventSubscriptions,
    secrets_status: opened.unreadable ? ("needs_reentry" as const) : ("ok" as const),
    ...(row.userId && { user_id: row.userId }),
    fallback_integration_id: row.fallbackIntegrationId ?? null,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  };
}
