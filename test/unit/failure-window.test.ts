import { describe, expect, it } from "vitest";
import {
  bucketCount,
  bucketSizeMs,
  bucketStartFor,
  DEFAULT_FAILURE_WINDOW,
  type FailureWindowConfig,
  parseFailureWindowConfig,
  shouldAutoDisable,
  successRateSeries,
  type WindowBucket,
  windowStart,
  windowTotals,
} from "../../worker/domain/failure-window";

const config: FailureWindowConfig = DEFAULT_FAILURE_WINDOW;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
// A bucket boundary, so the arithmetic below is easy to follow.
const T0 = Date.UTC(2026, 10, 29, 12, 0, 0);

/** Records `results` (true = success) at `time` into buckets, as the IntegrationDO does. */
function record(buckets: Map<number, WindowBucket>, time: number, results: boolean[]) {
  const start = bucketStartFor(time, config);
  const bucket = buckets.get(start) ?? { start, total: 0, failed: 0 };
  for (const ok of results) {
    bucket.total++;
    if (!ok) bucket.failed++;
  }
  buckets.set(start, bucket);
}

const outcomes = (failed: number, succeeded: number) => [
  ...Array<boolean>(failed).fill(false),
  ...Array<boolean>(succeeded).fill(true),
];

describe("failure window", () => {
  it("is 144 buckets of 5 minutes for 12 hours, one-second buckets for short test windows", () => {
    expect(bucketCount(config)).toBe(144);
    expect(bucketSizeMs(config)).toBe(5 * MINUTE);
    expect(bucketSizeMs({ windowMs: 60_000 })).toBe(1000);
    expect(bucketCount({ windowMs: 60_000 })).toBe(60);
    expect(bucketStartFor(T0 + 4 * MINUTE + 59_999, config)).toBe(T0);
    expect(bucketStartFor(T0 + 5 * MINUTE, config)).toBe(T0 + 5 * MINUTE);
  });

  it("disables at exactly 60 % and not at 59.9 %", () => {
    expect(shouldAutoDisable({ total: 1000, failed: 600 }, config)).toBe(true);
    expect(shouldAutoDisable({ total: 1000, failed: 599 }, config)).toBe(false);
    expect(shouldAutoDisable({ total: 20, failed: 12 }, config)).toBe(true);
    expect(shouldAutoDisable({ total: 20, failed: 11 }, config)).toBe(false);
    expect(shouldAutoDisable({ total: 5, failed: 3 }, { ...config, minRequests: 5 })).toBe(true);
  });

  it("does not count until the window holds the minimum number of requests", () => {
    expect(shouldAutoDisable({ total: 19, failed: 19 }, config)).toBe(false);
    expect(shouldAutoDisable({ total: 20, failed: 20 }, config)).toBe(true);
    expect(shouldAutoDisable({ total: 0, failed: 0 }, { ...config, minRequests: 1 })).toBe(false);
  });

  it("sums the buckets within 12 hours and lets older buckets age out whole", () => {
    const buckets = new Map<number, WindowBucket>();
    record(buckets, T0, outcomes(12, 0)); // the oldest bucket
    record(buckets, T0 + 6 * HOUR, outcomes(0, 8));
    // At the last moment of the window the oldest bucket still counts: 12 of 20 failed.
    const lastMoment = T0 + 12 * HOUR - 1;
    expect(windowTotals([...buckets.values()], lastMoment, config)).toEqual({
      total: 20,
      failed: 12,
      failureRatio: 0.6,
    });
    expect(shouldAutoDisable(windowTotals([...buckets.values()], lastMoment, config), config)).toBe(true);
    // One bucket later (12 hours after it started) it has aged out.
    const aged = windowTotals([...buckets.values()], T0 + 12 * HOUR, config);
    expect(aged).toEqual({ total: 8, failed: 0, failureRatio: 0 });
    expect(windowStart(T0 + 12 * HOUR, config)).toBe(T0 + 5 * MINUTE);
  });

  it("ignores buckets from the future (a clock that went backwards)", () => {
    const buckets: WindowBucket[] = [{ start: T0 + HOUR, total: 50, failed: 50 }];
    expect(windowTotals(buckets, T0, config).total).toBe(0);
  });

  it("tips over exactly when one more failure reaches the ratio", () => {
    const buckets = new Map<number, WindowBucket>();
    record(buckets, T0, outcomes(11, 9));
    expect(shouldAutoDisable(windowTotals([...buckets.values()], T0, config), config)).toBe(false);
    record(buckets, T0 + MINUTE, outcomes(1, 0)); // 12 of 21 = 57 %
    expect(shouldAutoDisable(windowTotals([...buckets.values()], T0 + MINUTE, config), config)).toBe(false);
    record(buckets, T0 + 2 * MINUTE, outcomes(1, 0)); // 13 of 22 = 59.09 %
    expect(shouldAutoDisable(windowTotals([...buckets.values()], T0 + 2 * MINUTE, config), config)).toBe(false);
    record(buckets, T0 + 3 * MINUTE, outcomes(2, 0)); // 15 of 24 = 62.5 %
    expect(shouldAutoDisable(windowTotals([...buckets.values()], T0 + 3 * MINUTE, config), config)).toBe(true);
  });

  it("reads its three settings, with defaults, and refuses nonsense", () => {
    expect(parseFailureWindowConfig({})).toEqual(DEFAULT_FAILURE_WINDOW);
    expect(
      parseFailureWindowConfig({ FAILURE_WINDOW_SECONDS: "60", FAILURE_RATIO: "0.5", FAILURE_MIN_REQUESTS: "4" }),
    ).toEqual({ windowMs: 60_000, ratio: 0.5, minRequests: 4 });
    expect(() => parseFailureWindowConfig({ FAILURE_RATIO: "60" })).toThrow(/FAILURE_RATIO/);
    expect(() => parseFailureWindowConfig({ FAILURE_MIN_REQUESTS: "2.5" })).toThrow(/FAILURE_MIN_REQUESTS/);
    expect(() => parseFailureWindowConfig({ FAILURE_WINDOW_SECONDS: "abc" })).toThrow(/FAILURE_WINDOW_SECONDS/);
  });

  it("gives the chart one point per bucket, null where nothing was sent", () => {
    const buckets = new Map<number, WindowBucket>();
    const now = T0 + 12 * HOUR - 1;
    record(buckets, now, outcomes(1, 3));
    const series = successRateSeries([...buckets.values()], now, config);
    expect(series).toHaveLength(144);
    expect(series[0]?.start).toBe(windowStart(now, config));
    expect(series.at(-1)).toEqual({ start: bucketStartFor(now, config), total: 4, failed: 1, successRate: 0.75 });
    expect(series[0]?.successRate).toBeNull();
  });
});
