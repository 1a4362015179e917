import { createRoute, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import type { Context } from "hono";
import { integrations } from "../db/schema";
import {
  type AttemptView,
  DELIVERY_STATES,
  type DeliveryPage,
  type DeliveryView,
  type HealthView,
} from "../delivery/views";
import { ApiError, notFound } from "../lib/errors";
import { type AppEnv, createRouter, errorResponses, jsonContent, rateLimitedResponse } from "../lib/router";
import { iso, isoOrNull } from "../lib/time";
import { integrationObject } from "../outbox/object";
import { limitPerAccount } from "../security/rate-limit";
import { auditByCaller } from "./caller-audit";

/**
 * The delivery log, replay and health of one integration (docs/delivery.md). Each route first checks that
 * the integration belongs to the caller's account (404 otherwise), then asks its IntegrationDO and
 * shapes its answer (epoch milliseconds) into the API's (RFC 3339 times) with the schemas below.
 */

const AttemptSchema = z
  .object({
    number: z.number().int(),
    at: z.string(),
    planned_at: z.string().nullable(),
    ok: z.boolean(),
    status: z.number().int().nullable(),
    error_kind: z.string().nullable().openapi({ example: "status" }),
    error: z.string().nullable(),
    latency_ms: z.number().int(),
    retry_after_seconds: z.number().nullable(),
    request_body: z.string().openapi({ description: "As sent, secrets redacted" }),
  })
  .openapi("DeliveryAttempt");

const DeliverySchema = z
  .object({
    id: z.string().openapi({ description: "Stable across attempts (webhook-id, dedup_key, alias)" }),
    state: z.enum(DELIVERY_STATES),
    in_flight: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
    finished_at: z.string().nullable(),
    next_attempt_at: z.string().nullable(),
    requests: z.number().int(),
    replay_of: z.string().nullable(),
    notifications: z.array(
      z.object({
        id: z.string(),
        summary: z.string(),
        notification_type: z.string(),
        event_id: z.string().nullable(),
      }),
    ),
    attempts: z.array(AttemptSchema),
  })
  .openapi("Delivery");

const DeliveryPageSchema = z
  .object({
    deliveries: z.array(DeliverySchema),
    next_cursor: z.string().nullable(),
    queued_notifications: z.number().int(),
    paused: z.boolean(),
  })
  .openapi("DeliveryPage");

const HealthSchema = z
  .object({
    paused: z.boolean(),
    paused_reason: z.string().nullable(),
    window: z.object({
      seconds: z.number(),
      requests: z.number().int(),
      failed: z.number().int(),
      failure_ratio: z.number(),
      threshold_ratio: z.number(),
      min_requests: z.number().int(),
    }),
    success_rate_series: z.array(
      z.object({
        start: z.string(),
        requests: z.number().int(),
        failed: z.number().int(),
        success_rate: z.number().nullable(),
      }),
    ),
    latency_ms: z.object({ p50: z.number().nullable(), p95: z.number().nullable() }),
    last_error: z.object({ at: z.string(), status: z.number().int().nullable(), error: z.string() }).nullable(),
    last_success_at: z.string().nullable(),
    pending_notifications: z.number().int(),
    pending_deliveries: z.number().int(),
    dead_deliveries: z.number().int(),
  })
  .openapi("IntegrationHealth");

const ReplaySchema = z
  .object({
    delivery_ids: z.array(z.string()).openapi({ description: "The new deliveries, one per replayed delivery" }),
    paused: z.boolean().openapi({ description: "True while the integration is disabled: replays wait" }),
  })
  .openapi("ReplayResult");

function attemptJson(attempt: AttemptView): z.infer<typeof AttemptSchema> {
  return { ...attempt, at: iso(attempt.at), planned_at: isoOrNull(attempt.planned_at) };
}

function deliveryJson(delivery: DeliveryView): z.infer<typeof DeliverySchema> {
  return {
    ...delivery,
    created_at: iso(delivery.created_at),
    updated_at: iso(delivery.updated_at),
    finished_at: isoOrNull(delivery.finished_at),
    next_attempt_at: isoOrNull(delivery.next_attempt_at),
    attempts: delivery.attempts.map(attemptJson),
  };
}

function deliveryPageJson(page: DeliveryPage): z.infer<typeof DeliveryPageSchema> {
  return { ...page, deliveries: page.deliveries.map(deliveryJson) };
}

function healthJson(health: HealthView): z.infer<typeof HealthSchema> {
  return {
    ...health,
    success_rate_series: health.success_rate_series.map((point) => ({ ...point, start: iso(point.start) })),
    last_error: health.last_error && { ...health.last_error, at: iso(health.last_error.at) },
    last_success_at: isoOrNull(health.last_success_at),
  };
}

const IdParam = z.object({ id: z.string().min(1).max(64) });
const DeliveryParam = IdParam.extend({ deliveryId: z.string().min(1).max(64) });
const ListQuery = z.object({
  state: z.enum(DELIVERY_STATES).optional(),
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, "must be a next_cursor from a previous page")
    .optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

/** The caller's integration's object, or 404 for an id that is not in the caller's account. */
async function ownedOutbox(c: Context<AppEnv>, id: string) {
  const [row] = await c
    .get("db")
    .select({ id: integrations.id })
    .from(integrations)
    .where(and(eq(integrations.id, id), eq(integrations.accountId, c.get("principal").accountId)))
    .limit(1);
  if (!row) throw notFound("integration");
  return integrationObject(c.env, row.id);
}

async function auditReplay(c: Context<AppEnv>, integrationId: string, details: Record<string, unknown>) {
  await auditByCaller(c, {
    action: "integration.deliveries_replayed",
    targetType: "integration",
    targetId: integrationId,
    details,
  });
}

/** Replays per account (one each, or one replay of all dead deliveries): each queues sends again. */
export const REPLAYS = { max: 60, windowMs: 3_600_000, what: "replays" };

const rateLimited = rateLimitedResponse("replays");

// Mounted inside the integrations router (under /api/integrations), whose requireAuth and
// requireAdmin cover these routes too.
const router = createRouter();

const routes = router
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/deliveries",
      tags: ["Deliveries"],
      summary: "Delivery log, newest first: each delivery with its notifications and every attempt (kept 30 days)",
      request: { params: IdParam, query: ListQuery },
      responses: { 200: jsonContent(DeliveryPageSchema, "A page of deliveries"), ...errorResponses },
    }),
    async (c) => {
      const outbox = await ownedOutbox(c, c.req.valid("param").id);
      const query = c.req.valid("query");
      return c.json(deliveryPageJson(await outbox.listDeliveries(query)), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/deliveries/{deliveryId}/replay",
      tags: ["Deliveries"],
      summary: "Replay a dead or past delivery: its notifications are sent again as a new delivery",
      request: { params: DeliveryParam },
      responses: {
        202: jsonContent(ReplaySchema, "Queued"),
        409: errorResponses[400],
        429: rateLimited,
        ...errorResponses,
      },
    }),
    async (c) => {
      const { id, deliveryId } = c.req.valid("param");
      const outbox = await ownedOutbox(c, id);
      await limitPerAccount(c.get("db"), "replay", c.get("principal").accountId, REPLAYS);
      const result = await outbox.replayDelivery(deliveryId);
      if (result === "not_found") throw notFound("delivery");
      if (result === "pending") {
        throw new ApiError(409, "delivery_pending", "This delivery is still pending; it will be sent on schedule.");
      }
      await auditReplay(c, id, { delivery_id: deliveryId, new_delivery_ids: result.delivery_ids });
      return c.json(result, 202);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/deliveries/replay-dead",
      tags: ["Deliveries"],
      summary: "Replay every dead delivery of the integration, oldest first",
      request: { params: IdParam },
      responses: { 202: jsonContent(ReplaySchema, "Queued"), 429: rateLimited, ...errorResponses },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const outbox = await ownedOutbox(c, id);
      await limitPerAccount(c.get("db"), "replay", c.get("principal").accountId, REPLAYS);
      const result = await outbox.replayDead();
      if (result.delivery_ids.length > 0) await auditReplay(c, id, { dead_deliveries: result.delivery_ids.length });
      return c.json(result, 202);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/health",
      tags: ["Deliveries"],
      summary: "Requests and failure ratio in the 12-hour window, success rate over time, latency, backlog",
      request: { params: IdParam },
      responses: { 200: jsonContent(HealthSchema, "Health"), ...errorResponses },
    }),
    async (c) => c.json(healthJson(await (await ownedOutbox(c, c.req.valid("param").id)).health()), 200),
  );

export default routes;
