import { z } from "zod";
import { compileFilters, EventFiltersSchema, type StoredEvent } from "./event-filters";
import { wallClock } from "./report-periods";

/**
 * Silences (docs/triggers.md#silences): the API shapes and when a silence mutes. Pure: the weekly
 * recurrence reads the wall clock of the account's zone through Intl (worker/domain/report-periods.ts),
 * so "Friday 18:00–22:00" stays 18:00–22:00 local across DST changes.
 */

export const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const clockTime = z.string().regex(HH_MM, 'Must be a time "HH:MM" from 00:00 to 23:59.');
const instant = z
  .string()
  .max(64, "At most 64 characters.")
  .pipe(z.iso.datetime({ offset: true, message: "Must be an RFC 3339 time, e.g. 2026-11-29T10:00:00Z." }));

export const RecurrenceSchema = z
  .object({
    days: z
      .array(z.enum(WEEKDAYS, `Must be one of ${WEEKDAYS.join(", ")}.`))
      .min(1, "Choose at least one day.")
      .max(7)
      .refine((days) => new Set(days).size === days.length, "List each day once."),
    from: clockTime,
    to: clockTime,
  })
  .strict();
export type Recurrence = z.infer<typeof RecurrenceSchema>;

const silenceFields = {
  name: z
    .string()
    .trim()
    .min(1, "Give the silence a name.")
    .max(100, "At most 100 characters.")
    .regex(/^[^\p{Cc}]*$/u, "Must not contain control characters."),
  comment: z.string().trim().max(1000, "At most 1000 characters.").optional(),
  filters: EventFiltersSchema,
  starts_at: instant,
  ends_at: instant,
  recurrence: RecurrenceSchema.nullable(),
};

/** starts_at < ends_at, checked on the whole silence (after a PATCH is merged too). */
export function silenceShapeIssues(silence: { starts_at: string; ends_at: string }) {
  return Date.parse(silence.ends_at) > Date.parse(silence.starts_at)
    ? []
    : [{ path: ["ends_at"], message: "Must be after starts_at." }];
}

export const CreateSilenceBody = z
  .object({
    ...silenceFields,
    filters: EventFiltersSchema.default({}),
    recurrence: silenceFields.recurrence.default(null),
  })
  .strict()
  .superRefine((body, ctx) => {
    for (const issue of silenceShapeIssues(body)) ctx.addIssue({ code: "custom", ...issue });
  });
export type CreateSilenceInput = z.infer<typeof CreateSilenceBody>;

export const UpdateSilenceBody = z
  .object({
    name: silenceFields.name.optional(),
    comment: silenceFields.comment,
    filters: silenceFields.filters.optional(),
    starts_at: silenceFields.starts_at.optional(),
    ends_at: silenceFields.ends_at.optional(),
    recurrence: silenceFields.recurrence.optional(),
  })
  .strict();
export type UpdateSilenceInput = z.infer<typeof UpdateSilenceBody>;

export const SILENCE_STATES = ["scheduled", "active", "expired"] as const;
export type SilenceState = (typeof SILENCE_STATES)[number];

export const SilenceSchema = z.object({
  id: z.string(),
  ...silenceFields,
  state: z.enum(SILENCE_STATES),
  silenced_count: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
  created_by: z.string(),
});
export type Silence = z.infer<typeof SilenceSchema>;

/** What `silenceActiveAt` needs: the bounds and the recurrence. */
export type SilenceWindow = Pick<Silence, "starts_at" | "ends_at" | "recurrence">;

/** scheduled before starts_at, active until ends_at, expired after (the recurrence does not change it). */
export function silenceState(silence: Pick<Silence, "starts_at" | "ends_at">, nowMs: number): SilenceState {
  if (nowMs < Date.parse(silence.starts_at)) return "scheduled";
  return nowMs < Date.parse(silence.ends_at) ? "active" : "expired";
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * Does the silence mute at this instant? Between starts_at (inclusive) and ends_at (exclusive), and,
 * when it recurs, inside one of its weekly windows read on the zone's wall clock: a window starts on
 * one of `days` at `from`; when `to` <= `from` it ends at `to` on the next day.
 */
export function silenceActiveAt(silence: SilenceWindow, instantMs: number, timeZone: string): boolean {
  if (instantMs < Date.parse(silence.starts_at) || instantMs >= Date.parse(silence.ends_at)) return false;
  const recurrence = silence.recurrence;
  if (!recurrence) return true;
  const local = wallClock(instantMs, timeZone);
  const weekday = new Date(Date.UTC(local.year, local.month - 1, local.day)).getUTCDay();
  const minute = local.hour * 60 + local.minute;
  const from = minutesOf(recurrence.from);
  const to = minutesOf(recurrence.to);
  const on = (day: number) => recurrence.days.includes(WEEKDAYS[(day + 7) % 7] as Weekday);
  if (to > from) return on(weekday) && minute >= from && minute < to;
  // Crosses midnight: the evening of a listed day, or the early hours after one.
  return (on(weekday) && minute >= from) || (on(weekday - 1) && minute < to);
}

/** A silence prepared for many events: filters compiled once, the recurrence read once per minute. */
export interface CompiledSilence {
  id: string;
  matches: (event: StoredEvent) => boolean;
  activeAt: (instantMs: number, timeZone: string) => boolean;
}

export function compileSilences(
  silences: readonly Pick<Silence, "id" | "filters" | "starts_at" | "ends_at" | "recurrence">[],
): CompiledSilence[] {
  return silences.map((silence) => {
    const startsAt = Date.parse(silence.starts_at);
    const endsAt = Date.parse(silence.ends_at);
    // A weekly window starts and ends on whole minutes: one Intl reading per minute and zone.
    let memo = { minute: Number.NaN, timeZone: "", active: false };
    return {
      id: silence.id,
      matches: compileFilters(silence.filters),
      activeAt: (instantMs, timeZone) => {
        if (instantMs < startsAt || instantMs >= endsAt) return false;
        if (!silence.recurrence) return true;
        const minute = Math.floor(instantMs / 60_000);
        if (memo.minute !== minute || memo.timeZone !== timeZone) {
          memo = { minute, timeZone, active: silenceActiveAt(silence, instantMs, timeZone) };
        }
        return memo.active;
      },
    };
  });
}

/**
 * The silences that mute a node event: active at the time it occurred and matching it. System
 * events are never silenced (Herald's own notices, such as an integration disabled, always go out).
 */
export function silencingIds(silences: readonly CompiledSilence[], event: StoredEvent, timeZone: string): string[] {
  if (event.data.type === "system") return [];
  return silences
    .filter((silence) => silence.activeAt(event.occurredAt, timeZone) && silence.matches(event))
    .map((silence) => silence.id);
}

/** Is the event muted by any silence? What ingest asks before it queues plain subscription notices. */
export function isSilenced(silences: readonly CompiledSilence[], event: StoredEvent, timeZone: string): boolean {
  return silencingIds(silences, event, timeZone).length > 0;
}
