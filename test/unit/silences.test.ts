import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../worker/domain/event-filters";
import {
  CreateSilenceBody,
  compileSilences,
  isSilenced,
  type SilenceWindow,
  silenceActiveAt,
  silenceState,
} from "../../worker/domain/silences";

const at = (text: string) => Date.parse(text);
const always = { starts_at: "2026-01-01T00:00:00Z", ends_at: "2027-01-01T00:00:00Z" };

describe("silenceActiveAt", () => {
  it("mutes from starts_at up to, not including, ends_at", () => {
    const once: SilenceWindow = {
      starts_at: "2026-11-27T18:00:00Z",
      ends_at: "2026-11-27T22:00:00Z",
      recurrence: null,
    };
    expect(silenceActiveAt(once, at("2026-11-27T17:59:59Z"), "UTC")).toBe(false);
    expect(silenceActiveAt(once, at("2026-11-27T18:00:00Z"), "UTC")).toBe(true);
    expect(silenceActiveAt(once, at("2026-11-27T21:59:59Z"), "UTC")).toBe(true);
    expect(silenceActiveAt(once, at("2026-11-27T22:00:00Z"), "UTC")).toBe(false);
  });

  it("recurs weekly on the zone's wall clock, across the autumn DST change (Friday 18:00–22:00 Berlin)", () => {
    const fridays: SilenceWindow = { ...always, recurrence: { days: ["fri"], from: "18:00", to: "22:00" } };
    const zone = "Europe/Berlin";
    // 2026-10-23: summer time (UTC+2), 18:00 local = 16:00Z.
    expect(silenceActiveAt(fridays, at("2026-10-23T15:59:00Z"), zone)).toBe(false);
    expect(silenceActiveAt(fridays, at("2026-10-23T16:00:00Z"), zone)).toBe(true);
    expect(silenceActiveAt(fridays, at("2026-10-23T19:59:00Z"), zone)).toBe(true);
    expect(silenceActiveAt(fridays, at("2026-10-23T20:00:00Z"), zone)).toBe(false);
    // 2026-10-30: winter time (UTC+1) since the 25th, 18:00 local = 17:00Z.
    expect(silenceActiveAt(fridays, at("2026-10-30T16:30:00Z"), zone)).toBe(false);
    expect(silenceActiveAt(fridays, at("2026-10-30T17:00:00Z"), zone)).toBe(true);
    expect(silenceActiveAt(fridays, at("2026-10-30T20:59:00Z"), zone)).toBe(true);
    expect(silenceActiveAt(fridays, at("2026-10-30T21:00:00Z"), zone)).toBe(false);
    // Not on Thursdays.
    expect(silenceActiveAt(fridays, at("2026-10-29T17:30:00Z"), zone)).toBe(false);
  });

  it("a window with to <= from crosses midnight, also in the night the clocks go back", () => {
    const saturdayNights: SilenceWindow = { ...always, recurrence: { days: ["sat"], from: "22:00", to: "02:00" } };
    const zone = "Europe/Berlin";
    expect(silenceActiveAt(saturdayNights, at("2026-10-24T19:59:00Z"), zone)).toBe(false);
    expect(silenceActiveAt(saturdayNights, at("2026-10-24T20:00:00Z"), zone)).toBe(true); // 22:00 CEST
    expect(silenceActiveAt(saturdayNights, at("2026-10-24T23:59:00Z"), zone)).toBe(true); // Sunday 01:59 CEST
    // The first 02:00 local (CEST) ends it; the repeated hour is not muted.
    expect(silenceActiveAt(saturdayNights, at("2026-10-25T00:00:00Z"), zone)).toBe(false);
    expect(silenceActiveAt(saturdayNights, at("2026-10-25T01:30:00Z"), zone)).toBe(false);
    // Sunday night is not Saturday night.
    expect(silenceActiveAt(saturdayNights, at("2026-10-25T22:30:00Z"), zone)).toBe(false);
  });

  it("keeps local times in spring, when an hour is skipped (New York, 2026-03-08)", () => {
    const sundays: SilenceWindow = { ...always, recurrence: { days: ["sun"], from: "01:00", to: "04:00" } };
    const zone = "America/New_York";
    expect(silenceActiveAt(sundays, at("2026-03-08T05:59:00Z"), zone)).toBe(false); // 00:59 EST
    expect(silenceActiveAt(sundays, at("2026-03-08T06:00:00Z"), zone)).toBe(true); // 01:00 EST
    expect(silenceActiveAt(sundays, at("2026-03-08T07:00:00Z"), zone)).toBe(true); // 03:00 EDT
    expect(silenceActiveAt(sundays, at("2026-03-08T07:59:00Z"), zone)).toBe(true); // 03:59 EDT
    expect(silenceActiveAt(sundays, at("2026-03-08T08:00:00Z"), zone)).toBe(false); // 04:00 EDT: 2 real hours
  });

  it("a recurring silence mutes only between its bounds", () => {
    const bounded: SilenceWindow = {
      starts_at: "2026-11-27T00:00:00Z",
      ends_at: "2026-11-28T00:00:00Z",
      recurrence: { days: ["fri"], from: "18:00", to: "22:00" },
    };
    expect(silenceActiveAt(bounded, at("2026-11-27T19:00:00Z"), "UTC")).toBe(true);
    expect(silenceActiveAt(bounded, at("2026-12-04T19:00:00Z"), "UTC")).toBe(false);
  });
});

describe("silences", () => {
  it("state: scheduled, active, expired", () => {
    const s = { starts_at: "2026-11-27T18:00:00Z", ends_at: "2026-11-27T22:00:00Z" };
    expect(silenceState(s, at("2026-11-27T17:00:00Z"))).toBe("scheduled");
    expect(silenceState(s, at("2026-11-27T18:00:00Z"))).toBe("active");
    expect(silenceState(s, at("2026-11-27T22:00:00Z"))).toBe("expired");
  });

  it("mute matching node events while active, never system events", () => {
    const compiled = compileSilences([
      { id: "pentest", filters: { source_ips: ["198.51.100.0/24"] }, ...always, recurrence: null },
    ]);
    const event = (remote: string): StoredEvent => ({
      id: remote,
      nodeId: "n",
      occurredAt: at("2026-11-27T19:00:00Z"),
      data: {
        type: "hit",
        occurred_at: "2026-11-27T19:00:00Z",
        attack_type: "sqli",
        host: "staging.example.com",
        method: "GET",
        path: "/",
        remote_addr: remote,
        response_status: 403,
        block_status: "blocked",
      },
    });
    expect(isSilenced(compiled, event("198.51.100.20"), "UTC")).toBe(true);
    expect(isSilenced(compiled, event("203.0.113.20"), "UTC")).toBe(false);
    const everything = compileSilences([{ id: "all", filters: {}, ...always, recurrence: null }]);
    const system: StoredEvent = {
      id: "s",
      nodeId: null,
      occurredAt: at("2026-11-27T19:00:00Z"),
      data: { type: "system", system_type: "user_created", occurred_at: "", actor: "", message: "", subject: {} },
    };
    expect(isSilenced(everything, system, "UTC")).toBe(false);
  });

  it("validates the body, naming the field", () => {
    const base = { name: "Pentest", starts_at: "2026-11-27T18:00:00Z", ends_at: "2026-11-27T22:00:00+01:00" };
    expect(CreateSilenceBody.safeParse(base).success).toBe(true);
    const cases: [Record<string, unknown>, string][] = [
      [{ ends_at: "2026-11-27T18:00:00Z" }, "ends_at"],
      [{ starts_at: "tomorrow" }, "starts_at"],
      [{ recurrence: { days: [], from: "18:00", to: "22:00" } }, "recurrence.days"],
      [{ recurrence: { days: ["fri", "fri"], from: "18:00", to: "22:00" } }, "recurrence.days"],
      [{ recurrence: { days: ["friday"], from: "18:00", to: "22:00" } }, "recurrence.days.0"],
      [{ recurrence: { days: ["fri"], from: "24:00", to: "22:00" } }, "recurrence.from"],
      [{ recurrence: { days: ["fri"], from: "18:00", to: "9:00" } }, "recurrence.to"],
      [{ name: "" }, "name"],
      [{ filters: { countries: ["ZZ"] } }, "filters.countries.0"],
    ];
    for (const [change, field] of cases) {
      const result = CreateSilenceBody.safeParse({ ...base, ...change });
      expect(result.success, JSON.stringify(change)).toBe(false);
      expect(result.error?.issues[0]?.path.join("."), JSON.stringify(change)).toBe(field);
    }
  });
});
