import { type FailureWindowConfig, parseFailureWindowConfig } from "../domain/failure-window";
import { parseRetrySchedule } from "../domain/retry-schedule";
import type { Env } from "../env";
import { DAY_MS } from "../lib/time";

/** The delivery engine's deployment settings (all timings come from configuration: docs/delivery.md). */
export interface DeliveryConfig {
  /** Seconds to wait before each retry; its length is the number of retries. */
  retryScheduleSeconds: number[];
  failureWindow: FailureWindowConfig;
  /** Attempts, finished deliveries and the dedupe memory are kept this long. */
  retentionMs: number;
  /** …and for the newest this many notifications at most (docs/delivery.md#retention). */
  maxLogNotifications: number;
}

/** About 2 GB of history at the ~2 KB a delivered notification takes with its share of the log. */
const DEFAULT_MAX_LOG_NOTIFICATIONS = 1_000_000;

export function readDeliveryConfig(
  env: Pick<
    Env,
    | "RETRY_SCHEDULE"
    | "FAILURE_WINDOW_SECONDS"
    | "FAILURE_RATIO"
    | "FAILURE_MIN_REQUESTS"
    | "DELIVERY_LOG_RETENTION_DAYS"
    | "DELIVERY_LOG_MAX_NOTIFICATIONS"
  >,
): DeliveryConfig {
  const retentionDays = Number(env.DELIVERY_LOG_RETENTION_DAYS || "30");
  const maxLog = Number(env.DELIVERY_LOG_MAX_NOTIFICATIONS || DEFAULT_MAX_LOG_NOTIFICATIONS);
  return {
    retryScheduleSeconds: parseRetrySchedule(env.RETRY_SCHEDULE),
    failureWindow: parseFailureWindowConfig(env),
    retentionMs: (Number.isFinite(retentionDays) && retentionDays > 0 ? retentionDays : 30) * DAY_MS,
    maxLogNotifications: Number.isInteger(maxLog) && maxLog > 0 ? maxLog : DEFAULT_MAX_LOG_NOTIFICATIONS,
  };
}
