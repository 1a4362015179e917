import type { Notification } from "../domain/notification";

/** What fan-out hands to an IntegrationDO: one notification, stored in its outbox before enqueue returns. */
export interface OutboxItem {
  notification: Notification;
  /** The event it came from (for replay and the delivery log); absent for reports. */
  eventId?: string;
  /** Set for report notifications: the channel loads the PDF by this id when it sends. */
  reportId?: string;
}
