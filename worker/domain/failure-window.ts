/**
 * The rolling failure window (docs/delivery.md): an integration is disabled automatically when, within the
 * last FAILURE_WINDOW_SECONDS (12 h), at least FAILURE_RATIO (60 %) of its requests failed, counted
 * once the window holds at least FAILURE_MIN_REQUESTS (20) requests.
 *
 * Requests are counted in fixed time buckets (5 minutes for a 12-hour window: 144 buckets) so the
 * window costs a few rows, however many requests it holds. The window at time `now` is the bucket
 * containing `now` and the buckets before it, `bucketCount` in all; a bucket ages out as a whole
 * once it is `bucketCount` buckets old. Pure: no clock, no I/O.
 */
export interface FailureWindowConfig {
  windowMs: number;
  /** Failed share at or above which the integration is disabled, 0 < ratio ≤ 1. */
  ratio: number;
  /** Fewest requests in the window before the ratio counts at all. */
  minRequests: number;
}

export interface WindowBucket {
  /** Start of the bucket, epoch ms (a multiple of the bucket size). */
  start: number;
  total: number;
  failed: number;
}

interface WindowTotals {
  total: number;
  failed: number;
  /** failed / total, 0 for an empty window. */
  failureRatio: number;
}

export const DEFAULT_FAILURE_WINDOW: FailureWindowConfig = {
  windowMs: 43_200_000,
  ratio: 0.6,
  minRequests: 20,
};

/** Buckets per window: 144 (5 minutes each for 12 hours), fewer for windows under 144 seconds. */
const TARGET_BUCKETS = 144;

function parseNumber(text: string | undefined, name: string, fallback: number, valid: (n: number) => boolean) {
  if (text === undefined || text.trim() === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || !valid(value)) throw new Error(`${name} has an invalid value: "${text}"`);
  return value;
}

/** Reads FAILURE_WINDOW_SECONDS, FAILURE_RATIO and FAILURE_MIN_REQUESTS (blank: the defaults). */
export function parseFailureWindowConfig(vars: {
  FAILURE_WINDOW_SECONDS?: string;
  FAILURE_RATIO?: string;
  FAILURE_MIN_REQUESTS?: string;
}): FailureWindowConfig {
  return {
    windowMs:
      parseNumber(
        vars.FAILURE_WINDOW_SECONDS,
        "FAILURE_WINDOW_SECONDS",
        DEFAULT_FAILURE_WINDOW.windowMs / 1000,
        (n) => n >= 1,
      ) * 1000,
    ratio: parseNumber(vars.FAILURE_RATIO, "FAILURE_RATIO", DEFAULT_FAILURE_WINDOW.ratio, (n) => n > 0 && n <= 1),
    minRequests: parseNumber(
      vars.FAILURE_MIN_REQUESTS,
      "FAILURE_MIN_REQUESTS",
      DEFAULT_FAILURE_WINDOW.minRequests,
      (n) => Number.isInteger(n) && n >= 1,
    ),
  };
}

/** How many buckets the window spans: 144, or one per second for windows shorter than that. */
export function bucketCount(config: Pick<FailureWindowConfig, "windowMs">): number {
  return Math.max(1, Math.min(TARGET_BUCKETS, Math.floor(config.windowMs / 1000)));
}

/** Bucket size in ms: the window divided into bucketCount buckets (rounded up to whole ms). */
export function bucketSizeMs(config: Pick<FailureWindowConfig, "windowMs">): number {
  return Math.ceil(config.windowMs / bucketCount(config));
}

/** The start of the bucket a request made at `time` is counted in. */
export function bucketStartFor(time: number, config: Pick<FailureWindowConfig, "windowMs">): number {
  const size = bucketSizeMs(config);
  return Math.floor(time / size) * size;
}

/** The oldest bucket start still inside the window at `now`; older buckets may be pruned. */
export function windowStart(now: number, config: Pick<FailureWindowConfig, "windowMs">): number {
  return bucketStartFor(now, config) - (bucketCount(config) - 1) * bucketSizeMs(config);
}

/** Requests and failures in the window at `now`, from whatever buckets are stored. */
export function windowTotals(
  buckets: readonly WindowBucket[],
  now: number,
  config: Pick<FailureWindowConfig, "windowMs">,
): WindowTotals {
  const from = windowStart(now, config);
  const to = bucketStartFor(now, config);
  let total = 0;
  let failed = 0;
  for (const bucket of buckets) {
    if (bucket.start < from || bucket.start > to) continue;
    total += bucket.total;
    failed += bucket.failed;
  }
  return { total, failed, failureRatio: total === 0 ? 0 : failed / total };
}

/**
 * The auto-disable rule. `failed / total >= ratio` is exact at the edge: IEEE division is
 * correctly rounded, so 12/20 and the literal 0.6 are the same double.
 */
export function shouldAutoDisable(
  totals: Pick<WindowTotals, "total" | "failed">,
  config: FailureWindowConfig,
): boolean {
  if (totals.total < config.minRequests || totals.total === 0) return false;
  return totals.failed / totals.total >= config.ratio;
}

interface SuccessRatePoint {
  /** Bucket start, epoch ms. */
  start: number;
  total: number;
  failed: number;
  /** Share of successful requests in the bucket; null when it saw no request. */
  successRate: number | null;
}

/** One point per bucket of the window, oldest first, empty buckets included (for the UI chart). */
export function successRateSeries(
  buckets: readonly WindowBucket[],
  now: number,
  config: Pick<FailureWindowConfig, "windowMs">,
): SuccessRatePoint[] {
  const size = bucketSizeMs(config);
  const from = windowStart(now, config);
  const byStart = new Map(buckets.map((b) => [b.start, b]));
  const points: SuccessRatePoint[] = [];
  for (let start = from; start <= bucketStartFor(now, config); start += size) {
    const bucket = byStart.get(start);
    const total = bucket?.total ?? 0;
    const failed = bucket?.failed ?? 0;
    points.push({ start, total, failed, successRate: total === 0 ? null : (total - failed) / total });
  }
  return points;
}
