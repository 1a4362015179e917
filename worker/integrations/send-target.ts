import { and, eq } from "drizzle-orm";
import { getChannel } from "../channels/catalog";
import type { Channel, SendContext } from "../channels/types";
import { createDb, type Db } from "../db/client";
import { accounts, integrations, users } from "../db/schema";
import type { EventSubscriptions } from "../domain/subscriptions";
import type { Env } from "../env";
import { SecretsUnreadableError } from "../security/secrets";
import { secretValues } from "./secret-fields";
import { openSettings } from "./store";

export { SecretsUnreadableError };

/** Everything the delivery engine needs to call `channel.send` for one integration. */
export interface SendTarget {
  integrationId: string;
  accountId: string;
  accountName: string;
  type: string;
  name: string;
  status: "enabled" | "disabled";
  events: EventSubscriptions;
  channel: Channel<any>;
  /** Full settings, secrets decrypted. Never log them. */
  settings: Record<string, unknown>;
  /** Email recipients: the user's login address (personal email) or the configured list. */
  recipients?: string[];
  /** The secret values, for redacting anything that is logged or stored. */
  secrets: string[];
}

/**
 * Loads an integration for sending, in one D1 query (row + account name + owner's email).
 * Returns null when the integration no longer exists (deleted: drop its outbox).
 * Throws SecretsUnreadableError when its secrets cannot be decrypted (the attempt is recorded as
 * `invalid_settings` until the admin re-enters them), and an Error for an unknown type. The
 * deployment's URL rules are checked on each send (callChannel).
 */
export async function resolveSendTarget(env: Env, integrationId: string): Promise<SendTarget | null> {
  const row = await loadWithRecipientContext(createDb(env.DB), integrationId);
  if (!row) return null;
  const { integration } = row;
  const channel = getChannel(integration.type);
  if (!channel) throw new Error(`integration ${integration.id} has an unknown type`);
  const opened = await openSettings(env, integration);
  if (opened.unreadable) throw new SecretsUnreadableError("authentication_failed");
  return {
    integrationId: integration.id,
    accountId: integration.accountId,
    accountName: row.accountName,
    type: integration.type,
    name: integration.name,
    status: integration.status,
    events: (integration.events ?? {}) as EventSubscriptions,
    channel,
    settings: opened.settings,
    recipients: recipientsFor(opened.settings, row.userEmail),
    secrets: secretValues(opened.settings, channel.secretFields),
  };
}

/**
 * An integration row with its account's name and its owner's login address, in one D1 query;
 * with `accountId`, only that account's row (a route's caller).
 */
export async function loadWithRecipientContext(db: Db, integrationId: string, accountId?: string) {
  const [row] = await db
    .select({ integration: integrations, accountName: accounts.name, userEmail: users.email })
    .from(integrations)
    .innerJoin(accounts, eq(accounts.id, integrations.accountId))
    .leftJoin(users, eq(users.id, integrations.userId))
    .where(and(eq(integrations.id, integrationId), accountId ? eq(integrations.accountId, accountId) : undefined))
    .limit(1);
  return row ?? null;
}

/** A user-owned integration mails its owner's login address; others their configured list. */
export function recipientsFor(settings: Record<string, unknown>, ownerEmail: string | null): string[] | undefined {
  if (ownerEmail) return [ownerEmail];
  const list = settings.recipients;
  return Array.isArray(list) ? list.filter((r): r is string => typeof r === "string") : undefined;
}

/** The SendContext for a resolved target (or a test send's unsaved settings). */
export function sendContextFor(
  target: Pick<SendTarget, "integrationId" | "accountName" | "settings" | "recipients" | "secrets">,
  env: Env,
  options: { deliveryId: string; fetch?: typeof fetch; test?: boolean },
): SendContext<Record<string, unknown>> {
  return {
    integrationId: target.integrationId,
    accountName: target.accountName,
    settings: target.settings,
    env,
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    deliveryId: options.deliveryId,
    recipients: target.recipients,
    test: options.test,
    secrets: target.secrets,
  };
}
