/**
 * The retry schedule (docs/delivery.md#retry-schedule): after a failed request, wait the next
 * delay of the schedule and try again; once every delay is used up the delivery is dead. The
 * seed's three cycles, in seconds:
 *   cycle 1: 1, 3, 5, 10, 10      cycle 2: 0, 1, 3, 5, 30      cycle 3: 60, 60, 180, 300, 600, 1800
 * = 16 retries, 17 requests. Pure: no clock, no I/O.
 */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = [
  1, 3, 5, 10, 10, 0, 1, 3, 5, 30, 60, 60, 180, 300, 600, 1800,
];

/**
 * A receiver may ask for a longer wait (Retry-After) but not for one that parks the queue for
 * days: beyond this the request would outlive the delivery log anyway.
 */
export const MAX_RETRY_AFTER_SECONDS = 24 * 3600;

/**
 * Parses RETRY_SCHEDULE ("1,3,5,..." seconds, decimals allowed so tests can run the whole cycle
 * in well under a second). Blank means the default; anything malformed is a deployment error and
 * throws naming the entry, rather than silently retrying on a schedule nobody configured.
 */
export function parseRetrySchedule(text: string | undefined | null): number[] {
  if (text === undefined || text === null || text.trim() === "") return [...DEFAULT_RETRY_SCHEDULE_SECONDS];
  return text.split(",").map((part, index) => {
    const trimmed = part.trim();
    const seconds = Number(trimmed);
    if (trimmed === "" || !Number.isFinite(seconds) || seconds < 0) {
      throw new Error(`RETRY_SCHEDULE entry ${index + 1} ("${part}") is not a number of seconds ≥ 0`);
    }
    return seconds;
  });
}

/** How many requests a delivery gets in total: the first one plus one per retry. */
export function maxRequests(schedule: readonly number[]): number {
  return schedule.length + 1;
}

/**
 * The wait before the next request, in milliseconds, after `failedRequests` requests of the
 * current cycle failed (1 after the first request failed); null when the last retry failed and
 * the delivery is dead. `retryAfterSeconds` (the receiver's Retry-After) lengthens the wait,
 * never shortens it.
 */
export function retryDelayMs(
  schedule: readonly number[],
  failedRequests: number,
  retryAfterSeconds?: number | null,
): number | null {
  if (!Number.isInteger(failedRequests) || failedRequests < 1) {
    throw new Error(`failedRequests must be a positive integer, got ${failedRequests}`);
  }
  const planned = schedule[failedRequests - 1];
  if (planned === undefined) return null;
  const asked =
    retryAfterSeconds !== undefined && retryAfterSeconds !== null && Number.isFinite(retryAfterSeconds)
      ? Math.min(Math.max(retryAfterSeconds, 0), MAX_RETRY_AFTER_SECONDS)
      : 0;
  return Math.round(Math.max(planned, asked) * 1000);
}

/** Total planned time from the first request to the last one (no Retry-After), in seconds. */
export function scheduleSpanSeconds(schedule: readonly number[]): number {
  return schedule.reduce((sum, seconds) => sum + seconds, 0);
}
