import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_RETRY_SCHEDULE_SECONDS,
  MAX_RETRY_AFTER_SECONDS,
  maxRequests,
  parseRetrySchedule,
  retryDelayMs,
  scheduleSpanSeconds,
} from "../../worker/domain/retry-schedule";

describe("retry schedule", () => {
  it("is the seed's three cycles: 16 retries, 17 requests", () => {
    const minutes = 60;
    expect(DEFAULT_RETRY_SCHEDULE_SECONDS).toEqual([
      ...[1, 3, 5, 10, 10],
      ...[0, 1, 3, 5, 30],
      ...[1, 1, 3, 5, 10, 30].map((m) => m * minutes),
    ]);
    expect(maxRequests(DEFAULT_RETRY_SCHEDULE_SECONDS)).toBe(17);
    // 29 s + 39 s + 50 min: the product brief's "about 61 minutes" overstates it; the delays are
    // what count (docs/delivery.md#retry-schedule).
    expect(scheduleSpanSeconds(DEFAULT_RETRY_SCHEDULE_SECONDS)).toBe(29 + 39 + 50 * 60);
  });

  it("wraps the default in wrangler.toml's RETRY_SCHEDULE text unchanged", () => {
    expect(parseRetrySchedule("1,3,5,10,10,0,1,3,5,30,60,60,180,300,600,1800")).toEqual([
      ...DEFAULT_RETRY_SCHEDULE_SECONDS,
    ]);
    expect(parseRetrySchedule("")).toEqual([...DEFAULT_RETRY_SCHEDULE_SECONDS]);
    expect(parseRetrySchedule(undefined)).toEqual([...DEFAULT_RETRY_SCHEDULE_SECONDS]);
  });

  it("accepts decimals and spaces (tests run the whole cycle in milliseconds)", () => {
    expect(parseRetrySchedule(" 0.05, 0.1 ,0")).toEqual([0.05, 0.1, 0]);
  });

  it("refuses a malformed schedule naming the entry", () => {
    expect(() => parseRetrySchedule("1,x,3")).toThrow(/entry 2/);
    expect(() => parseRetrySchedule("1,-3")).toThrow(/entry 2/);
    expect(() => parseRetrySchedule("1,,3")).toThrow(/entry 2/);
  });

  it("gives the delay before each of the 16 retries, then null (dead)", () => {
    const delays = Array.from({ length: 17 }, (_, i) => retryDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, i + 1));
    expect(delays).toEqual([
      1000,
      3000,
      5000,
      10_000,
      10_000,
      0,
      1000,
      3000,
      5000,
      30_000,
      60_000,
      60_000,
      180_000,
      300_000,
      600_000,
      1_800_000,
      null,
    ]);
  });

  it("lets Retry-After lengthen a wait but never shorten it", () => {
    expect(retryDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, 1, 7)).toBe(7000); // planned 1 s
    expect(retryDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, 4, 2)).toBe(10_000); // planned 10 s
    expect(retryDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, 6, 0)).toBe(0);
    expect(retryDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, 1, 10 * 86_400)).toBe(MAX_RETRY_AFTER_SECONDS * 1000);
    // Retry-After does not bring a dead delivery back.
    expect(retryDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, 17, 5)).toBeNull();
  });

  it("never waits less than planned, for any Retry-After", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 16 }),
        fc.option(fc.double({ min: -10, max: 1e6, noNaN: true })),
        (n, ra) => {
          const delay = retryDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, n, ra);
          const planned = (DEFAULT_RETRY_SCHEDULE_SECONDS[n - 1] ?? 0) * 1000;
          expect(delay).not.toBeNull();
          expect(delay!).toBeGreaterThanOrEqual(planned);
          if (ra !== null && ra > 0 && ra <= MAX_RETRY_AFTER_SECONDS)
            expect(delay!).toBeGreaterThanOrEqual(Math.round(ra * 1000));
        },
      ),
    );
  });

  it("rejects a nonsensical failure count", () => {
    expect(() => retryDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, 0)).toThrow();
    expect(() => retryDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, 1.5)).toThrow();
  });
});
