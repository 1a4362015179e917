// OutboxItem is defined with the notification (worker/domain/notification.ts), so producers (ingest,
// reports) need not import delivery/. Kept for delivery/send.ts, whose import moves with its rework.
export type { OutboxItem } from "../domain/notification";
