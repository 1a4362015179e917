import { createRoute } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { integrations } from "../../db/schema";
import { disableIntegration, enableIntegration } from "../../integrations/lifecycle";
import { openSettings, sealSettings, toIntegrationJson } from "../../integrations/store";
import { validateSettings } from "../../integrations/validate";
import { ApiError, validationError } from "../../lib/errors";
import { clientIp } from "../../lib/request";
import { createRouter, errorResponses, jsonContent } from "../../lib/router";
import { destinationPolicy } from "../../security/destination-url";
import { auditByCaller } from "../caller-audit";
import {
  CreateIntegrationResponse,
  EnableBody,
  EnableResponse,
  IdParam,
  IntegrationEnvelope,
  onceSecrets,
} from "./schemas";
import { integrationEvent, integrationJson, loadOwned } from "./shared";

/** A rotated-out generated secret keeps working this long (both sign for 24 h: docs/channels.md). */
const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

const router = createRouter();

const routes = router
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/disable",
      tags: ["Integrations"],
      summary: "Disable: keeps the settings; pending deliveries are paused",
      request: { params: IdParam },
      responses: { 200: jsonContent(IntegrationEnvelope, "Disabled"), ...errorResponses },
    }),
    async (c) => {
      const { row, channel } = await loadOwned(c, c.req.valid("param").id);
      if (row.status === "disabled") {
        return c.json({ integration: await integrationJson(c, row, channel) }, 200);
      }
      const disabled = await disableIntegration(c.env, row, {
        reason: "manual",
        details: null,
        at: Date.now(),
        actor: c.get("principal"),
        ip: clientIp(c.req.raw),
        event: integrationEvent(c, "integration_disabled", row, channel, "disabled"),
        pauseOutbox: true,
      });
      // Null: disabled meanwhile by someone else (or by Herald); answer what is stored.
      const current = disabled ?? (await loadOwned(c, row.id)).row;
      return c.json({ integration: await integrationJson(c, current, channel) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/enable",
      tags: ["Integrations"],
      summary: "Enable: resume or drop the paused deliveries, optionally replay what arrived meanwhile",
      request: {
        params: IdParam,
        body: { required: false, content: { "application/json": { schema: EnableBody } } },
      },
      responses: { 200: jsonContent(EnableResponse, "Enabled"), ...errorResponses },
    }),
    async (c) => {
      // The body is optional: without one (no JSON content type) the defaults apply.
      const choices = EnableBody.parse(c.req.valid("json") ?? {});
      const { row, channel } = await loadOwned(c, c.req.valid("param").id);
      if (row.status === "enabled") {
        const integration = await integrationJson(c, row, channel);
        return c.json(
          {
            integration,
            resumed: 0,
            dropped: 0,
            replayed: 0,
            replay_truncated: false,
            replayed_dead: 0,
            outbox_updated: true,
          },
          200,
        );
      }
      const enabled = await enableIntegration(c.env, row, {
        choices,
        actor: c.get("principal"),
        ip: clientIp(c.req.raw),
        event: integrationEvent(c, "integration_enabled", row, channel, "enabled"),
      });
      const outcome = enabled.outcome;
      return c.json(
        {
          integration: await integrationJson(c, enabled.row, channel),
          resumed: outcome?.resumed ?? 0,
          dropped: outcome?.dropped ?? 0,
          replayed: outcome?.replayed ?? 0,
          replay_truncated: outcome?.truncated === true,
          replayed_dead: outcome?.replayedDead ?? 0,
          outbox_updated: outcome !== null,
        },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/rotate-secret",
      tags: ["Integrations"],
      summary: "Webhook: a new signing secret (shown once); the old one still signs for 24 hours",
      request: { params: IdParam },
      responses: { 200: jsonContent(CreateIntegrationResponse, "Rotated"), ...errorResponses },
    }),
    async (c) => {
      const db = c.get("db");
      const principal = c.get("principal");
      const { row, channel } = await loadOwned(c, c.req.valid("param").id);
      if (!channel.generateSecrets) {
        throw new ApiError(400, "nothing_to_rotate", `${channel.title} integrations have no generated secret.`);
      }
      const previous = await openSettings(c.env, row);
      const now = Date.now();
      const generatedFields = new Set(channel.generatedFields ?? []);
      const fresh = channel.generateSecrets();
      const settings: Record<string, unknown> = { ...previous.settings };
      for (const [key, value] of Object.entries(fresh)) {
        // Convention shared with the channels: previous_<key> and previous_<key>_expires_at.
        const old = settings[key];
        if (typeof old === "string" && generatedFields.has(`previous_${key}`)) {
          settings[`previous_${key}`] = old;
          if (generatedFields.has(`previous_${key}_expires_at`)) {
            settings[`previous_${key}_expires_at`] = new Date(now + ROTATION_OVERLAP_MS).toISOString();
          }
        }
        settings[key] = value;
      }
      const checked = validateSettings(channel, settings, destinationPolicy(c.env));
      if (!checked.ok) throw validationError(checked.errors, "Re-enter the integration's settings before rotating.");
      const sealed = await sealSettings(c.env, row.id, channel, checked.settings);
      const next = { ...row, settings: sealed.settings, secrets: sealed.secrets, updatedAt: now };
      await db.batch([
        db
          .update(integrations)
          .set({ settings: sealed.settings, secrets: sealed.secrets, updatedAt: now })
          .where(and(eq(integrations.id, row.id), eq(integrations.accountId, principal.accountId))),
        auditByCaller(c, {
          action: "integration.secret_rotated",
          targetType: "integration",
          targetId: row.id,
          details: { type: row.type, name: row.name, rotated: Object.keys(fresh) },
        }),
      ]);
      const integration = toIntegrationJson(next, channel, { settings: checked.settings, unreadable: false });
      return c.json({ integration, ...onceSecrets(fresh) }, 200);
    },
  );

export default routes;
