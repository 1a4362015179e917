/**
 * What the routes of the two admin-managed rule collections, triggers and silences
 * (docs/triggers.md), do alike: the preview scan over recent events, the node references of their
 * filters, the whole-rule shape check after a PATCH is merged, and the list of changed fields the
 * audit keeps.
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { EventFilters } from "../domain/event-filters";
import { type ScannedEvent, scanAccountEvents } from "../events/scan";
import { validationError } from "../lib/errors";
import type { AppEnv } from "../lib/router";
import { HOUR_MS } from "../lib/time";
import { loadAccount } from "../security/auth";
import { limitPerAccount } from "../security/rate-limit";

const PREVIEW_HOURS = 24;
const PREVIEW_MAX_EVENTS = 200_000;
/** Previews scan up to 200 000 events each: enough for editing a form, not for a loop. */
export const PREVIEW_LIMIT = { max: 60, windowMs: HOUR_MS, what: "previews" };

/** The fields every preview answer starts with; each collection adds what its rule would have done. */
export const previewWindowFields = {
  window_hours: z.number().int(),
  events_scanned: z.number().int(),
  /** True when the scan stopped at 200 000 events: the figures cover only the oldest part. */
  truncated: z.boolean(),
};

/**
 * Counts the call against the account's preview limit (429 past it), then hands the last
 * PREVIEW_HOURS of stored events, oldest first, to the previewer `start` makes for the account's
 * time zone; answers it with the window's figures.
 */
export async function scanPreviewWindow<P extends { add(batch: ScannedEvent[]): void }>(
  c: Context<AppEnv>,
  limitKey: "trigger-preview" | "silence-preview",
  start: (timeZone: string, now: number) => P,
): Promise<{
  now: number;
  previewer: P;
  window: { window_hours: number; events_scanned: number; truncated: boolean };
}> {
  const principal = c.get("principal");
  await limitPerAccount(c.get("db"), limitKey, principal.accountId, PREVIEW_LIMIT);
  const account = await loadAccount(c, principal);
  const now = Date.now();
  const previewer = start(account.timeZone, now);
  const scan = await scanAccountEvents(
    c.env,
    principal.accountId,
    now - PREVIEW_HOURS * HOUR_MS,
    now + HOUR_MS,
    (batch) => previewer.add(batch),
    PREVIEW_MAX_EVENTS,
  );
  return {
    now,
    previewer,
    window: { window_hours: PREVIEW_HOURS, events_scanned: scan.scanned, truncated: scan.truncated },
  };
}

/** The node ids a rule's filters name, each with the request field to blame if it is not the account's. */
export function filterNodeReferences(filters: Pick<EventFilters, "node_ids">): { field: string; id: string }[] {
  return (filters.node_ids ?? []).map((id, i) => ({ field: `filters.node_ids.${i}`, id }));
}

/** 400 naming each field of a merged rule that breaks the collection's whole-rule checks. */
export function rejectShapeIssues(issues: { path: (string | number)[]; message: string }[]): void {
  if (issues.length) throw validationError(issues.map((i) => ({ field: i.path.join("."), message: i.message })));
}

/** The PATCH body's fields whose value differs from the stored rule's (what the audit entry lists). */
export function changedFields<T extends object>(body: Partial<T>, current: T): string[] {
  return Object.keys(body).filter(
    (key) => JSON.stringify(body[key as keyof T]) !== JSON.stringify(current[key as keyof T]),
  );
}
