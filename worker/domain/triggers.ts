import { z } from "zod";
import { type EventFields, EventFiltersSchema, eventFields, hasFilters, type StoredEvent } from "./event-filters";
import { SYSTEM_EVENT_TYPES } from "./system-events";

/**
 * Triggers (docs/triggers.md): the API shapes as zod schemas — the one source of validation, of
 * the OpenAPI document and of the UI's types — and the group key of an event. Pure, no I/O.
 */

export {
  compileFilters,
  type EventFilters,
  EventFiltersSchema,
  matchesFilters,
  type StoredEvent,
} from "./event-filters";

export const GROUP_BY_FIELDS = ["host", "attack_type", "source_ip", "node"] as const;
export type GroupByField = (typeof GROUP_BY_FIELDS)[number];

export const MAX_TRIGGER_INTEGRATIONS = 20;
export const MAX_WINDOW_MINUTES = 1440;

const int = (min: number, max: number) =>
  z
    .number("Must be a number.")
    .int("Must be an integer.")
    .min(min, `At least ${min}.`)
    .max(max, `At most ${max.toLocaleString("en-US")}.`);

export const TriggerConditionSchema = z.discriminatedUnion(
  "kind",
  [
    z.object({ kind: z.literal("each_event") }).strict(),
    z
      .object({ kind: z.literal("threshold"), count: int(1, 1_000_000), window_minutes: int(1, MAX_WINDOW_MINUTES) })
      .strict(),
    z
      .object({
        kind: z.literal("node_silence"),
        node_id: z.string().trim().min(1, "Must not be empty.").max(64, "At most 64 characters.").nullable(),
        silence_minutes: int(1, 10_080),
      })
      .strict(),
    z
      .object({
        kind: z.literal("system_event"),
        system_types: z
          .array(z.enum(SYSTEM_EVENT_TYPES, `Must be one of ${SYSTEM_EVENT_TYPES.join(", ")}.`))
          .max(SYSTEM_EVENT_TYPES.length)
          .refine((types) => new Set(types).size === types.length, "List each type once."),
      })
      .strict(),
  ],
  "Must be one of each_event, threshold, node_silence, system_event.",
);
export type TriggerCondition = z.infer<typeof TriggerConditionSchema>;

const name = z
  .string()
  .trim()
  .min(1, "Give the trigger a name.")
  .max(100, "At most 100 characters.")
  .regex(/^[^\p{Cc}]*$/u, "Must not contain control characters.");

/** The fields an admin sends (POST, and PATCH with every field optional). */
const triggerFields = {
  name,
  enabled: z.boolean("Must be true or false."),
  condition: TriggerConditionSchema,
  filters: EventFiltersSchema,
  group_by: z
    .array(z.enum(GROUP_BY_FIELDS, `Must be one of ${GROUP_BY_FIELDS.join(", ")}.`))
    .max(GROUP_BY_FIELDS.length)
    .refine((fields) => new Set(fields).size === fields.length, "List each field once."),
  throttle_minutes: int(0, MAX_WINDOW_MINUTES),
  integration_ids: z
    .array(z.string().trim().min(1, "Must not be empty.").max(64, "At most 64 characters."))
    .min(1, "Choose at least one integration.")
    .max(MAX_TRIGGER_INTEGRATIONS, `At most ${MAX_TRIGGER_INTEGRATIONS} integrations.`)
    .refine((ids) => new Set(ids).size === ids.length, "List each integration once."),
};

/** Rules between fields, checked on the whole trigger (after a PATCH is merged too). */
export function triggerShapeIssues(trigger: {
  condition: TriggerCondition;
  filters: z.infer<typeof EventFiltersSchema>;
  group_by: GroupByField[];
}): { path: string[]; message: string }[] {
  const eventCondition = trigger.condition.kind === "each_event" || trigger.condition.kind === "threshold";
  const issues: { path: string[]; message: string }[] = [];
  if (!eventCondition && trigger.group_by.length > 0) {
    issues.push({ path: ["group_by"], message: "Group-by applies to each_event and threshold triggers only." });
  }
  if (!eventCondition && hasFilters(trigger.filters)) {
    issues.push({ path: ["filters"], message: "Filters apply to each_event and threshold triggers only." });
  }
  return issues;
}

export const CreateTriggerBody = z
  .object({
    ...triggerFields,
    enabled: triggerFields.enabled.default(true),
    filters: EventFiltersSchema.default({}),
    group_by: triggerFields.group_by.default([]),
    throttle_minutes: triggerFields.throttle_minutes.optional(),
  })
  .superRefine((body, ctx) => {
    for (const issue of triggerShapeIssues(body)) ctx.addIssue({ code: "custom", ...issue });
  });
export type CreateTriggerInput = z.infer<typeof CreateTriggerBody>;

export const UpdateTriggerBody = z
  .object({
    name: triggerFields.name.optional(),
    enabled: triggerFields.enabled.optional(),
    condition: triggerFields.condition.optional(),
    filters: triggerFields.filters.optional(),
    group_by: triggerFields.group_by.optional(),
    throttle_minutes: triggerFields.throttle_minutes.optional(),
    integration_ids: triggerFields.integration_ids.optional(),
  })
  .strict();
export type UpdateTriggerInput = z.infer<typeof UpdateTriggerBody>;

/** A trigger as the API answers it and as the evaluator reads it. */
export const TriggerSchema = z.object({
  id: z.string(),
  ...triggerFields,
  created_at: z.string(),
  updated_at: z.string(),
  created_by: z.string(),
});
export type Trigger = z.infer<typeof TriggerSchema>;

/**
 * Without an explicit throttle a threshold trigger waits one window before it notifies the same
 * group again, so one crossing is one notice; other conditions notify every time.
 */
export function defaultThrottleMinutes(condition: TriggerCondition): number {
  return condition.kind === "threshold" ? condition.window_minutes : 0;
}

/** What an event has for one group-by field, before "-" stands in for nothing. */
function rawGroupValue(field: GroupByField, event: StoredEvent, fields: EventFields) {
  const read = fields as Record<string, string | number | undefined> | null;
  if (field === "node") return event.nodeId;
  if (field === "host") return read?.host;
  return field === "attack_type" ? (read?.attackType ?? read?.vulnType) : read?.remoteAddr;
}

const shownValue = (value: string | number | null | undefined) =>
  value === undefined || value === null || value === "" ? "-" : String(value);

/**
 * The value an event has for one group-by field; "-" when it has none (a scope change has no host).
 * `fields`: its `eventFields`, when the caller has them at hand.
 */
export function groupValue(field: GroupByField, event: StoredEvent, fields: EventFields = eventFields(event)): string {
  return shownValue(rawGroupValue(field, event, fields));
}

/** The group of an event: "host=shop.example.com, attack_type=sqli"; "" when the trigger has no group-by. */
export function groupKey(
  groupBy: readonly GroupByField[],
  event: StoredEvent,
  fields: EventFields = eventFields(event),
): string {
  return groupKeyFromValues(groupBy, (field) => rawGroupValue(field, event, fields));
}

/** `groupKey` from the group-by fields' values already read (as `groupValue` reads them, before "-"). */
export function groupKeyFromValues(
  groupBy: readonly GroupByField[],
  value: (field: GroupByField) => string | number | null | undefined,
): string {
  // One field (the usual case) builds one string: this runs per event on the ingest path.
  if (groupBy.length === 1) return `${groupBy[0]}=${shownValue(value(groupBy[0] as GroupByField))}`;
  return groupBy.map((field) => `${field}=${shownValue(value(field))}`).join(", ");
}
