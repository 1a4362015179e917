import { createRoute, z } from "@hono/zod-openapi";
import { and, count, eq } from "drizzle-orm";
import type { Context } from "hono";
import { triggers } from "../db/schema";
import {
  CreateTriggerBody,
  type CreateTriggerInput,
  defaultThrottleMinutes,
  type Trigger,
  TriggerSchema,
  triggerShapeIssues,
  UpdateTriggerBody,
} from "../domain/triggers";
import { announceControlChange } from "../ingest/control-change";
import { ApiError, notFound, validationError } from "../lib/errors";
import { uuidv7 } from "../lib/ids";
import {
  type AppEnv,
  createRouter,
  ErrorSchema,
  errorResponses,
  jsonBody,
  jsonContent,
  rateLimitedResponse,
} from "../lib/router";
import { requireAdmin, requireAuth } from "../security/auth";
import { TriggerPreviewer } from "../triggers/preview";
import { foreignReferences, loadAccountTriggers, type TriggerRow, toTrigger } from "../triggers/store";
import { auditByCaller } from "./caller-audit";
import {
  changedFields,
  filterNodeReferences,
  previewWindowFields,
  rejectShapeIssues,
  scanPreviewWindow,
} from "./rule-collection";

/**
 * Triggers (docs/triggers.md): every role reads them, admins create, change, delete and preview
 * them. Every change is audited and announced to the account's ingest object, which evaluates them.
 */

/** Every trigger runs against every event on the ingest path: the count keeps that cost bounded. */
export const MAX_TRIGGERS_PER_ACCOUNT = 100;

const TriggerJson = TriggerSchema.openapi("Trigger");
const IdParam = z.object({ id: z.string().min(1).max(64) });
const PreviewResponse = z
  .object({
    ...previewWindowFields,
    would_fire: z.number().int(),
    groups: z.array(z.object({ key: z.string(), fired: z.number().int() })),
  })
  .openapi("TriggerPreview");

type Ctx = Context<AppEnv>;

async function loadOwned(c: Ctx, id: string): Promise<TriggerRow> {
  const row = await c.get("db").query.triggers.findFirst({
    where: and(eq(triggers.id, id), eq(triggers.accountId, c.get("principal").accountId)),
  });
  if (!row) throw notFound("trigger");
  return row;
}

/** 400 naming each integration or node id that is not the caller's account's. */
async function checkReferences(c: Ctx, trigger: Pick<Trigger, "condition" | "filters" | "integration_ids">) {
  const nodeRefs = filterNodeReferences(trigger.filters);
  if (trigger.condition.kind === "node_silence" && trigger.condition.node_id !== null) {
    nodeRefs.push({ field: "condition.node_id", id: trigger.condition.node_id });
  }
  const errors = await foreignReferences(c.get("db"), c.get("principal").accountId, {
    integrationIds: trigger.integration_ids,
    nodes: nodeRefs,
  });
  if (errors.length) throw validationError(errors);
}

/** What the audit log keeps of a trigger: its whole definition. */
function auditDetails(trigger: Trigger) {
  const { id: _id, created_at: _c, updated_at: _u, created_by: _b, ...definition } = trigger;
  return definition;
}

function newTrigger(body: CreateTriggerInput, id: string, now: number, createdBy: string): Trigger {
  return {
    ...body,
    id,
    throttle_minutes: body.throttle_minutes ?? defaultThrottleMinutes(body.condition),
    created_at: new Date(now).toISOString(),
    updated_at: new Date(now).toISOString(),
    created_by: createdBy,
  };
}

function rowOf(trigger: Trigger, accountId: string): TriggerRow {
  return {
    id: trigger.id,
    accountId,
    name: trigger.name,
    enabled: trigger.enabled,
    condition: trigger.condition,
    filters: trigger.filters,
    groupBy: trigger.group_by,
    throttleMinutes: trigger.throttle_minutes,
    integrationIds: trigger.integration_ids,
    createdAt: Date.parse(trigger.created_at),
    updatedAt: Date.parse(trigger.updated_at),
    createdBy: trigger.created_by,
  };
}

const router = createRouter();
router.use("*", requireAuth);

const routes = router
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["Triggers"],
      summary: "Triggers of the account (every role)",
      responses: { 200: jsonContent(z.object({ triggers: z.array(TriggerJson) }), "The triggers"), ...errorResponses },
    }),
    async (c) => {
      return c.json({ triggers: await loadAccountTriggers(c.get("db"), c.get("principal").accountId) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: ["Triggers"],
      summary: "Create a trigger (admin)",
      middleware: [requireAdmin] as const,
      request: { body: jsonBody(CreateTriggerBody.openapi("CreateTriggerRequest")) },
      responses: {
        201: jsonContent(z.object({ trigger: TriggerJson }), "Created"),
        ...errorResponses,
        409: jsonContent(ErrorSchema, `The account already has ${MAX_TRIGGERS_PER_ACCOUNT} triggers`),
      },
    }),
    async (c) => {
      const db = c.get("db");
      const principal = c.get("principal");
      const body = c.req.valid("json");
      await checkReferences(c, body);
      const [existing] = await db
        .select({ n: count() })
        .from(triggers)
        .where(eq(triggers.accountId, principal.accountId));
      if ((existing?.n ?? 0) >= MAX_TRIGGERS_PER_ACCOUNT) {
        throw new ApiError(
          409,
          "limit_reached",
          `An account has at most ${MAX_TRIGGERS_PER_ACCOUNT} triggers; delete or change one instead.`,
        );
      }
      const now = Date.now();
      const trigger = newTrigger(body, uuidv7(now), now, principal.label);
      await db.batch([
        db.insert(triggers).values(rowOf(trigger, principal.accountId)),
        auditByCaller(c, {
          action: "trigger.created",
          targetType: "trigger",
          targetId: trigger.id,
          details: auditDetails(trigger),
        }),
      ]);
      await announceControlChange(c.env, principal.accountId);
      return c.json({ trigger }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/preview",
      tags: ["Triggers"],
      summary: "How often a trigger would have fired over the last 24 hours of stored events (admin)",
      description:
        "Evaluates the candidate with a fresh state and no side effects. Scans at most 200 000 events; " +
        "`truncated` says when the scan stopped there.",
      middleware: [requireAdmin] as const,
      request: { body: jsonBody(CreateTriggerBody) },
      responses: {
        200: jsonContent(PreviewResponse, "What it would have done"),
        ...errorResponses,
        429: rateLimitedResponse("previews"),
      },
    }),
    async (c) => {
      const principal = c.get("principal");
      const body = c.req.valid("json");
      const { now, previewer, window } = await scanPreviewWindow(
        c,
        "trigger-preview",
        (timeZone, startedAt) =>
          new TriggerPreviewer(newTrigger(body, "preview", startedAt, principal.label), timeZone),
      );
      const result = previewer.result(now);
      return c.json({ ...window, would_fire: result.wouldFire, groups: result.groups }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags: ["Triggers"],
      summary: "One trigger (every role)",
      request: { params: IdParam },
      responses: { 200: jsonContent(z.object({ trigger: TriggerJson }), "The trigger"), ...errorResponses },
    }),
    async (c) => c.json({ trigger: toTrigger(await loadOwned(c, c.req.valid("param").id)) }, 200),
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags: ["Triggers"],
      summary: "Change a trigger (admin); a changed trigger starts counting afresh",
      middleware: [requireAdmin] as const,
      request: { params: IdParam, body: jsonBody(UpdateTriggerBody.openapi("UpdateTriggerRequest")) },
      responses: { 200: jsonContent(z.object({ trigger: TriggerJson }), "Updated"), ...errorResponses },
    }),
    async (c) => {
      const db = c.get("db");
      const principal = c.get("principal");
      const body = c.req.valid("json");
      const current = toTrigger(await loadOwned(c, c.req.valid("param").id));
      // A throttle left at its default follows the condition's default (a new window, say).
      const followsDefault = current.throttle_minutes === defaultThrottleMinutes(current.condition);
      const condition = body.condition ?? current.condition;
      const now = Date.now();
      const next: Trigger = {
        ...current,
        ...body,
        throttle_minutes:
          body.throttle_minutes ?? (followsDefault ? defaultThrottleMinutes(condition) : current.throttle_minutes),
        updated_at: new Date(Math.max(now, Date.parse(current.updated_at) + 1)).toISOString(),
      };
      rejectShapeIssues(triggerShapeIssues(next));
      await checkReferences(c, next);
      const changed = changedFields<Trigger>(body, current);
      const { id: _id, accountId: _a, createdAt: _c, createdBy: _b, ...update } = rowOf(next, principal.accountId);
      await db.batch([
        db
          .update(triggers)
          .set(update)
          .where(and(eq(triggers.id, current.id), eq(triggers.accountId, principal.accountId))),
        auditByCaller(c, {
          action: "trigger.updated",
          targetType: "trigger",
          targetId: current.id,
          details: { ...auditDetails(next), changed },
        }),
      ]);
      await announceControlChange(c.env, principal.accountId);
      return c.json({ trigger: next }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags: ["Triggers"],
      summary: "Delete a trigger (admin)",
      middleware: [requireAdmin] as const,
      request: { params: IdParam },
      responses: { 204: { description: "Deleted" }, ...errorResponses },
    }),
    async (c) => {
      const db = c.get("db");
      const principal = c.get("principal");
      const current = await loadOwned(c, c.req.valid("param").id);
      const [deleted] = await db.batch([
        db
          .delete(triggers)
          .where(and(eq(triggers.id, current.id), eq(triggers.accountId, principal.accountId)))
          .returning({ id: triggers.id }),
        auditByCaller(c, {
          action: "trigger.deleted",
          targetType: "trigger",
          targetId: current.id,
          details: { name: current.name },
        }),
      ]);
      if (deleted.length === 0) throw notFound("trigger");
      await announceControlChange(c.env, principal.accountId);
      return c.body(null, 204);
    },
  );

export default routes;
