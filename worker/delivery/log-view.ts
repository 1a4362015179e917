import { successRateSeries, windowStart, windowTotals } from "../domain/failure-window";
import type { DeliveryConfig } from "./config";
import type { AttemptRow, DeliveryRow, DeliveryStore } from "./store";
import type { AttemptView, DeliveryPage, DeliveryState, DeliveryView, HealthView } from "./views";

export interface ListQuery {
  state?: DeliveryState;
  /** From a previous page's next_cursor: deliveries older than this one. */
  cursor?: string;
  limit: number;
}

function attemptView(row: AttemptRow): AttemptView {
  return {
    number: row.number,
    at: row.started_at,
    planned_at: row.planned_at,
    ok: row.ok === 1,
    status: row.status,
    error_kind: row.kind,
    error: row.error,
    latency_ms: row.latency_ms,
    retry_after_seconds: row.retry_after,
    request_body: row.request_body,
  };
}

function deliveryView(store: DeliveryStore, row: DeliveryRow, now: number): DeliveryView {
  return {
    id: row.id,
    state: row.state as DeliveryState,
    in_flight: row.state === "pending" && row.lease_until !== null && row.lease_until > now,
    created_at: row.created_at,
    updated_at: row.updated_at,
    finished_at: row.finished_at,
    next_attempt_at: row.state === "pending" ? row.next_attempt_at : null,
    requests: row.requests,
    replay_of: row.replay_of,
    notifications: store.itemsOf(row.seq).map((item) => ({
      id: item.notification.id,
      summary: item.notification.summary,
      notification_type: item.notification.details.notification_type,
      event_id: item.eventId ?? null,
    })),
    attempts: store.attemptsOf(row.seq).map(attemptView),
  };
}

/** A page of the delivery log, newest first. */
export function deliveryPage(store: DeliveryStore, query: ListQuery, paused: boolean, now = Date.now()): DeliveryPage {
  const before = query.cursor ? Number(query.cursor) : null;
  const rows = store.listDeliveries(query.state ?? null, before, query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    deliveries: page.map((row) => deliveryView(store, row, now)),
    next_cursor: rows.length > query.limit && last ? String(last.seq) : null,
    queued_notifications: store.queuedCount(),
    paused,
  };
}

/** The integration's health for the UI: the failure window, its chart, latency, last error, backlog. */
export function healthView(
  store: DeliveryStore,
  now: number,
  config: DeliveryConfig,
  pausedReason: string | null,
): HealthView {
  const windowConfig = config.failureWindow;
  const buckets = store.buckets();
  const totals = windowTotals(buckets, now, windowConfig);
  const since = windowStart(now, windowConfig);
  const lastError = store.lastAttempt(false);
  const lastSuccess = store.lastAttempt(true);
  return {
    paused: pausedReason !== null,
    paused_reason: pausedReason,
    window: {
      seconds: windowConfig.windowMs / 1000,
      requests: totals.total,
      failed: totals.failed,
      failure_ratio: totals.failureRatio,
      threshold_ratio: windowConfig.ratio,
      min_requests: windowConfig.minRequests,
    },
    success_rate_series: successRateSeries(buckets, now, windowConfig).map((point) => ({
      start: point.start,
      requests: point.total,
      failed: point.failed,
      success_rate: point.successRate,
    })),
    latency_ms: { p50: store.latencyPercentile(since, 0.5), p95: store.latencyPercentile(since, 0.95) },
    last_error: lastError
      ? { at: lastError.started_at, status: lastError.status, error: lastError.error ?? "failed" }
      : null,
    last_success_at: lastSuccess?.started_at ?? null,
    pending_notifications: store.pendingNotificationCount(),
    pending_deliveries: store.countByState("pending"),
    dead_deliveries: store.countByState("dead"),
  };
}
