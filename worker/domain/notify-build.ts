import type { StoredEventType } from "../db/schema";
import type { Notification, NotificationType } from "./notification";

/** The part of a stored event row that notifications are built from. */
export interface NotifiableEvent {
  id: string;
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
  integration_auto_disabled: "Integration disabled automatically",
  integration_deleted: "Integration deleted",
  node_created: "Node added",
  node_revoked: "Node revoked",
};

/** Field order for the plain-text description; anything else in the event follows. */
const DESCRIPTION_FIELDS = [
  "risk",
  "title",
  "vuln_type",
  "attack_type",
  "block_status",
  "host",
  "method",
  "path",
  "parameter",
  "remote_addr",
  "remote_country",
  "response_status",
  "change",
  "object_type",
  "value",
  "message",
];

function label(field: string): string {
  const text = field.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function notificationTypeOf(event: Pick<NotifiableEvent, "type" | "systemType">): NotificationType {
  if (event.type === "hit") return "new_hits";
  if (event.type === "system") return (event.systemType ?? "integration_created") as NotificationType;
  return event.type;
}

/** The canonical notification for an event (SPEC §5). */
export function buildNotification(event: NotifiableEvent, accountName: string, publicUrl: string): Notification {
  const data = (event.data ?? {}) as Record<string, unknown>;
  const notificationType = notificationTypeOf(event);
  const title =
    event.type === "system" ? (SYSTEM_SUMMARIES[notificationType] ?? "System event") : SUMMARIES[event.type];
  const lines = [`Notification type: ${notificationType}`];
  for (const field of DESCRIPTION_FIELDS) {
    const value = data[field];
    if (value !== undefined && value !== null && value !== "") lines.push(`${label(field)}: ${String(value)}`);
  }
  const { id: _id, type: _type, occurred_at: _at, ...section } = data;
  const sectionName = event.type === "incident" || event.type === "hit" ? "hit" : event.type;
  return {
    id: event.id,
    summary: `[Herald] ${title}`,
    description: lines.join("\n"),
    details: {
      client_name: accountName,
      notification_type: notificationType,
      occurred_at: new Date(event.occurredAt).toISOString(),
      link: `${publicUrl.replace(/\/$/, "")}/events/${event.id}`,
      [sectionName]: { id: event.id, ...section },
    },
  };
}
