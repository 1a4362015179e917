/**
 * What the IntegrationDO answers over RPC, in its own terms: times are epoch milliseconds, as in
 * its storage. The HTTP layer (worker/routes/deliveries.ts) shapes the API from these, with the
 * API's zod schemas as the one definition of what clients see.
 */
export const DELIVERY_STATES = ["pending", "delivered", "dead", "dropped"] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export interface AttemptView {
  /** 1 for the first request of the delivery. */
  number: number;
  at: number;
  /** When the request was due (the retry schedule's time); `at` minus this is the lateness. */
  planned_at: number | null;
  ok: boolean;
  status: number | null;
  /** "status" | "network" | "timeout" | "invalid_settings" | "interrupted"; null on success. */
  error_kind: string | null;
  error: string | null;
  latency_ms: number;
  retry_after_seconds: number | null;
  /** The request body as sent, secrets redacted by the channel (truncated when very large). */
  request_body: string;
}

interface NotificationSummary {
  id: string;
  summary: string;
  notification_type: string;
  event_id: string | null;
}

export interface DeliveryView {
  id: string;
  state: DeliveryState;
  /** True while a request of this delivery is on the wire. */
  in_flight: boolean;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  /** Pending only: when the next request is due. */
  next_attempt_at: number | null;
  /** Requests made so far (all cycles). */
  requests: number;
  /** Set when this delivery is an admin's replay of an earlier one. */
  replay_of: string | null;
  notifications: NotificationSummary[];
  attempts: AttemptView[];
}

export interface DeliveryPage {
  deliveries: DeliveryView[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  next_cursor: string | null;
  /** Notifications waiting behind the pending deliveries, not yet in a request. */
  queued_notifications: number;
  paused: boolean;
}

export interface HealthView {
  paused: boolean;
  /** Why sending is paused: a DisableReason (worker/db/schema.ts), or "missing". */
  paused_reason: string | null;
  window: {
    seconds: number;
    requests: number;
    failed: number;
    failure_ratio: number;
    /** The auto-disable rule's figures, for the UI to show how close it is. */
    threshold_ratio: number;
    min_requests: number;
  };
  /** One point per window bucket, oldest first; success_rate null where no request was made. */
  success_rate_series: { start: number; requests: number; failed: number; success_rate: number | null }[];
  latency_ms: { p50: number | null; p95: number | null };
  last_error: { at: number; status: number | null; error: string } | null;
  last_success_at: number | null;
  /** Notifications not yet delivered (in pending deliveries or queued behind them). */
  pending_notifications: number;
  pending_deliveries: number;
  dead_deliveries: number;
}

/** Requests in a period (a report's), as far back as the attempt log reaches. */
export interface PeriodHealth {
  /** The part of the asked period the log covers: from the later of its start and the log's horizon. */
  from: number;
  to: number;
  requests: number;
  failed: number;
}

export interface ReplayResult {
  /** The new deliveries queued (one per replayed delivery). */
  delivery_ids: string[];
  /** True when the integration is disabled: the replays wait until it is enabled. */
  paused: boolean;
}
