import { z } from "zod";
import { BLOCK_STATUSES, COUNTRY_CODES, NODE_EVENT_TYPES, type NodeEventInput } from "./events";
import { type IpRange, parseIp, parseIpRange, rangeContains } from "./ip-ranges";
import { RISKS, type Risk } from "./subscriptions";
import type { SystemEventData } from "./system-events";

/**
 * The filters of triggers and silences (docs/triggers.md#filters). Pure: schemas and matching,
 * no I/O. Every field is optional and an absent or empty list means "any"; a field that is set
 * matches only events that carry it (`min_risk` matches security issues only, `attack_types`
 * hits and incidents only, and so on).
 */

/** An event as stored: what the evaluator and the preview read (the node's validated event in `data`). */
export interface StoredEvent {
  id: string;
  /** The node that posted it; null for Herald's system events. */
  nodeId: string | null;
  occurredAt: number;
  data: NodeEventInput | SystemEventData;
}

const MAX_LIST = 50;
const list = <T extends z.ZodType>(item: T, what: string) =>
  z.array(item).max(MAX_LIST, `At most ${MAX_LIST} ${what}.`).optional();

const token = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, "Must not be empty.")
  .max(64, "At most 64 characters.")
  .regex(/^[a-z0-9][a-z0-9_.:-]*$/, "Use letters, digits, '_', '-', '.' or ':' only.");

const HOST_LABELS = /^(\*\.)?([a-z0-9_-]+\.)*[a-z0-9_-]+$/;
const hostPattern = z
  .string()
  .trim()
  .toLowerCase()
  .min(1, "Must not be empty.")
  .max(255, "At most 255 characters.")
  .refine(
    (value) => HOST_LABELS.test(value) || parseIp(value) !== null,
    'Must be a host name such as shop.example.com, or "*.example.com" for its subdomains.',
  );

export const EventFiltersSchema = z
  .object({
    event_types: list(z.enum(NODE_EVENT_TYPES, `Must be one of ${NODE_EVENT_TYPES.join(", ")}.`), "event types"),
    min_risk: z.enum(RISKS, `Must be one of ${RISKS.join(", ")}.`).optional(),
    attack_types: list(token, "attack types"),
    vuln_types: list(token, "vulnerability types"),
    hosts: list(hostPattern, "hosts"),
    path_prefixes: list(
      z
        .string()
        .min(1, "Must not be empty.")
        .max(512, "At most 512 characters.")
        .startsWith("/", 'Must start with "/".'),
      "path prefixes",
    ),
    applications: list(
      z.string().trim().min(1, "Must not be empty.").max(128, "At most 128 characters."),
      "applications",
    ),
    node_ids: list(z.string().trim().min(1, "Must not be empty.").max(64, "At most 64 characters."), "nodes"),
    source_ips: list(
      z
        .string()
        .trim()
        .max(64, "At most 64 characters.")
        .refine(
          (value) => parseIpRange(value) !== null,
          "Must be an IPv4 or IPv6 address or CIDR range, e.g. 198.51.100.0/24.",
        ),
      "source IPs",
    ),
    countries: list(
      z
        .string()
        .trim()
        .toUpperCase()
        .refine((value) => COUNTRY_CODES.has(value), "Must be an ISO 3166-1 alpha-2 country code, e.g. DE."),
      "countries",
    ),
    block_statuses: list(z.enum(BLOCK_STATUSES, `Must be one of ${BLOCK_STATUSES.join(", ")}.`), "block statuses"),
    response_statuses: list(
      z.number("Must be a number.").int("Must be an integer.").min(100, "At least 100.").max(599, "At most 599."),
      "response statuses",
    ),
  })
  .strict();
export type EventFilters = z.infer<typeof EventFiltersSchema>;

/** Filters with nothing set match every node event. */
export function hasFilters(filters: EventFilters): boolean {
  return Object.values(filters).some((value) => (Array.isArray(value) ? value.length > 0 : value !== undefined));
}

/** Severity order: a minimum of "high" lets high and critical through. */
const RISK_RANK: Record<Risk, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

/** "shop.example.com:8443" → "shop.example.com"; IPv6 literals keep their colons. */
function bareHost(host: string): string {
  const lower = host.toLowerCase();
  if (lower.startsWith("[")) return lower.slice(1, lower.indexOf("]") > 0 ? lower.indexOf("]") : undefined);
  const colon = lower.indexOf(":");
  return colon > 0 && colon === lower.lastIndexOf(":") ? lower.slice(0, colon) : lower;
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith("*.")) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return host === pattern;
}

/** Fields read once per event, however many triggers and silences look at it. */
const fieldsCache = new WeakMap<StoredEvent, ReturnType<typeof readFields>>();

/** The fields of a node event the filters read, whatever its type (undefined when the type has none). */
export function eventFields(event: StoredEvent) {
  let fields = fieldsCache.get(event);
  if (fields === undefined) {
    fields = readFields(event);
    fieldsCache.set(event, fields);
  }
  return fields;
}

/**
 * `eventFields` without keeping them: for a loop that reads each event once and hands the fields
 * on itself (the evaluator's batch), where remembering them per event costs more than it saves.
 */
export function readEventFields(event: StoredEvent) {
  return fieldsCache.get(event) ?? readFields(event);
}

function readFields(event: StoredEvent) {
  const data = event.data;
  switch (data.type) {
    case "security_issue":
      return { type: data.type, risk: data.risk, vulnType: data.vuln_type, host: bareHost(data.host), path: data.path };
    case "hit":
    case "incident":
      return {
        type: data.type,
        attackType: data.attack_type,
        host: bareHost(data.host),
        path: data.path,
        remoteAddr: data.remote_addr,
        country: data.remote_country,
        blockStatus: data.block_status,
        responseStatus: data.response_status,
        application: data.application,
      };
    case "scope_change":
      return { type: data.type };
    case "system":
      return null;
  }
}
type Fields = NonNullable<ReturnType<typeof eventFields>> & {
  risk?: string;
  vulnType?: string;
  attackType?: string;
  host?: string;
  path?: string;
  remoteAddr?: string;
  country?: string;
  blockStatus?: string;
  responseStatus?: number;
  application?: string;
};

/** Source addresses parsed once each: a batch repeats few addresses across many events and rules. */
const ipCache = new Map<string, ReturnType<typeof parseIp>>();
function parsedIp(text: string) {
  let ip = ipCache.get(text);
  if (ip === undefined) {
    ip = parseIp(text);
    if (ipCache.size >= 10_000) ipCache.clear();
    ipCache.set(text, ip);
  }
  return ip;
}

/** One test per field that is set: an event matches when it passes all of them. */
type Check = (fields: Fields, event: StoredEvent) => boolean;

const inList = <T>(values: readonly T[] | undefined, pick: (fields: Fields) => T | undefined): Check | null =>
  values?.length
    ? (fields) => {
        const value = pick(fields);
        return value !== undefined && values.includes(value);
      }
    : null;

/** What `eventFields` reads from an event: the input of `compileFieldFilters`' tests. */
export type EventFields = ReturnType<typeof eventFields>;

/** Exact hosts in a set, `*.` patterns as suffixes (`hostMatches`' rules). */
function hostCheck(patterns: readonly string[]): Check {
  const exact = new Set(patterns.filter((pattern) => !pattern.startsWith("*.")));
  const wildcards = patterns.filter((pattern) => pattern.startsWith("*."));
  return (f) => {
    const host = f.host;
    if (host === undefined) return false;
    if (exact.has(host)) return true;
    for (const pattern of wildcards) if (hostMatches(pattern, host)) return true;
    return false;
  };
}

/**
 * Compiles filters once (CIDR ranges parsed, lists as sets) into a test for stored events: the
 * evaluator runs it for every event of every batch. System events never match node filters.
 */
export function compileFilters(filters: EventFilters): (event: StoredEvent) => boolean {
  const test = compileFieldFilters(filters);
  return (event) => test(eventFields(event), event);
}

/**
 * The same test over the event's fields read once (`eventFields`): a batch's events meet many
 * triggers, and each would otherwise look its fields up again.
 */
export function compileFieldFilters(filters: EventFilters): (fields: EventFields, event: StoredEvent) => boolean {
  const ranges: IpRange[] = (filters.source_ips ?? []).flatMap((text) => parseIpRange(text) ?? []);
  const minRisk = filters.min_risk;
  const checks = [
    inList(filters.event_types, (f) => f.type),
    minRisk ? (f: Fields) => f.risk !== undefined && RISK_RANK[f.risk as Risk] >= RISK_RANK[minRisk] : null,
    inList(filters.attack_types, (f) => f.attackType),
    inList(filters.vuln_types, (f) => f.vulnType),
    // Plain loops in these tests, no callback per call: they run per event and trigger.
    filters.hosts?.length ? hostCheck(filters.hosts) : null,
    filters.path_prefixes?.length
      ? (f: Fields) => {
          if (f.path === undefined) return false;
          for (const prefix of filters.path_prefixes ?? []) if (f.path.startsWith(prefix)) return true;
          return false;
        }
      : null,
    inList(filters.applications, (f) => f.application),
    filters.node_ids?.length
      ? (_f: Fields, e: StoredEvent) => e.nodeId !== null && (filters.node_ids ?? []).includes(e.nodeId)
      : null,
    ranges.length
      ? (f: Fields) => {
          const ip = f.remoteAddr === undefined ? null : parsedIp(f.remoteAddr);
          if (ip === null) return false;
          for (const range of ranges) if (rangeContains(range, ip)) return true;
          return false;
        }
      : null,
    inList(filters.countries, (f) => f.country),
    inList(filters.block_statuses, (f) => f.blockStatus),
    inList(filters.response_statuses, (f) => f.responseStatus),
  ].filter((check): check is Check => check !== null);
  return (read, event) => {
    const fields = read as Fields | null;
    if (fields === null) return false;
    // A plain loop: this runs once per event and trigger on the ingest path.
    for (const check of checks) if (!check(fields, event)) return false;
    return true;
  };
}

/** Does a stored node event pass these filters? (Compile once with `compileFilters` in loops.) */
export function matchesFilters(filters: EventFilters, event: StoredEvent): boolean {
  return compileFilters(filters)(event);
}
