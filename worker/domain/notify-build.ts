import type { StoredEventType } from "../db/schema";
import { uiLink } from "../lib/links";
import { iso } from "../lib/time";
import type { Notification, NotificationType } from "./notification";

/** The part of a stored event row that notifications are built from. */
export interface NotifiableEvent {
  id: string;
  /** Its events.seq (commit order), where known: a disabled integration takes events up to its marker. */
  seq?: number;
  type: StoredEventType;
  risk?: string | null;
  occurredAt: number;
  systemType?: string | null;
  /** The validated event as the node sent it (or the system event's data). */
  data: unknown;
}

const SUMMARIES: Record<Exclude<StoredEventType, "system">, string> = {
  security_issue: "New security issue detected",
  hit: "New attack detected",
  incident: "Incident: an attack hit a known vulnerability",
  scope_change: "Perimeter changed",
};

const SYSTEM_SUMMARIES: Record<string, string> = {
  user_created: "User added",
  user_deleted: "User removed",
  user_role_changed: "User role changed",
  integration_created: "Integration created",
  integration_disabled: "Integration disabled",
  integration_enabled: "Integration enabled",
  integration_auto_disabled: "Integration disabled automatically",
  integration_deleted: "Integration deleted",
  node_created: "Node added",
  node_revoked: "Node revoked",
  scheduled_report_failed: "Scheduled report failed",
  notifications_held_back: "Late events stored without notifications",
  delivery_dead: "Delivery failed after its last retry",
};

/** The plain-text description's fields, in reading order (labels people understand). */
const DESCRIPTION_FIELDS: [field: string, label: string][] = [
  ["message", "What happened"],
  ["risk", "Risk"],
  ["title", "Title"],
  ["vuln_type", "Vulnerability type"],
  ["attack_type", "Attack type"],
  ["block_status", "Action"],
  ["host", "Host"],
  ["method", "Method"],
  ["path", "Path"],
  ["parameter", "Parameter"],
  ["point", "Attack point"],
  ["remote_addr", "Source IP"],
  ["remote_country", "Source country"],
  ["response_status", "Response status"],
  ["application", "Application"],
  ["request_id", "Request ID"],
  ["security_issue_id", "Security issue"],
  ["discovered_by", "Discovered by"],
  ["change", "Change"],
  ["object_type", "Object type"],
  ["value", "Value"],
  ["actor", "By"],
];

/** Long free text goes last, cut so the description stays a readable summary. */
const LONG_FIELDS: [field: string, label: string, max: number][] = [
  ["description", "Description", 2000],
  ["payload", "Payload", 1000],
];

function cutText(text: string, max: number): string {
  const points = Array.from(text);
  return points.length <= max ? text : `${points.slice(0, max - 1).join("")}…`;
}

function humanize(key: string): string {
  const text = key.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function notificationTypeOf(event: Pick<NotifiableEvent, "type" | "systemType">): NotificationType {
  if (event.type === "hit") return "new_hits";
  if (event.type === "system") return (event.systemType ?? "integration_created") as NotificationType;
  return event.type;
}

/** The canonical notification for an event (docs/channels.md#the-canonical-notification). */
export function buildNotification(event: NotifiableEvent, accountName: string, publicUrl: string): Notification {
  const data = (event.data ?? {}) as Record<string, unknown>;
  const notificationType = notificationTypeOf(event);
  const title =
    event.type === "system" ? (SYSTEM_SUMMARIES[notificationType] ?? "System event") : SUMMARIES[event.type];
  const lines = [`Notification type: ${notificationType}`];
  const present = (value: unknown) => value !== undefined && value !== null && value !== "";
  for (const [field, label] of DESCRIPTION_FIELDS) {
    if (present(data[field])) lines.push(`${label}: ${String(data[field])}`);
  }
  const subject = data.subject && typeof data.subject === "object" ? (data.subject as Record<string, unknown>) : {};
  for (const [key, value] of Object.entries(subject))
    if (present(value)) lines.push(`${humanize(key)}: ${String(value)}`);
  for (const [field, label, max] of LONG_FIELDS) {
    if (typeof data[field] === "string" && data[field] !== "") lines.push(`${label}:`, cutText(data[field], max));
  }
  const { id: _id, type: _type, occurred_at: _at, ...section } = data;
  const sectionName = event.type === "incident" || event.type === "hit" ? "hit" : event.type;
  const link = eventLink(publicUrl, event.id, event.occurredAt);
  return {
    id: event.id,
    summary: `[Herald] ${title}`,
    description: [...lines, `Link: ${link}`].join("\n"),
    details: {
      client_name: accountName,
      notification_type: notificationType,
      occurred_at: iso(event.occurredAt),
      link,
      [sectionName]: { id: event.id, ...section },
    },
  };
}

/**
 * The event's page: its id and, as a query, its time, which names the one shard that holds it
 * (docs/data-plane.md#reading-events) — a link needs no per-event record to resolve.
 */
export function eventLink(publicUrl: string, id: string, occurredAt: number): string {
  return uiLink(publicUrl, `/events/${id}?occurred_at=${encodeURIComponent(iso(occurredAt))}`);
}
