import { describe, expect, it } from "vitest";
import type { Trigger } from "../../ui/src/lib/rule-shapes";
import { conditionText, durationText, filtersText, recurrenceText, throttleText } from "../../ui/src/lib/rule-text";
import { isoToZonedInput, zonedInputToIso } from "../../ui/src/lib/zoned-time";
import type { SystemEventType } from "../../worker/domain/system-events";

/** The UI's Triggers and Silences pages: the words a list shows, and the account-zone times a form sends. */
const noNames = () => undefined;
const nodeNames = (id: string) => (id === "n1" ? "waf-eu-1" : undefined);

function trigger(overrides: Partial<Trigger>): Pick<Trigger, "condition" | "filters" | "group_by"> {
  return { condition: { kind: "each_event" }, filters: {}, group_by: [], ...overrides };
}

describe("a trigger in words", () => {
  it("names a threshold by its one event type, window and groups", () => {
    const flood = trigger({
      condition: { kind: "threshold", count: 100, window_minutes: 5 },
      filters: { event_types: ["hit"] },
      group_by: ["host"],
    });
    expect(conditionText(flood, noNames)).toBe("≥ 100 hits in 5 min per host");
    const one = trigger({ condition: { kind: "threshold", count: 1, window_minutes: 60 } });
    expect(conditionText(one, noNames)).toBe("≥ 1 event in 1 h");
    const mixed = trigger({
      condition: { kind: "threshold", count: 3, window_minutes: 90 },
      filters: { event_types: ["hit", "incident"] },
      group_by: ["attack_type", "source_ip"],
    });
    expect(conditionText(mixed, noNames)).toBe("≥ 3 events in 90 min per attack type and source IP");
  });

  it("names each-event, node-silence and system triggers", () => {
    expect(conditionText(trigger({ filters: { event_types: ["security_issue"] } }), noNames)).toBe(
      "Each security issue",
    );
    const anyNode = trigger({ condition: { kind: "node_silence", node_id: null, silence_minutes: 10080 } });
    expect(conditionText(anyNode, noNames)).toBe("Any node silent for 7 d");
    const oneNode = trigger({ condition: { kind: "node_silence", node_id: "n1", silence_minutes: 15 } });
    expect(conditionText(oneNode, nodeNames)).toBe("Node waf-eu-1 silent for 15 min");
    // An analyst cannot read nodes: the id stands in for the name.
    expect(conditionText(oneNode, noNames)).toBe("Node n1 silent for 15 min");
    expect(conditionText(trigger({ condition: { kind: "system_event", system_types: [] } }), noNames)).toBe(
      "Any system event",
    );
    expect(
      conditionText(
        // A type a newer Worker may know: named from its id.
        trigger({
          condition: {
            kind: "system_event",
            system_types: ["integration_auto_disabled", "new_type"] as SystemEventType[],
          },
        }),
        noNames,
      ),
    ).toBe("System events: Integration disabled automatically, new type");
  });

  it("says the throttle per group, and durations in the largest whole unit", () => {
    expect(throttleText({ throttle_minutes: 0, group_by: ["host"] })).toBe("No throttle");
    expect(throttleText({ throttle_minutes: 30, group_by: [] })).toBe("At most once per 30 min");
    expect(throttleText({ throttle_minutes: 120, group_by: ["node"] })).toBe("At most once per 2 h per group");
    expect([1, 59, 60, 90, 1440, 2880, 1500].map(durationText)).toEqual([
      "1 min",
      "59 min",
      "1 h",
      "90 min",
      "24 h",
      "2 d",
      "25 h",
    ]);
  });

  it("lists the filters that are set, and 'Every event' when none is", () => {
    expect(filtersText({}, noNames)).toBe("Every event");
    expect(filtersText({ event_types: [], hosts: [] }, noNames)).toBe("Every event");
    expect(
      filtersText(
        {
          event_types: ["security_issue"],
          min_risk: "high",
          hosts: ["*.example.com"],
          node_ids: ["n1"],
          source_ips: ["198.51.100.0/24"],
          block_statuses: ["blocked"],
          response_statuses: [403, 500],
        },
        nodeNames,
      ),
    ).toBe(
      "security issues · risk ≥ high · hosts *.example.com · nodes waf-eu-1 · from 198.51.100.0/24 · blocked · response 403, 500",
    );
  });

  it("orders weekly days Monday first and marks a window past midnight", () => {
    expect(recurrenceText({ days: ["fri", "mon"], from: "18:00", to: "22:00" })).toBe("Every Mon, Fri 18:00–22:00");
    expect(recurrenceText({ days: ["sat"], from: "22:00", to: "02:00" })).toBe(
      "Every Sat 22:00–02:00 (into the next day)",
    );
  });
});

describe("silence times typed in the account's zone", () => {
  it("reads a wall-clock time in the account's zone, not the browser's", () => {
    expect(zonedInputToIso("2026-12-04T09:00", "America/New_York")).toBe("2026-12-04T14:00:00.000Z");
    expect(zonedInputToIso("2026-07-04T09:00", "America/New_York")).toBe("2026-07-04T13:00:00.000Z");
    expect(zonedInputToIso("2026-12-04T09:00", "Asia/Kolkata")).toBe("2026-12-04T03:30:00.000Z");
    expect(zonedInputToIso("", "UTC")).toBeNull();
    expect(zonedInputToIso("2026-12-04 09:00", "UTC")).toBeNull();
  });

  it("uses the offset in force on either side of a DST change", () => {
    // Berlin springs forward on 2026-03-29 at 01:00 UTC (02:00 local becomes 03:00).
    expect(zonedInputToIso("2026-03-29T01:30", "Europe/Berlin")).toBe("2026-03-29T00:30:00.000Z");
    expect(zonedInputToIso("2026-03-29T03:30", "Europe/Berlin")).toBe("2026-03-29T01:30:00.000Z");
    // 02:30 does not exist that night: it lands after the gap, at 03:30 summer time.
    expect(zonedInputToIso("2026-03-29T02:30", "Europe/Berlin")).toBe("2026-03-29T01:30:00.000Z");
    // Autumn: the hour after the change is read in winter time.
    expect(zonedInputToIso("2026-10-25T03:30", "Europe/Berlin")).toBe("2026-10-25T02:30:00.000Z");
  });

  it("shows a stored instant back as the same wall-clock value", () => {
    for (const [value, zone] of [
      ["2026-12-04T09:00", "America/New_York"],
      ["2026-03-29T03:30", "Europe/Berlin"],
      ["2026-12-31T23:45", "Pacific/Auckland"],
    ] as const) {
      expect(isoToZonedInput(zonedInputToIso(value, zone)!, zone)).toBe(value);
    }
    expect(isoToZonedInput("2026-12-04T14:00:00.000Z", "America/New_York")).toBe("2026-12-04T09:00");
  });
});
