import { and, eq, gt, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { integrations, nodes, silences, triggers } from "../db/schema";
import type { EventFilters } from "../domain/event-filters";
import { type Recurrence, type Silence, silenceState } from "../domain/silences";
import type { GroupByField, Trigger, TriggerCondition } from "../domain/triggers";
import type { FieldError } from "../lib/errors";
import { iso } from "../lib/time";

/**
 * Triggers and silences in D1: rows to the API's shapes (which the evaluator reads too) and the
 * account's current lists, what the ingest object loads when `announceControlChange` tells it to.
 */

export type TriggerRow = typeof triggers.$inferSelect;
export type SilenceRow = typeof silences.$inferSelect;

export function toTrigger(row: TriggerRow): Trigger {
  return {
    id: row.id,
    name: row.name,
    enabled: row.enabled,
    condition: row.condition as TriggerCondition,
    filters: row.filters as EventFilters,
    group_by: row.groupBy as GroupByField[],
    throttle_minutes: row.throttleMinutes,
    integration_ids: row.integrationIds as string[],
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
    created_by: row.createdBy,
  };
}

export function toSilence(row: SilenceRow, now = Date.now()): Silence {
  const silence = {
    id: row.id,
    name: row.name,
    ...(row.comment ? { comment: row.comment } : {}),
    filters: row.filters as EventFilters,
    starts_at: iso(row.startsAt),
    ends_at: iso(row.endsAt),
    recurrence: (row.recurrence as Recurrence | null) ?? null,
    silenced_count: row.silencedCount,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
    created_by: row.createdBy,
  };
  return { ...silence, state: silenceState(silence, now) };
}

/** A triggers row as raw D1 returns it (snake_case, JSON as text): the ingest object's snapshot batch. */
export interface RawTriggerRow {
  id: string;
  name: string;
  enabled: number;
  condition: string;
  filters: string;
  group_by: string;
  throttle_minutes: number;
  integration_ids: string;
  created_at: number;
  updated_at: number;
  created_by: string;
}

export interface RawSilenceRow {
  id: string;
  name: string;
  comment: string | null;
  filters: string;
  starts_at: number;
  ends_at: number;
  recurrence: string | null;
  silenced_count: number;
  created_at: number;
  updated_at: number;
  created_by: string;
}

/** The statements the ingest object's control snapshot batches: enabled triggers, silences not yet ended. */
export function snapshotTriggerStatements(d1: D1Database, accountId: string, now: number) {
  return [
    d1
      .prepare(
        `SELECT id, name, enabled, condition, filters, group_by, throttle_minutes, integration_ids, created_at,
           updated_at, created_by FROM triggers WHERE account_id = ?1 AND enabled = 1 ORDER BY created_at`,
      )
      .bind(accountId),
    d1
      .prepare(
        `SELECT id, name, comment, filters, starts_at, ends_at, recurrence, silenced_count, created_at, updated_at,
           created_by FROM silences WHERE account_id = ?1 AND ends_at > ?2`,
      )
      .bind(accountId, now),
  ] as const;
}

export function triggerFromRaw(row: RawTriggerRow): Trigger {
  return toTrigger({
    id: row.id,
    accountId: "",
    name: row.name,
    enabled: Boolean(row.enabled),
    condition: JSON.parse(row.condition),
    filters: JSON.parse(row.filters),
    groupBy: JSON.parse(row.group_by),
    throttleMinutes: row.throttle_minutes,
    integrationIds: JSON.parse(row.integration_ids),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by,
  } as TriggerRow);
}

export function silenceFromRaw(row: RawSilenceRow, now: number): Silence {
  return toSilence(
    {
      id: row.id,
      accountId: "",
      name: row.name,
      comment: row.comment,
      filters: JSON.parse(row.filters),
      startsAt: row.starts_at,
      endsAt: row.ends_at,
      recurrence: row.recurrence === null ? null : JSON.parse(row.recurrence),
      silencedCount: row.silenced_count,
      expiryAuditedAt: null,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      createdBy: row.created_by,
    } as SilenceRow,
    now,
  );
}

/**
 * The statement that takes a deleted integration out of every trigger naming it (batch it with
 * the delete). `updated_at` stays: the trigger's counts and throttles are not reset by it.
 */
export function removeIntegrationFromTriggers(db: Db, accountId: string, deletedId: string) {
  return db
    .update(triggers)
    .set({
      integrationIds: sql`(SELECT json_group_array(value) FROM json_each(${triggers.integrationIds}) WHERE value != ${deletedId})`,
    })
    .where(
      and(
        eq(triggers.accountId, accountId),
        sql`EXISTS (SELECT 1 FROM json_each(${triggers.integrationIds}) WHERE value = ${deletedId})`,
      ),
    );
}

/** The account's triggers, oldest first. */
export async function loadAccountTriggers(db: Db, accountId: string): Promise<Trigger[]> {
  const rows = await db.select().from(triggers).where(eq(triggers.accountId, accountId)).orderBy(triggers.createdAt);
  return rows.map(toTrigger);
}

/** The silences that may still mute something (not yet ended). */
export async function loadLiveSilences(db: Db, accountId: string, now = Date.now()): Promise<Silence[]> {
  const rows = await db
    .select()
    .from(silences)
    .where(and(eq(silences.accountId, accountId), gt(silences.endsAt, now)));
  return rows.map((row) => toSilence(row, now));
}

/**
 * Copies the evaluator's totals (`TriggerEvaluator.silencedCounts`) to the silences' rows, for the
 * API's `silenced_count`. Totals, not increments: writing them twice is harmless.
 */
export async function recordSilencedCounts(db: Db, accountId: string, counts: Record<string, number>) {
  const updates = Object.entries(counts).map(([id, count]) =>
    db
      .update(silences)
      .set({ silencedCount: count })
      .where(and(eq(silences.id, id), eq(silences.accountId, accountId))),
  );
  const [first, ...rest] = updates;
  if (first) await db.batch([first, ...rest]);
}

/** Field errors for integration and node ids that are not the account's (another account's look the same). */
export async function foreignReferences(
  db: Db,
  accountId: string,
  /** `nodes`: each node id with the field that named it ("condition.node_id", "filters.node_ids.2"). */
  refs: { integrationIds?: string[]; nodes?: { field: string; id: string }[] },
): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  const integrationIds = refs.integrationIds ?? [];
  const nodeIds = [...new Set((refs.nodes ?? []).map((r) => r.id))];
  const [ownIntegrations, ownNodes] = await Promise.all([
    integrationIds.length
      ? db
          .select({ id: integrations.id })
          .from(integrations)
          .where(and(eq(integrations.accountId, accountId), inArray(integrations.id, integrationIds)))
      : [],
    nodeIds.length
      ? db
          .select({ id: nodes.id })
          .from(nodes)
          .where(and(eq(nodes.accountId, accountId), inArray(nodes.id, nodeIds)))
      : [],
  ]);
  const knownIntegrations = new Set(ownIntegrations.map((r) => r.id));
  integrationIds.forEach((id, i) => {
    if (!knownIntegrations.has(id)) errors.push({ field: `integration_ids.${i}`, message: "No such integration." });
  });
  const knownNodes = new Set(ownNodes.map((r) => r.id));
  for (const { field, id } of refs.nodes ?? []) {
    if (!knownNodes.has(id)) errors.push({ field, message: "No such node." });
  }
  return errors;
}
