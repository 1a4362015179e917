import type { Db } from "../db/client";
import { systemEventOutbox } from "../db/schema";
import { uuidv7 } from "../lib/ids";
import { iso } from "../lib/time";

/** Events Herald raises itself (category `system`, docs/api.md#integrations). */
export const SYSTEM_EVENT_TYPES = [
  "user_created",
  "user_deleted",
  "user_role_changed",
  "integration_created",
  "integration_disabled",
  "integration_enabled",
  "integration_auto_disabled",
  "integration_deleted",
  "node_created",
  "node_revoked",
  "scheduled_report_failed",
  "notifications_held_back",
] as const;
export type SystemEventType = (typeof SYSTEM_EVENT_TYPES)[number];

export interface SystemEventData {
  type: "system";
  system_type: SystemEventType;
  occurred_at: string;
  /** Who did it ("Herald" for automatic changes). */
  actor: string;
  /** One sentence a person reads in the notification. */
  message: string;
  /** The object concerned and figures, e.g. {integration_id, integration_name, failure_ratio}. */
  subject: Record<string, string | number | boolean | null>;
}

/** A system event as the D1 outbox `system_event_outbox` holds it until it is published. */
export type SystemEventRow = typeof systemEventOutbox.$inferInsert & {
  systemType: SystemEventType;
  data: SystemEventData;
};

export function buildSystemEvent(
  accountId: string,
  systemType: SystemEventType,
  actor: string,
  message: string,
  subject: SystemEventData["subject"],
  now = Date.now(),
): SystemEventRow {
  return {
    accountId,
    id: uuidv7(now),
    occurredAt: now,
    systemType,
    createdAt: now,
    data: {
      type: "system",
      system_type: systemType,
      occurred_at: iso(now),
      actor,
      message,
      subject,
    },
  };
}

/**
 * The outbox row of a system event, to batch atomically with the change that raised it; then
 * `publishSystemEvents` (worker/ingest/publish-system-events.ts) stores it with the account's events.
 */
export function systemEventOutboxInsert(db: Db, row: SystemEventRow) {
  return db.insert(systemEventOutbox).values(row);
}
