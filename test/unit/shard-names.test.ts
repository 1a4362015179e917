import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  fanoutFor,
  fnv1a,
  parseShardHours,
  parseShardName,
  periodOf,
  periodsOverlapping,
  readShardConfig,
  shardName,
  subShardOf,
} from "../../worker/events/shard-names";

const HOUR = 3_600_000;
const GIB = 1024 ** 3;
const iso = (ms: number) => new Date(ms).toISOString();

describe("shard periods", () => {
  it("accepts only divisors of 24 hours", () => {
    expect(parseShardHours(undefined)).toBe(24);
    expect(parseShardHours("")).toBe(24);
    for (const hours of [1, 2, 3, 4, 6, 8, 12, 24]) expect(parseShardHours(String(hours))).toBe(hours);
    for (const bad of ["5", "7", "48", "0", "-6", "2.5", "six"]) {
      expect(() => parseShardHours(bad), bad).toThrow(/EVENT_SHARD_HOURS/);
    }
  });

  it("reads the shard settings and names the one that is wrong", () => {
    expect(readShardConfig({})).toEqual({ hours: 24, targetBytes: GIB, maxBytes: 4 * GIB });
    expect(
      readShardConfig({ EVENT_SHARD_HOURS: "6", EVENT_SHARD_MAX_BYTES: "2000", EVENT_SHARD_TARGET_BYTES: "1000" }),
    ).toEqual({ hours: 6, targetBytes: 1000, maxBytes: 2000 });
    expect(() => readShardConfig({ EVENT_SHARD_MAX_BYTES: "lots" })).toThrow(/EVENT_SHARD_MAX_BYTES/);
    expect(() => readShardConfig({ EVENT_SHARD_TARGET_BYTES: "5", EVENT_SHARD_MAX_BYTES: "4" })).toThrow(
      /TARGET_BYTES must not exceed/,
    );
  });

  it("puts an instant into the UTC-aligned period holding it; the end belongs to the next", () => {
    const midnight = Date.UTC(2026, 11, 3);
    expect(periodOf(midnight, 24)).toEqual({ start: midnight, end: midnight + 24 * HOUR });
    expect(periodOf(midnight - 1, 24)).toEqual({ start: midnight - 24 * HOUR, end: midnight });
    expect(periodOf(midnight + 13 * HOUR + 5, 6)).toEqual({ start: midnight + 12 * HOUR, end: midnight + 18 * HOUR });
    // Local midnight in UTC+2 is 22:00 UTC of the day before: the UTC day decides.
    expect(iso(periodOf(Date.parse("2026-12-03T00:30:00+02:00"), 24).start)).toBe("2026-12-02T00:00:00.000Z");
    expect(periodOf(Date.UTC(1969, 11, 31, 23), 24).start).toBe(Date.UTC(1969, 11, 31));
  });

  it("every instant of a period maps to that period (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.constantFrom(1, 2, 3, 4, 6, 8, 12, 24), (t, h) => {
        const p = periodOf(t, h);
        return p.start <= t && t < p.end && p.end - p.start === h * HOUR && p.start % (h * HOUR) === 0;
      }),
    );
  });

  it("lists the periods overlapping a range, oldest first", () => {
    const d = Date.UTC(2026, 11, 3);
    expect(periodsOverlapping(d, d + 24 * HOUR, 24)).toEqual([{ start: d, end: d + 24 * HOUR }]);
    expect(periodsOverlapping(d - 1, d + 1, 24).map((p) => iso(p.start))).toEqual([
      "2026-12-02T00:00:00.000Z",
      "2026-12-03T00:00:00.000Z",
    ]);
    expect(periodsOverlapping(d + 5 * HOUR, d + 13 * HOUR, 6).map((p) => (p.start - d) / HOUR)).toEqual([0, 6, 12]);
    expect(periodsOverlapping(d, d, 24)).toEqual([]);
    expect(periodsOverlapping(d, d - 1, 24)).toEqual([]);
    expect(periodsOverlapping(d, d + 90 * 24 * HOUR, 24)).toHaveLength(90);
  });
});

describe("shard names", () => {
  it("writes account, period start to the minute in UTC, and sub-shard", () => {
    const start = Date.UTC(2026, 11, 3);
    expect(shardName("acc_1", start, 0)).toBe("acc_1/2026-12-03T00:00Z/0");
    expect(shardName("acc_1", start + 18 * HOUR, 63)).toBe("acc_1/2026-12-03T18:00Z/63");
    expect(parseShardName("acc_1/2026-12-03T18:00Z/63")).toEqual({
      accountId: "acc_1",
      periodStart: start + 18 * HOUR,
      sub: 63,
    });
    for (const bad of [
      "acc_1/2026-12-03T00:00Z",
      "acc_1/2026-12-03/0",
      "a/b/2026-12-03T00:00Z/0",
      "acc_1/2026-13-03T00:00Z/0",
      "acc_1/2026-12-03T00:00Z/64",
    ]) {
      expect(parseShardName(bad), bad).toBeNull();
    }
  });

  it("round-trips through parse", () => {
    fc.assert(
      fc.property(
        fc.uuid(),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 63 }),
        (account, hours, sub) => {
          const start = hours * HOUR;
          expect(parseShardName(shardName(account, start, sub))).toEqual({
            accountId: account,
            periodStart: start,
            sub,
          });
        },
      ),
    );
  });
});

describe("sub-shards", () => {
  it("hashes with 32-bit FNV-1a", () => {
    // Reference values of FNV-1a 32.
    expect(fnv1a("")).toBe(0x811c9dc5);
    expect(fnv1a("a")).toBe(0xe40c292c);
    expect(fnv1a("foobar")).toBe(0xbf9cf968);
  });

  it("maps an id to the same sub-shard every time, and spreads ids evenly", () => {
    const ids = Array.from({ length: 8000 }, () => crypto.randomUUID());
    const counts = new Array(8).fill(0);
    for (const id of ids) {
      const sub = subShardOf(id, 8);
      expect(subShardOf(id, 8)).toBe(sub);
      counts[sub]++;
    }
    for (const n of counts) expect(n).toBeGreaterThan(800);
    expect(subShardOf(ids[0] as string, 1)).toBe(0);
    for (const bad of [0, 3, 128, 1.5]) expect(() => subShardOf("x", bad)).toThrow(/power of two/);
  });

  it("picks the smallest power of two that keeps each sub-shard under the target, at most 64", () => {
    expect(fanoutFor(0, GIB)).toBe(1);
    expect(fanoutFor(GIB, GIB)).toBe(1);
    expect(fanoutFor(GIB + 1, GIB)).toBe(2);
    expect(fanoutFor(2.5 * GIB, GIB)).toBe(4);
    expect(fanoutFor(64 * GIB, GIB)).toBe(64);
    expect(fanoutFor(1000 * GIB, GIB)).toBe(64);
  });
});
