import { and, eq } from "drizzle-orm";
import type { Context } from "hono";
import { getChannel } from "../../channels/catalog";
import type { Channel } from "../../channels/types";
import { integrations } from "../../db/schema";
import { buildSystemEvent, type SystemEventType } from "../../domain/system-events";
import { type IntegrationRow, openSettings, toIntegrationJson } from "../../integrations/store";
import { notFound, validationError } from "../../lib/errors";
import type { AppEnv } from "../../lib/router";

export type Ctx = Context<AppEnv>;

/** The channel of a stored row; an unknown type is a corrupt row, not the caller's fault. */
export function channelOf(type: string): Channel<any> {
  const channel = getChannel(type);
  if (!channel) throw new Error(`unknown integration type in storage: ${type}`);
  return channel;
}

/**
 * One per user, created with the user and managed from their profile (docs/channels.md#the-catalog): the catalog
 * marks such systems; the admin API lists them but never creates or deletes them.
 */
export function isUserManaged(channel: Pick<Channel<any>, "userManaged">): boolean {
  return channel.userManaged === true;
}

/** An integration of the caller's account, or 404 (another account's id included). */
export async function loadOwned(c: Ctx, id: string): Promise<{ row: IntegrationRow; channel: Channel<any> }> {
  const row = await c.get("db").query.integrations.findFirst({
    where: and(eq(integrations.id, id), eq(integrations.accountId, c.get("principal").accountId)),
  });
  if (!row) throw notFound("integration");
  return { row, channel: channelOf(row.type) };
}

export function refuseUserManaged(channel: Channel<any>, action: string) {
  if (isUserManaged(channel)) {
    throw validationError([
      {
        field: "type",
        message: `${channel.title} integrations are created for each user and managed from their profile; they cannot be ${action} here.`,
      },
    ]);
  }
}

/** The API JSON of a row (decrypting to compute masks). */
export async function integrationJson(c: Ctx, row: IntegrationRow, channel: Channel<any>) {
  return toIntegrationJson(row, channel, await openSettings(c.env, row));
}

/** A system event about an integration (docs/api.md#integrations: created, disabled, deleted). */
export function integrationEvent(
  c: Ctx,
  systemType: SystemEventType,
  row: Pick<IntegrationRow, "id" | "name" | "type">,
  channel: Channel<any>,
  verb: string,
) {
  const principal = c.get("principal");
  return buildSystemEvent(
    principal.accountId,
    systemType,
    principal.label,
    `Integration "${row.name}" (${channel.title}) was ${verb} by ${principal.label}.`,
    { integration_id: row.id, integration_name: row.name, integration_type: row.type },
  );
}
