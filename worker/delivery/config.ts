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
}

export function readDeliveryConfig(
  env: Pick<
    Env,
    | "RETRY_SCHEDULE"
    | "FAILURE_WINDOW_SECONDS"
    | "FAILURE_RATIO"
    | "FAILURE_MIN_REQUESTS"
    | "DELIVERY_LOG_RETENTION_DAYS"
  >,
): DeliveryConfig {
  const retentionDays = Number(env.DELIVERY_LOG_RETENTION_DAYS || "30");
  return {
    retryScheduleSeconds: parseRetrySchedule(env.RETRY_SCHEDULE),
    failureWindow: parseFailureWindowConfig(env),
    retentionMs: (Number.isFinite(retentionDays) && retentionDays > 0 ? retentionDays : 30) * DAY_MS,
  };
}
