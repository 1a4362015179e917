import { SYSTEM_EVENT_TYPES } from "./system-events";

/** What triggers send (worker/domain/trigger-notifications.ts). */
export const TRIGGER_NOTIFICATION_TYPES = [
  "trigger_threshold",
  "trigger_event",
  "node_silent",
  "node_recovered",
] as const;
/** An admin closed or reopened a security issue (worker/domain/security-issue-notifications.ts). */
export const ISSUE_STATUS_NOTIFICATION_TYPES = ["security_issue_closed", "security_issue_reopened"] as const;

/**
 * The canonical notification (docs/channels.md): what webhook, Splunk, Sumo Logic and InsightConnect
 * receive as is, and what every other channel renders from. Built once per (event, account)
 * at fan-out time and stored in the integration's outbox, so a retry sends the same content.
 */
const NOTIFICATION_TYPES = [
  "security_issue",
  "new_hits",
  "incident",
  "scope_change",
  "report_daily",
  "report_weekly",
  "report_monthly",
  ...SYSTEM_EVENT_TYPES,
  ...TRIGGER_NOTIFICATION_TYPES,
  ...ISSUE_STATUS_NOTIFICATION_TYPES,
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

interface NotificationDetails {
  client_name: string;
  notification_type: NotificationType;
  occurred_at: string;
  link: string;
  /**
   * One of these, by type: security_issue, hit (for new_hits and incident), scope_change, system,
   * report; trigger notices carry trigger plus threshold or node, and incident_key / incident_action
   * (worker/domain/incident-key.ts).
   */
  [section: string]: unknown;
}

export interface Notification {
  /** Unique per notification; the event id for event notifications. */
  id: string;
  summary: string;
  description: string;
  details: NotificationDetails;
}

/** A report attached to a report notification, for channels that carry the PDF or the JSON. */
export interface ReportAttachment {
  reportId: string;
  /** File name for the PDF, e.g. "herald-daily-2026-11-28.pdf". */
  fileName: string;
  /** Loaded lazily by the channel that needs it (email, Telegram), never stored in the outbox. */
  loadPdf: () => Promise<Uint8Array>;
}

/**
 * A notification addressed to one integration's outbox, with where it came from: what fan-out and
 * the report job hand to IntegrationDO.enqueue, stored before enqueue returns.
 */
export interface OutboxItem {
  notification: Notification;
  /** The event it came from (for replay and the delivery log); absent for reports. */
  eventId?: string;
  /** Set for report notifications: the channel loads the PDF by this id when it sends. */
  reportId?: string;
  /**
   * Set on a copy handed to a fallback integration: the integration whose dead delivery carried
   * the original. Such a copy is never handed on again when it dies too (docs/delivery.md#fallback).
   */
  fallbackFrom?: string;
}
