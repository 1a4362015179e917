import { z } from "zod";
import { RISKS } from "./subscriptions";

/**
 * The events detection nodes post to `POST /v1/events` (docs/ingest.md#request). Pure schemas, no I/O: the
 * route validates every event with them and refuses the whole request if any is invalid.
 * Unknown keys are dropped, and every string has a bound, so what is stored stays bounded too.
 */

export const MAX_EVENTS_PER_REQUEST = 1000;
export const MAX_BODY_BYTES = 1024 * 1024;
const MAX_PAYLOAD_BYTES = 4096;
/** Clocks drift: a node may be a little ahead of us, never more than this. */
const MAX_FUTURE_SKEW_MS = 5 * 60_000;

export const NODE_EVENT_TYPES = ["security_issue", "hit", "incident", "scope_change"] as const;
export const BLOCK_STATUSES = ["blocked", "monitored"] as const;
const SCOPE_CHANGES = ["added", "removed"] as const;
const SCOPE_OBJECT_TYPES = ["host", "ip", "port", "domain", "service"] as const;

/** ISO 3166-1 alpha-2: the officially assigned codes. */
export const COUNTRY_CODES = new Set(
  (
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW " +
    "BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI " +
    "FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN " +
    "IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME " +
    "MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF " +
    "PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV " +
    "SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE " +
    "YT ZA ZM ZW"
  ).split(" "),
);

const utf8 = new TextEncoder();

const text = (max: number) => z.string().trim().min(1, "Must not be empty.").max(max, `At most ${max} characters.`);
const optionalText = (max: number) => z.string().trim().max(max, `At most ${max} characters.`).optional();
/** Short identifiers such as `sqli` or `weak_auth`: open-ended lists, but tokens, not prose. */
const token = (max = 64) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .min(1, "Must not be empty.")
    .max(max, `At most ${max} characters.`)
    .regex(/^[a-z0-9][a-z0-9_.:-]*$/, "Use letters, digits, '_', '-', '.' or ':' only.");

const host = text(255);
const method = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z]{1,16}$/, "Must be an HTTP method such as GET or POST.");
const path = z
  .string()
  .min(1, "Must not be empty.")
  .max(2048, "At most 2048 characters.")
  .refine((value) => !/[\r\n]/.test(value), "Must not contain line breaks.");

const occurredAt = z
  .string()
  .max(64, "At most 64 characters.")
  .pipe(z.iso.datetime({ offset: true, message: "Must be an RFC 3339 time, e.g. 2026-11-29T10:00:00Z." }))
  .refine(
    (value) => Date.parse(value) <= Date.now() + MAX_FUTURE_SKEW_MS,
    "Must not be more than 5 minutes in the future.",
  );

const base = {
  id: z
    .uuid("Must be a UUID.")
    .transform((value) => value.toLowerCase())
    .optional(),
  occurred_at: occurredAt,
};

const SecurityIssueEvent = z.object({
  ...base,
  type: z.literal("security_issue"),
  risk: z.enum(RISKS, `Must be one of ${RISKS.join(", ")}.`),
  title: text(500),
  vuln_type: token(),
  host,
  method,
  path,
  parameter: optionalText(256),
  discovered_by: optionalText(128),
  description: optionalText(8000),
});

const hitFields = {
  ...base,
  attack_type: token(),
  host,
  method,
  path,
  remote_addr: z.union([z.ipv4(), z.ipv6()], "Must be an IPv4 or IPv6 address."),
  response_status: z.number("Must be a number.").int("Must be an integer.").min(100).max(599),
  block_status: z.enum(BLOCK_STATUSES, `Must be one of ${BLOCK_STATUSES.join(", ")}.`),
  remote_country: z
    .string()
    .toUpperCase()
    .refine((value) => COUNTRY_CODES.has(value), "Must be an ISO 3166-1 alpha-2 country code, e.g. DE.")
    .optional(),
  payload: z
    .string()
    .max(MAX_PAYLOAD_BYTES, "At most 4 KiB.")
    .refine((value) => utf8.encode(value).byteLength <= MAX_PAYLOAD_BYTES, "At most 4 KiB (UTF-8).")
    .optional(),
  point: optionalText(256),
  request_id: optionalText(128),
  application: optionalText(128),
};

const HitEvent = z.object({ ...hitFields, type: z.literal("hit") });
const IncidentEvent = z.object({ ...hitFields, type: z.literal("incident"), security_issue_id: text(128) });

const ScopeChangeEvent = z.object({
  ...base,
  type: z.literal("scope_change"),
  change: z.enum(SCOPE_CHANGES, `Must be one of ${SCOPE_CHANGES.join(", ")}.`),
  object_type: z.enum(SCOPE_OBJECT_TYPES, `Must be one of ${SCOPE_OBJECT_TYPES.join(", ")}.`),
  value: text(512),
});

export const NodeEventSchema = z.discriminatedUnion(
  "type",
  [SecurityIssueEvent, HitEvent, IncidentEvent, ScopeChangeEvent],
  `Must be one of ${NODE_EVENT_TYPES.join(", ")}.`,
);
export type NodeEventInput = z.infer<typeof NodeEventSchema>;
/** A validated event once it has its id (the node's, or a generated UUIDv7). */
export type NodeEvent = NodeEventInput & { id: string };

/** The request envelope; each event is validated on its own so errors carry the event index. */
const IngestBodySchema = z.object({
  events: z
    .array(z.unknown())
    .min(1, "Send at least one event.")
    .max(MAX_EVENTS_PER_REQUEST, `At most ${MAX_EVENTS_PER_REQUEST} events per request.`),
});

export interface EventFieldError {
  /** Index of the event in `events`; absent for errors about the envelope itself. */
  index?: number;
  /** Dotted path as the node sent it: "events.3.risk". */
  field: string;
  message: string;
}

/** Enough to fix a batch; a thousand copies of the same mistake help nobody. */
export const MAX_REPORTED_ERRORS = 100;

type IngestValidation =
  | { ok: true; events: NodeEventInput[] }
  | { ok: false; errors: EventFieldError[]; total: number };

/** Validates a parsed body: every event, collecting per-event, per-field errors. */
export function validateIngestBody(body: unknown): IngestValidation {
  const envelope = IngestBodySchema.safeParse(body);
  if (!envelope.success) {
    const errors = envelope.error.issues.map((issue) => ({
      field: issue.path.map(String).join(".") || "(body)",
      message: issue.message,
    }));
    return { ok: false, errors, total: errors.length };
  }
  const events: NodeEventInput[] = [];
  const errors: EventFieldError[] = [];
  let total = 0;
  envelope.data.events.forEach((raw, index) => {
    const parsed = NodeEventSchema.safeParse(raw);
    if (parsed.success) {
      events.push(parsed.data);
      return;
    }
    for (const issue of parsed.error.issues) {
      total++;
      if (errors.length < MAX_REPORTED_ERRORS) {
        errors.push({ index, field: ["events", index, ...issue.path].map(String).join("."), message: issue.message });
      }
    }
  });
  return errors.length === 0 ? { ok: true, events } : { ok: false, errors, total };
}
