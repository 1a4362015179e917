import { describe, expect, it } from "vitest";
import { countMuted, TriggerPreviewer } from "../../worker/triggers/preview";
import { MINUTE, storedHit, T0, trigger } from "../worker/triggers/fixtures";

describe("trigger preview", () => {
  it("replays throttles on the events' own clock", () => {
    const preview = new TriggerPreviewer(trigger({ group_by: ["host"], throttle_minutes: 10 }), "UTC");
    preview.add([storedHit(T0), storedHit(T0 + 5 * MINUTE), storedHit(T0 + 5 * MINUTE, { host: "shop.example.com" })]);
    preview.add([storedHit(T0 + 10 * MINUTE), storedHit(T0 + 11 * MINUTE)]);
    expect(preview.result(T0 + 60 * MINUTE)).toEqual({
      wouldFire: 3,
      groups: [
        { key: "host=pay.example.com", fired: 2 },
        { key: "host=shop.example.com", fired: 1 },
      ],
    });
  });

  it("counts threshold crossings like the live evaluator", () => {
    const t = trigger({ condition: { kind: "threshold", count: 3, window_minutes: 5 }, throttle_minutes: 5 });
    const preview = new TriggerPreviewer(t, "UTC");
    // 3 within five minutes (fires), 2 more soon after (throttled, then cleared), 3 an hour later (fires).
    const times = [0, 1, 4, 6, 7, 60, 61, 62].map((m) => T0 + m * MINUTE);
    preview.add(times.map((at) => storedHit(at)));
    expect(preview.result(T0 + 120 * MINUTE).wouldFire).toBe(2);
  });

  it("node silence: each gap of D minutes between posts, and the trailing gap, is one episode", () => {
    const t = trigger({ condition: { kind: "node_silence", node_id: null, silence_minutes: 30 } });
    const preview = new TriggerPreviewer(t, "UTC");
    preview.add([storedHit(T0, {}, "a"), storedHit(T0 + 29 * MINUTE, {}, "a"), storedHit(T0 + 70 * MINUTE, {}, "a")]);
    preview.add([storedHit(T0 + 100 * MINUTE, {}, "b")]);
    // a: 29 → 70 is one gap, 70 → now (110) another; b posted 10 minutes ago.
    expect(preview.result(T0 + 110 * MINUTE)).toEqual({ wouldFire: 2, groups: [{ key: "node=a", fired: 2 }] });
  });

  it("counts what a silence would mute", () => {
    const silence = {
      filters: { hosts: ["pay.example.com"] },
      starts_at: new Date(T0).toISOString(),
      ends_at: new Date(T0 + 10 * MINUTE).toISOString(),
      recurrence: null,
    };
    const events = [
      storedHit(T0 - 1),
      storedHit(T0),
      storedHit(T0 + 5 * MINUTE, { host: "x.example.com" }),
      storedHit(T0 + 10 * MINUTE),
    ];
    expect(countMuted(silence, "UTC", events)).toBe(1);
  });
});
