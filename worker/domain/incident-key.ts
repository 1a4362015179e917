import { z } from "zod";
import type { Notification } from "./notification";
import { GROUP_BY_FIELDS, type GroupByField } from "./triggers";

/**
 * Incident systems (PagerDuty, Opsgenie) get incidents, not event streams (docs/channels.md#incidents):
 * notifications about the same thing carry the same incident key, so the vendor folds them into
 * one open incident, and a "resolve" notification closes it. Keys are derived from stable inputs
 * only, so a retry, a rebuilt notice or a second Herald isolate always produces the same key.
 */

const INCIDENT_ACTIONS = ["trigger", "resolve"] as const;

/** What a notification asks an incident system to do; read back from stored outbox JSON, so zod-checked. */
const incidentDirectiveSchema = z.object({
  incident_key: z.string().min(1).max(255),
  incident_action: z.enum(INCIDENT_ACTIONS),
});
type IncidentDirective = z.infer<typeof incidentDirectiveSchema>;

/** The dimensions a trigger may group by; a group is one value for each of the trigger's dimensions. */
export type TriggerGroup = Partial<Record<GroupByField, string>>;

/** "host=pay.example.com,attack_type=sqli" in GROUP_BY_FIELDS order; "" for an ungrouped trigger. */
export function groupKeyOf(group: TriggerGroup): string {
  return GROUP_BY_FIELDS.filter((dimension) => group[dimension] !== undefined)
    .map((dimension) => `${dimension}=${group[dimension]}`)
    .join(",");
}

const FNV_OFFSET_128 = 0x6c62272e07bb014262b821756295c58dn;
const FNV_PRIME_128 = 0x0000000001000000000000000000013bn;
const MASK_128 = (1n << 128n) - 1n;

/**
 * 128-bit FNV-1a of the UTF-8 bytes, as 32 hex digits. Synchronous (renderers are), and only ever
 * compared with itself: collisions within one account's incidents are out of reach at 128 bits.
 */
function stableHash(text: string): string {
  let hash = FNV_OFFSET_128;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= BigInt(byte);
    hash = (hash * FNV_PRIME_128) & MASK_128;
  }
  return hash.toString(16).padStart(32, "0");
}

/** A UUID-shaped id (version 8, "custom") from stable parts: a rebuilt notice keeps its id. */
export function stableId(...parts: (string | number)[]): string {
  const hex = stableHash(JSON.stringify(parts));
  const variant = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** One incident per threshold trigger, group and window. */
export function thresholdIncidentKey(triggerId: string, group: TriggerGroup, windowStart: number): string {
  return `herald:threshold:${stableHash(JSON.stringify([triggerId, groupKeyOf(group), windowStart]))}`;
}

/** One incident per node-silence trigger and node, opened when it goes silent, resolved when it recovers. */
export function nodeSilenceIncidentKey(triggerId: string, group: TriggerGroup): string {
  return `herald:node-silence:${stableHash(JSON.stringify([triggerId, groupKeyOf(group)]))}`;
}

/** One incident per "each matching event" trigger and group: later events join the open incident. */
export function triggerEventIncidentKey(triggerId: string, group: TriggerGroup): string {
  return `herald:trigger:${stableHash(JSON.stringify([triggerId, groupKeyOf(group)]))}`;
}

/** One incident per security issue, whichever report of it opened it; closing the issue resolves it. */
export function securityIssueIncidentKey(fingerprint: string): string {
  return `herald:security-issue:${stableHash(fingerprint)}`;
}

/** SQLite's lower() folds ASCII only; the fingerprint must match the one ingest stores. */
const asciiLower = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

/**
 * The security issue fingerprint of a reported issue, as ingest computes it (ISSUE_FINGERPRINT in
 * worker/ingest/store.ts, worker/db/schema.ts securityIssues): "<vuln_type>|<host>|<METHOD>|<path>|<parameter>".
 */
export function securityIssueFingerprint(issue: {
  vuln_type: string;
  host: string;
  method: string;
  path: string;
  parameter?: string | null;
}): string {
  return [issue.vuln_type, asciiLower(issue.host), issue.method, issue.path, issue.parameter ?? ""].join("|");
}

const reportedIssue = z.object({
  vuln_type: z.string(),
  host: z.string(),
  method: z.string(),
  path: z.string(),
  parameter: z.string().nullish(),
});

/**
 * The incident a notification belongs to: the key and action it carries (trigger notices, issue
 * closed/reopened), or, for a security issue reported by a node, the issue's own key. Undefined
 * for everything else: those stay one incident per delivery.
 */
export function incidentOf(notification: Notification): IncidentDirective | undefined {
  const carried = incidentDirectiveSchema.safeParse(notification.details);
  if (carried.success)
    return { incident_key: carried.data.incident_key, incident_action: carried.data.incident_action };
  if (notification.details.notification_type !== "security_issue") return undefined;
  const issue = reportedIssue.safeParse(notification.details.security_issue);
  if (!issue.success) return undefined;
  return { incident_key: securityIssueIncidentKey(securityIssueFingerprint(issue.data)), incident_action: "trigger" };
}
