import { createRoute, z } from "@hono/zod-openapi";
import { and, count, eq, gt } from "drizzle-orm";
import type { Context } from "hono";
import { silences } from "../db/schema";
import {
  CreateSilenceBody,
  type Silence,
  SilenceSchema,
  silenceShapeIssues,
  UpdateSilenceBody,
} from "../domain/silences";
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
import { countMuted } from "../triggers/preview";
import { foreignReferences, type SilenceRow, toSilence } from "../triggers/store";
import { auditByCaller } from "./caller-audit";
import {
  changedFields,
  filterNodeReferences,
  previewWindowFields,
  rejectShapeIssues,
  scanPreviewWindow,
} from "./rule-collection";

/**
 * Silences (docs/triggers.md#silences): every role reads them, admins create, change, delete and
 * preview them. Changes are audited and announced to the account's ingest object; the minute cron
 * audits their end (worker/triggers/expiry.ts).
 */

/** Every live silence is checked against every event on the ingest path. */
export const MAX_LIVE_SILENCES_PER_ACCOUNT = 100;
const SilenceJson = SilenceSchema.openapi("Silence");
const IdParam = z.object({ id: z.string().min(1).max(64) });
const PreviewResponse = z
  .object({
    ...previewWindowFields,
    would_mute: z.number().int(),
  })
  .openapi("SilencePreview");

type Ctx = Context<AppEnv>;
type SilenceDefinition = Pick<Silence, "name" | "comment" | "filters" | "starts_at" | "ends_at" | "recurrence">;

async function loadOwned(c: Ctx, id: string): Promise<SilenceRow> {
  const row = await c.get("db").query.silences.findFirst({
    where: and(eq(silences.id, id), eq(silences.accountId, c.get("principal").accountId)),
  });
  if (!row) throw notFound("silence");
  return row;
}

async function checkNodes(c: Ctx, silence: SilenceDefinition) {
  const errors = await foreignReferences(c.get("db"), c.get("principal").accountId, {
    nodes: filterNodeReferences(silence.filters),
  });
  if (errors.length) throw validationError(errors);
}

function definitionColumns(silence: SilenceDefinition) {
  return {
    name: silence.name,
    comment: silence.comment ?? null,
    filters: silence.filters,
    startsAt: Date.parse(silence.starts_at),
    endsAt: Date.parse(silence.ends_at),
    recurrence: silence.recurrence,
  };
}

function definitionOf(silence: Silence): SilenceDefinition {
  const { name, comment, filters, starts_at, ends_at, recurrence } = silence;
  return { name, ...(comment ? { comment } : {}), filters, starts_at, ends_at, recurrence };
}

const router = createRouter();
router.use("*", requireAuth);

const routes = router
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["Silences"],
      summary: "Silences of the account, ended ones included (every role)",
      responses: { 200: jsonContent(z.object({ silences: z.array(SilenceJson) }), "The silences"), ...errorResponses },
    }),
    async (c) => {
      const rows = await c
        .get("db")
        .select()
        .from(silences)
        .where(eq(silences.accountId, c.get("principal").accountId))
        .orderBy(silences.startsAt);
      const now = Date.now();
      return c.json({ silences: rows.map((row) => toSilence(row, now)) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: ["Silences"],
      summary: "Create a silence (admin)",
      middleware: [requireAdmin] as const,
      request: { body: jsonBody(CreateSilenceBody.openapi("CreateSilenceRequest")) },
      responses: {
        201: jsonContent(z.object({ silence: SilenceJson }), "Created"),
        ...errorResponses,
        409: jsonContent(ErrorSchema, `The account already has ${MAX_LIVE_SILENCES_PER_ACCOUNT} silences not ended`),
      },
    }),
    async (c) => {
      const db = c.get("db");
      const principal = c.get("principal");
      const body = c.req.valid("json");
      await checkNodes(c, body);
      const now = Date.now();
      const [live] = await db
        .select({ n: count() })
        .from(silences)
        .where(and(eq(silences.accountId, principal.accountId), gt(silences.endsAt, now)));
      if ((live?.n ?? 0) >= MAX_LIVE_SILENCES_PER_ACCOUNT) {
        throw new ApiError(
          409,
          "limit_reached",
          `An account has at most ${MAX_LIVE_SILENCES_PER_ACCOUNT} silences that have not ended; delete one first.`,
        );
      }
      const row: SilenceRow = {
        id: uuidv7(now),
        accountId: principal.accountId,
        ...definitionColumns(body),
        silencedCount: 0,
        expiryAuditedAt: null,
        createdAt: now,
        updatedAt: now,
        createdBy: principal.label,
      };
      const silence = toSilence(row, now);
      await db.batch([
        db.insert(silences).values(row),
        auditByCaller(c, {
          action: "silence.created",
          targetType: "silence",
          targetId: row.id,
          details: definitionOf(silence),
        }),
      ]);
      await announceControlChange(c.env, principal.accountId);
      return c.json({ silence }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/preview",
      tags: ["Silences"],
      summary: "How many of the last 24 hours of stored events a silence would have muted (admin)",
      description: "Scans at most 200 000 events; `truncated` says when the scan stopped there.",
      middleware: [requireAdmin] as const,
      request: { body: jsonBody(CreateSilenceBody) },
      responses: {
        200: jsonContent(PreviewResponse, "What it would have muted"),
        ...errorResponses,
        429: rateLimitedResponse("previews"),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      let muted = 0;
      const { window } = await scanPreviewWindow(c, "silence-preview", (timeZone) => ({
        add: (batch) => {
          muted += countMuted(body, timeZone, batch);
        },
      }));
      return c.json({ ...window, would_mute: muted }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags: ["Silences"],
      summary: "One silence (every role)",
      request: { params: IdParam },
      responses: { 200: jsonContent(z.object({ silence: SilenceJson }), "The silence"), ...errorResponses },
    }),
    async (c) => c.json({ silence: toSilence(await loadOwned(c, c.req.valid("param").id)) }, 200),
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags: ["Silences"],
      summary: "Change a silence (admin)",
      middleware: [requireAdmin] as const,
      request: { params: IdParam, body: jsonBody(UpdateSilenceBody.openapi("UpdateSilenceRequest")) },
      responses: { 200: jsonContent(z.object({ silence: SilenceJson }), "Updated"), ...errorResponses },
    }),
    async (c) => {
      const db = c.get("db");
      const principal = c.get("principal");
      const body = c.req.valid("json");
      const row = await loadOwned(c, c.req.valid("param").id);
      const current = toSilence(row);
      const next: SilenceDefinition = { ...definitionOf(current), ...body };
      rejectShapeIssues(silenceShapeIssues(next));
      await checkNodes(c, next);
      const now = Date.now();
      const columns = definitionColumns(next);
      const changed = changedFields<Silence>(body, current);
      const updated: SilenceRow = {
        ...row,
        ...columns,
        // A silence given a new end is audited again when that end comes.
        expiryAuditedAt: columns.endsAt === row.endsAt ? row.expiryAuditedAt : null,
        updatedAt: Math.max(now, row.updatedAt + 1),
      };
      await db.batch([
        db
          .update(silences)
          .set({ ...columns, expiryAuditedAt: updated.expiryAuditedAt, updatedAt: updated.updatedAt })
          .where(and(eq(silences.id, row.id), eq(silences.accountId, principal.accountId))),
        auditByCaller(c, {
          action: "silence.updated",
          targetType: "silence",
          targetId: row.id,
          details: { ...next, changed },
        }),
      ]);
      await announceControlChange(c.env, principal.accountId);
      return c.json({ silence: toSilence(updated, now) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags: ["Silences"],
      summary: "Delete a silence (admin)",
      middleware: [requireAdmin] as const,
      request: { params: IdParam },
      responses: { 204: { description: "Deleted" }, ...errorResponses },
    }),
    async (c) => {
      const db = c.get("db");
      const principal = c.get("principal");
      const row = await loadOwned(c, c.req.valid("param").id);
      const [deleted] = await db.batch([
        db
          .delete(silences)
          .where(and(eq(silences.id, row.id), eq(silences.accountId, principal.accountId)))
          .returning({ id: silences.id }),
        auditByCaller(c, {
          action: "silence.deleted",
          targetType: "silence",
          targetId: row.id,
          details: { name: row.name, silenced_count: row.silencedCount },
        }),
      ]);
      if (deleted.length === 0) throw notFound("silence");
      await announceControlChange(c.env, principal.accountId);
      return c.body(null, 204);
    },
  );

export default routes;
