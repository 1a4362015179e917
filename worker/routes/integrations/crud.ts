import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, inArray, or, type SQL, sql } from "drizzle-orm";
import { CHANNELS } from "../../channels/catalog";
import { integrations } from "../../db/schema";
import { systemEventOutboxInsert } from "../../domain/system-events";
import { announceControlChange } from "../../ingest/control-change";
import { publishSystemEvents } from "../../ingest/publish-system-events";
import { destroyOutbox } from "../../integrations/lifecycle";
import { redactSettings } from "../../integrations/secret-fields";
import { prepareCreateSettings, prepareUpdateSettings } from "../../integrations/settings-input";
import { type IntegrationRow, openSettings, sealSettings, toIntegrationJson } from "../../integrations/store";
import { validateSubscriptions } from "../../integrations/validate";
import { type FieldError, validationError } from "../../lib/errors";
import { uuidv7 } from "../../lib/ids";
import { createRouter, errorResponses, jsonBody, jsonContent } from "../../lib/router";
import { destinationPolicy } from "../../security/destination-url";
import { auditByCaller } from "../caller-audit";
import {
  CreateIntegrationBody,
  CreateIntegrationResponse,
  IdParam,
  IntegrationEnvelope,
  IntegrationSchema,
  ListQuery,
  onceSecrets,
  UpdateIntegrationBody,
} from "./schemas";
import { channelOf, integrationEvent, integrationJson, loadOwned, refuseUserManaged } from "./shared";

const TYPE_ORDER = new Map(CHANNELS.map((channel, i) => [channel.type as string, i]));

/** Escapes LIKE wildcards so a search for "50%" means the text "50%". */
const likePattern = (q: string) => `%${q.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

const router = createRouter();

const routes = router
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["Integrations"],
      summary: "Integrations of the account (admin), by tab and search (system title/type or name)",
      request: { query: ListQuery },
      responses: {
        200: jsonContent(z.object({ integrations: z.array(IntegrationSchema) }), "The integrations"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { status, q } = c.req.valid("query");
      const principal = c.get("principal");
      const conditions: SQL[] = [eq(integrations.accountId, principal.accountId)];
      if (status !== "all") conditions.push(eq(integrations.status, status));
      if (q) {
        const needle = q.toLowerCase();
        const matchingTypes = CHANNELS.filter(
          (ch) => ch.title.toLowerCase().includes(needle) || ch.type.includes(needle),
        ).map((ch) => ch.type as string);
        const byName = sql`lower(${integrations.name}) LIKE ${likePattern(q)} ESCAPE '\\'`;
        conditions.push(matchingTypes.length ? or(byName, inArray(integrations.type, matchingTypes))! : byName);
      }
      const rows = await c
        .get("db")
        .select()
        .from(integrations)
        .where(and(...conditions));
      rows.sort(
        (a, b) =>
          (TYPE_ORDER.get(a.type) ?? 99) - (TYPE_ORDER.get(b.type) ?? 99) ||
          a.name.localeCompare(b.name) ||
          a.createdAt - b.createdAt,
      );
      const list = await Promise.all(rows.map((row) => integrationJson(c, row, channelOf(row.type))));
      return c.json({ integrations: list }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: ["Integrations"],
      summary: "Create an integration; a webhook's signing secret is in this answer only",
      request: { body: jsonBody(CreateIntegrationBody) },
      responses: { 201: jsonContent(CreateIntegrationResponse, "Created"), ...errorResponses },
    }),
    async (c) => {
      const db = c.get("db");
      const principal = c.get("principal");
      const body = c.req.valid("json");
      const channel = channelOf(body.type);
      refuseUserManaged(channel, "created");
      const prepared = prepareCreateSettings(channel, body.settings, destinationPolicy(c.env));
      const errors: FieldError[] = [
        ...(prepared.ok ? [] : prepared.errors),
        ...validateSubscriptions(channel, body.events),
      ];
      if (!prepared.ok || errors.length) throw validationError(errors);

      const now = Date.now();
      const id = uuidv7(now);
      const sealed = await sealSettings(c.env, id, channel, prepared.settings);
      const row: IntegrationRow = {
        id,
        accountId: principal.accountId,
        type: body.type,
        name: body.name,
        status: "enabled",
        disabledReason: null,
        disabledDetails: null,
        disabledAt: null,
        disabledAfterSeq: null,
        settings: sealed.settings,
        secrets: sealed.secrets,
        events: body.events,
        userId: null,
        createdAt: now,
        updatedAt: now,
      };
      const event = integrationEvent(c, "integration_created", row, channel, "created");
      await db.batch([
        db.insert(integrations).values(row),
        auditByCaller(c, {
          action: "integration.created",
          targetType: "integration",
          targetId: id,
          details: {
            type: body.type,
            name: body.name,
            settings: redactSettings(prepared.settings, channel.secretFields),
            events: body.events,
          },
        }),
        systemEventOutboxInsert(db, event),
      ]);
      await announceControlChange(c.env, principal.accountId);
      await publishSystemEvents(c.env, principal.accountId, [event]);
      const integration = toIntegrationJson(row, channel, { settings: prepared.settings, unreadable: false });
      return c.json({ integration, ...onceSecrets(prepared.generated) }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags: ["Integrations"],
      summary: "One integration (secrets masked)",
      request: { params: IdParam },
      responses: { 200: jsonContent(IntegrationEnvelope, "The integration"), ...errorResponses },
    }),
    async (c) => {
      const { row, channel } = await loadOwned(c, c.req.valid("param").id);
      return c.json({ integration: await integrationJson(c, row, channel) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags: ["Integrations"],
      summary: "Change name, settings or subscriptions; blank secrets keep their stored value",
      request: { params: IdParam, body: jsonBody(UpdateIntegrationBody) },
      responses: {
        200: jsonContent(CreateIntegrationResponse, "Updated (a regenerated signing secret is shown once)"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const db = c.get("db");
      const principal = c.get("principal");
      const body = c.req.valid("json");
      const { row, channel } = await loadOwned(c, c.req.valid("param").id);
      refuseUserManaged(channel, "changed by an admin");
      const previous = await openSettings(c.env, row);
      const errors: FieldError[] = body.events ? validateSubscriptions(channel, body.events) : [];
      let settings = previous.settings;
      let generated: Record<string, string> = {};
      if (body.settings !== undefined) {
        const prepared = prepareUpdateSettings(channel, body.settings, previous, destinationPolicy(c.env));
        if (prepared.ok) ({ settings, generated } = prepared);
        else errors.unshift(...prepared.errors);
      }
      if (errors.length) throw validationError(errors);

      // Every update with readable secrets re-seals them with the current key (key rotation).
      const resealed =
        body.settings !== undefined || !previous.unreadable
          ? await sealSettings(c.env, row.id, channel, settings)
          : null;
      const now = Date.now();
      const next: IntegrationRow = {
        ...row,
        name: body.name ?? row.name,
        events: body.events ?? row.events,
        settings: resealed?.settings ?? row.settings,
        secrets: resealed ? resealed.secrets : row.secrets,
        updatedAt: now,
      };
      const changed = [
        ...(next.name !== row.name ? ["name"] : []),
        ...(JSON.stringify(next.events) !== JSON.stringify(row.events) ? ["events"] : []),
        ...changedSettingKeys(previous.settings, settings).map((k) => `settings.${k}`),
      ];
      await db.batch([
        db
          .update(integrations)
          .set({
            name: next.name,
            events: next.events,
            settings: next.settings,
            secrets: next.secrets,
            updatedAt: now,
          })
          .where(and(eq(integrations.id, row.id), eq(integrations.accountId, principal.accountId))),
        auditByCaller(c, {
          action: "integration.updated",
          targetType: "integration",
          targetId: row.id,
          details: {
            type: row.type,
            name: next.name,
            changed,
            ...(body.settings !== undefined ? { settings: redactSettings(settings, channel.secretFields) } : {}),
            ...(body.events ? { events: body.events } : {}),
          },
        }),
      ]);
      if (changed.includes("events")) await announceControlChange(c.env, principal.accountId);
      const integration = toIntegrationJson(next, channel, {
        settings,
        unreadable: previous.unreadable && body.settings === undefined,
      });
      return c.json({ integration, ...onceSecrets(generated) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags: ["Integrations"],
      summary: "Delete an integration for good (its pending deliveries are discarded)",
      request: { params: IdParam },
      responses: { 204: { description: "Deleted" }, ...errorResponses },
    }),
    async (c) => {
      const db = c.get("db");
      const principal = c.get("principal");
      const { row, channel } = await loadOwned(c, c.req.valid("param").id);
      refuseUserManaged(channel, "deleted");
      const event = integrationEvent(c, "integration_deleted", row, channel, "deleted");
      await db.batch([
        db
          .delete(integrations)
          .where(and(eq(integrations.id, row.id), eq(integrations.accountId, principal.accountId))),
        auditByCaller(c, {
          action: "integration.deleted",
          targetType: "integration",
          targetId: row.id,
          details: { type: row.type, name: row.name },
        }),
        systemEventOutboxInsert(db, event),
      ]);
      await announceControlChange(c.env, principal.accountId);
      await destroyOutbox(c.env, row.id);
      await publishSystemEvents(c.env, principal.accountId, [event]);
      return c.body(null, 204);
    },
  );

/** Top-level settings keys whose value differs (secrets compared, never shown). */
function changedSettingKeys(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).sort();
}

export default routes;
