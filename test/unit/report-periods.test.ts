import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  addDays,
  bucketIndex,
  isPeriodStart,
  isValidTimeZone,
  localDateOf,
  localDayStartMs,
  parseLocalDate,
  periodAt,
  periodDays,
  periodHours,
  periodOf,
  periodsEndedBetween,
  previousPeriod,
  rollupRange,
  timeBuckets,
} from "../../worker/domain/report-periods";

const iso = (ms: number) => new Date(ms).toISOString();
const HOUR = 3_600_000;

describe("local dates", () => {
  it("accepts only real calendar dates", () => {
    expect(parseLocalDate("2024-02-29")).toEqual({ year: 2024, month: 2, day: 29 });
    expect(parseLocalDate("2025-02-29")).toBeNull();
    expect(parseLocalDate("2100-02-29")).toBeNull();
    expect(parseLocalDate("2000-02-29")).not.toBeNull();
    expect(parseLocalDate("2026-04-31")).toBeNull();
    expect(parseLocalDate("2026-1-05")).toBeNull();
  });

  it("moves across month and year ends", () => {
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(addDays("2024-03-01", -1)).toBe("2024-02-29");
    expect(addDays("2025-03-01", -1)).toBe("2025-02-28");
  });

  it("knows time zones", () => {
    expect(isValidTimeZone("Europe/Berlin")).toBe(true);
    expect(isValidTimeZone("UTC")).toBe(true);
    expect(isValidTimeZone("Mars/Olympus_Mons")).toBe(false);
  });

  it("reads the same instant as different dates in different zones", () => {
    const instant = Date.parse("2026-11-28T23:30:00Z");
    expect(localDateOf(instant, "Asia/Tokyo")).toBe("2026-11-29");
    expect(localDateOf(instant, "America/Los_Angeles")).toBe("2026-11-28");
    expect(localDateOf(instant, "UTC")).toBe("2026-11-28");
  });
});

describe("daily periods", () => {
  it("is the local day in UTC", () => {
    const day = periodOf("daily", "2026-11-28", "UTC");
    expect(iso(day.startMs)).toBe("2026-11-28T00:00:00.000Z");
    expect(iso(day.endMs)).toBe("2026-11-29T00:00:00.000Z");
    expect(day.end).toBe("2026-11-28");
  });

  it("has 23 hours on the spring-forward day and 25 on the fall-back day (Europe/Berlin)", () => {
    const spring = periodOf("daily", "2026-03-29", "Europe/Berlin");
    expect(iso(spring.startMs)).toBe("2026-03-28T23:00:00.000Z");
    expect(iso(spring.endMs)).toBe("2026-03-29T22:00:00.000Z");
    expect(periodHours(spring)).toBe(23);
    const fall = periodOf("daily", "2026-10-25", "Europe/Berlin");
    expect(iso(fall.startMs)).toBe("2026-10-24T22:00:00.000Z");
    expect(iso(fall.endMs)).toBe("2026-10-25T23:00:00.000Z");
    expect(periodHours(fall)).toBe(25);
  });

  it("follows America/New_York's own DST dates", () => {
    expect(periodHours(periodOf("daily", "2026-03-08", "America/New_York"))).toBe(23);
    expect(periodHours(periodOf("daily", "2026-11-01", "America/New_York"))).toBe(25);
    expect(periodHours(periodOf("daily", "2026-03-29", "America/New_York"))).toBe(24);
  });

  it("starts at the jump when DST skips midnight (America/Santiago)", () => {
    // Chile springs forward at 24:00 on the first Saturday of September: 2026-09-06 starts at 01:00 (-03).
    const skipped = periodOf("daily", "2026-09-06", "America/Santiago");
    expect(iso(skipped.startMs)).toBe("2026-09-06T04:00:00.000Z");
    expect(periodHours(skipped)).toBe(23);
    expect(periodOf("daily", "2026-09-05", "America/Santiago").endMs).toBe(skipped.startMs);
    // ...and falls back at 24:00 on the first Saturday of April: that Saturday has 25 hours.
    expect(periodHours(periodOf("daily", "2026-04-04", "America/Santiago"))).toBe(25);
  });

  it("ends half-hour zones on the nearest rollup hour, sharing the boundary with the next day", () => {
    const day = periodOf("daily", "2026-11-28", "Asia/Kolkata");
    expect(iso(day.startMs)).toBe("2026-11-27T18:30:00.000Z");
    const range = rollupRange(day);
    expect(iso(range.fromHour)).toBe("2026-11-27T19:00:00.000Z");
    expect(iso(range.toHour)).toBe("2026-11-28T19:00:00.000Z");
    expect(rollupRange(periodOf("daily", "2026-11-29", "Asia/Kolkata")).fromHour).toBe(range.toHour);
    expect(timeBuckets(day)[0]?.label).toBe("00:30");
  });
});

describe("weekly periods", () => {
  it("runs Monday to Sunday", () => {
    const week = periodOf("weekly", "2026-11-28", "UTC"); // a Saturday
    expect(week.start).toBe("2026-11-23");
    expect(week.end).toBe("2026-11-29");
    expect(periodDays(week)).toBe(7);
    expect(periodOf("weekly", "2026-11-29", "UTC").start).toBe("2026-11-23"); // Sunday
    expect(periodOf("weekly", "2026-11-30", "UTC").start).toBe("2026-11-30"); // Monday
  });

  it("crosses a year end", () => {
    const week = periodOf("weekly", "2027-01-01", "Europe/Berlin");
    expect(week.start).toBe("2026-12-28");
    expect(week.end).toBe("2027-01-03");
    expect(iso(week.startMs)).toBe("2026-12-27T23:00:00.000Z");
  });

  it("is 167 hours in the week of a spring-forward change", () => {
    expect(periodHours(periodOf("weekly", "2026-03-29", "Europe/Berlin"))).toBe(167);
  });

  it("knows which dates start a period", () => {
    expect(isPeriodStart("weekly", "2026-11-23")).toBe(true);
    expect(isPeriodStart("weekly", "2026-11-24")).toBe(false);
    expect(isPeriodStart("monthly", "2026-11-01")).toBe(true);
    expect(isPeriodStart("monthly", "2026-11-02")).toBe(false);
    expect(isPeriodStart("daily", "2026-11-02")).toBe(true);
    expect(isPeriodStart("daily", "2026-02-30")).toBe(false);
  });
});

describe("monthly periods", () => {
  it("ends on the month's last day, leap years included", () => {
    expect(periodOf("monthly", "2028-02-10", "UTC").end).toBe("2028-02-29");
    expect(periodDays(periodOf("monthly", "2028-02-10", "UTC"))).toBe(29);
    expect(periodOf("monthly", "2026-02-10", "UTC").end).toBe("2026-02-28");
    expect(periodOf("monthly", "2100-02-10", "UTC").end).toBe("2100-02-28");
    expect(periodOf("monthly", "2026-01-31", "UTC").end).toBe("2026-01-31");
    expect(periodOf("monthly", "2026-04-15", "UTC").end).toBe("2026-04-30");
  });

  it("compares with the previous calendar month", () => {
    const march = periodOf("monthly", "2024-03-31", "UTC");
    const february = previousPeriod(march);
    expect(february.start).toBe("2024-02-01");
    expect(february.end).toBe("2024-02-29");
    expect(february.endMs).toBe(march.startMs);
    expect(previousPeriod(periodOf("monthly", "2027-01-05", "UTC")).start).toBe("2026-12-01");
  });

  it("loses an hour in a month with a spring-forward change", () => {
    expect(periodHours(periodOf("monthly", "2026-03-01", "Europe/Berlin"))).toBe(31 * 24 - 1);
    expect(timeBuckets(periodOf("monthly", "2026-03-01", "Europe/Berlin"))).toHaveLength(31);
  });
});

describe("periods that ended since an instant", () => {
  it("finds the days, week and month that ended in a window, oldest first", () => {
    // 2026-12-01 00:05 in Berlin (23:05 UTC the day before).
    const now = Date.parse("2026-11-30T23:05:00Z");
    const days = periodsEndedBetween("daily", "Europe/Berlin", now - 72 * HOUR, now, 10);
    expect(days.map((p) => p.start)).toEqual(["2026-11-28", "2026-11-29", "2026-11-30"]);
    expect(periodsEndedBetween("weekly", "Europe/Berlin", now - 72 * HOUR, now, 10).map((p) => p.start)).toEqual([
      "2026-11-23",
    ]);
    expect(periodsEndedBetween("monthly", "Europe/Berlin", now - 72 * HOUR, now, 10).map((p) => p.start)).toEqual([
      "2026-11-01",
    ]);
  });

  it("finds nothing before local midnight and keeps only the latest `limit` periods", () => {
    const beforeMidnight = Date.parse("2026-11-30T22:55:00Z"); // 23:55 in Berlin
    expect(periodsEndedBetween("daily", "Europe/Berlin", beforeMidnight - HOUR, beforeMidnight, 5)).toEqual([]);
    const now = Date.parse("2026-11-30T23:05:00Z");
    const latest = periodsEndedBetween("daily", "Europe/Berlin", now - 10 * 24 * HOUR, now, 2);
    expect(latest.map((p) => p.start)).toEqual(["2026-11-29", "2026-11-30"]);
  });

  it("sends the same day at different instants in different zones", () => {
    const tokyo = periodsEndedBetween(
      "daily",
      "Asia/Tokyo",
      Date.parse("2026-11-28T14:30:00Z"),
      Date.parse("2026-11-28T15:05:00Z"),
      5,
    );
    expect(tokyo.map((p) => p.start)).toEqual(["2026-11-28"]);
    const la = periodsEndedBetween(
      "daily",
      "America/Los_Angeles",
      Date.parse("2026-11-28T14:30:00Z"),
      Date.parse("2026-11-28T15:05:00Z"),
      5,
    );
    expect(la).toEqual([]);
  });
});

describe("hits-over-time buckets", () => {
  it("labels hourly buckets in local time across DST", () => {
    const spring = timeBuckets(periodOf("daily", "2026-03-29", "Europe/Berlin")).map((b) => b.label);
    expect(spring).toHaveLength(23);
    expect(spring.slice(0, 4)).toEqual(["00:00", "01:00", "03:00", "04:00"]);
    const fall = timeBuckets(periodOf("daily", "2026-10-25", "Europe/Berlin")).map((b) => b.label);
    expect(fall).toHaveLength(25);
    expect(fall.filter((label) => label === "02:00")).toHaveLength(2);
  });

  it("puts each rollup hour in its local day", () => {
    const week = periodOf("weekly", "2026-11-23", "America/New_York");
    const buckets = timeBuckets(week);
    expect(buckets.map((b) => b.label)).toEqual([
      "2026-11-23",
      "2026-11-24",
      "2026-11-25",
      "2026-11-26",
      "2026-11-27",
      "2026-11-28",
      "2026-11-29",
    ]);
    // 2026-11-24 03:00 UTC is still 2026-11-23 (22:00) in New York.
    expect(bucketIndex(buckets, Date.parse("2026-11-24T03:00:00Z"))).toBe(0);
    expect(bucketIndex(buckets, Date.parse("2026-11-24T05:00:00Z"))).toBe(1);
    expect(bucketIndex(buckets, Date.parse("2026-11-20T05:00:00Z"))).toBe(-1);
  });
});

describe("properties", () => {
  const zones = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/St_Johns",
  ];
  const instants = fc.integer({ min: Date.parse("2020-01-01T00:00:00Z"), max: Date.parse("2035-12-31T00:00:00Z") });

  it("a period contains its instant and follows its previous period without a gap", () => {
    fc.assert(
      fc.property(
        instants,
        fc.constantFrom(...zones),
        fc.constantFrom("daily", "weekly", "monthly" as const),
        (t, zone, frequency) => {
          const period = periodAt(frequency, t, zone);
          expect(period.startMs).toBeLessThanOrEqual(t);
          expect(period.endMs).toBeGreaterThan(t);
          expect(previousPeriod(period).endMs).toBe(period.startMs);
          expect(localDateOf(period.startMs, zone)).toBe(period.start);
          expect(localDateOf(period.endMs - 1, zone)).toBe(period.end);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a local day lasts 23, 24 or 25 hours", () => {
    fc.assert(
      fc.property(instants, fc.constantFrom(...zones), (t, zone) => {
        expect([23, 24, 25]).toContain(periodHours(periodAt("daily", t, zone)));
        expect(localDayStartMs(localDateOf(t, zone), zone)).toBeLessThanOrEqual(t);
      }),
      { numRuns: 300 },
    );
  });
});
