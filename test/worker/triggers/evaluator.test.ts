import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Silence } from "../../../worker/domain/silences";
import type { Trigger } from "../../../worker/domain/triggers";
import { type KnownNode, TriggerEvaluator } from "../../../worker/triggers/evaluator";
import { noticeId } from "../../../worker/triggers/notices";
import { MINUTE, silence, storedHit, storedSystemEvent, T0, trigger } from "./fixtures";

/** Runs `body` with an evaluator over the SQLite of a fresh Durable Object (as the ingest object will). */
async function withEvaluator<T>(body: (evaluator: TriggerEvaluator, sql: SqlStorage) => T): Promise<T> {
  const stub = env.INTEGRATION_DO.get(env.INTEGRATION_DO.idFromName(`evaluator-test-${crypto.randomUUID()}`));
  return runInDurableObject(stub, (_instance, state) =>
    body(new TriggerEvaluator(state.storage.sql), state.storage.sql),
  );
}

const run = (
  evaluator: TriggerEvaluator,
  triggers: Trigger[],
  events: ReturnType<typeof storedHit>[],
  now: number,
  silences: Silence[] = [],
  timeZone = "UTC",
) => evaluator.evaluate(triggers, silences, timeZone, events, now);

describe("trigger evaluator: each_event", () => {
  it("fires for each matching event and not for others", async () => {
    await withEvaluator((evaluator) => {
      const sqli = trigger({ filters: { attack_types: ["sqli"] } });
      const result = run(evaluator, [sqli], [storedHit(T0), storedHit(T0, { attack_type: "xss" }), storedHit(T0)], T0);
      expect(result.notices.map((n) => n.kind)).toEqual(["trigger_event", "trigger_event"]);
      const [first] = result.notices;
      expect(first).toMatchObject({ triggerId: sqli.id, integrationIds: ["integration-1"], groupKey: "", firedAt: T0 });
      expect(first?.kind === "trigger_event" && first.event.data.type).toBe("hit");
    });
  });

  it("throttles per group: one notice per host per throttle window", async () => {
    await withEvaluator((evaluator) => {
      const t = trigger({ group_by: ["host"], throttle_minutes: 10 });
      const first = run(
        evaluator,
        [t],
        [storedHit(T0), storedHit(T0), storedHit(T0, { host: "shop.example.com" })],
        T0,
      );
      expect(first.notices.map((n) => n.groupKey)).toEqual(["host=pay.example.com", "host=shop.example.com"]);
      expect(first.notices[0]?.group).toEqual({ host: "pay.example.com" });
      expect(run(evaluator, [t], [storedHit(T0 + 9 * MINUTE)], T0 + 9 * MINUTE + 59_000).notices).toHaveLength(0);
      expect(run(evaluator, [t], [storedHit(T0 + 10 * MINUTE)], T0 + 10 * MINUTE).notices).toHaveLength(1);
    });
  });

  it("skips disabled triggers", async () => {
    await withEvaluator((evaluator) => {
      expect(run(evaluator, [trigger({ enabled: false })], [storedHit(T0)], T0).notices).toHaveLength(0);
    });
  });
});

describe("trigger evaluator: threshold", () => {
  const threshold = (overrides: Partial<Trigger> = {}) =>
    trigger({ condition: { kind: "threshold", count: 3, window_minutes: 5 }, throttle_minutes: 5, ...overrides });

  it("fires when N events fall in the window: N-1, then the Nth at the window's last minute", async () => {
    await withEvaluator((evaluator) => {
      const t = threshold();
      expect(run(evaluator, [t], [storedHit(T0), storedHit(T0 + 30_000)], T0 + 30_000).notices).toHaveLength(0);
      const result = run(
        evaluator,
        [t],
        [storedHit(T0 + 4 * MINUTE + 59_000, { remote_addr: "203.0.113.9" })],
        T0 + 5 * MINUTE,
      );
      expect(result.notices).toHaveLength(1);
      const notice = result.notices[0];
      if (notice?.kind !== "trigger_threshold") throw new Error("expected a threshold notice");
      expect(notice).toMatchObject({
        count: 3,
        threshold: 3,
        windowMinutes: 5,
        windowStart: T0,
        windowEnd: T0 + 5 * MINUTE,
        top: {
          hosts: [{ value: "pay.example.com", count: 3 }],
          attackTypes: [{ value: "sqli", count: 3 }],
          sourceIps: [
            { value: "198.51.100.7", count: 2 },
            { value: "203.0.113.9", count: 1 },
          ],
          countries: [{ value: "DE", count: 3 }],
        },
        eventsQuery: { from: new Date(T0).toISOString(), to: new Date(T0 + 5 * MINUTE).toISOString() },
      });
    });
  });

  it("tops keep the first 20 values of each dimension per minute, with their counts, across a restart", async () => {
    await withEvaluator((evaluator, sql) => {
      const t = threshold({ condition: { kind: "threshold", count: 400, window_minutes: 5 } });
      // 400 hits in one minute: 200 addresses (each seen twice, apart), 30 countries, 3 hosts.
      const events = Array.from({ length: 400 }, (_, i) =>
        storedHit(T0 + (i % 50) * 1000, {
          remote_addr: `198.51.100.${(i * 7) % 200}`,
          remote_country: `C${(i * 13) % 30}`,
          host: `h${i % 3}.example.com`,
        }),
      );
      // What counting the events one by one keeps: each value among the first 20 seen, all its events.
      const expected = (value: (e: (typeof events)[number]) => string) => {
        const counts = new Map<string, number>();
        for (const e of events) {
          const v = value(e);
          if (counts.has(v)) counts.set(v, (counts.get(v) ?? 0) + 1);
          else if (counts.size < 20) counts.set(v, 1);
        }
        return [...counts]
          .map(([v, count]) => ({ value: v, count }))
          .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))
          .slice(0, 5);
      };
      const data = (e: (typeof events)[number]) =>
        e.data as { remote_addr: string; remote_country: string; host: string };
      expect(run(evaluator, [t], events.slice(0, 250), T0 + MINUTE).notices).toHaveLength(0);
      evaluator.persist(T0 + MINUTE);
      const restarted = new TriggerEvaluator(sql);
      const [notice] = run(restarted, [t], events.slice(250), T0 + MINUTE).notices;
      if (notice?.kind !== "trigger_threshold") throw new Error("expected a threshold notice");
      expect(notice.count).toBe(400);
      expect(notice.top.sourceIps).toEqual(expected((e) => data(e).remote_addr));
      expect(notice.top.countries).toEqual(expected((e) => data(e).remote_country));
      expect(notice.top.hosts).toEqual(expected((e) => data(e).host));
      expect(notice.top.attackTypes).toEqual([{ value: "sqli", count: 400 }]);
    });
  });

  it("writes many groups' counts at once and reads them all back after a restart", async () => {
    await withEvaluator((evaluator, sql) => {
      const t = threshold({ group_by: ["source_ip"] });
      // 45 groups: more rows than one upsert statement carries.
      const ips = Array.from({ length: 45 }, (_, i) => `203.0.113.${i}`);
      const hits = () => ips.map((ip) => storedHit(T0, { remote_addr: ip }));
      run(evaluator, [t], [...hits(), ...hits()], T0);
      evaluator.persist(T0);
      expect(sql.exec("SELECT COUNT(*) AS n FROM trigger_buckets WHERE trigger_id = ?", t.id).one().n).toBe(45);
      const notices = run(new TriggerEvaluator(sql), [t], hits(), T0).notices;
      expect(notices.map((n) => (n.kind === "trigger_threshold" ? [n.groupKey, n.count] : []))).toEqual(
        ips.map((ip) => [`source_ip=${ip}`, 3]),
      );
    });
  });

  it("does not count events older than the window", async () => {
    await withEvaluator((evaluator) => {
      const t = threshold();
      run(evaluator, [t], [storedHit(T0), storedHit(T0 + 59_000)], T0 + MINUTE);
      // Minute T0+5 opens a window [T0+1, T0+5] that no longer holds the first two events.
      expect(run(evaluator, [t], [storedHit(T0 + 5 * MINUTE)], T0 + 5 * MINUTE).notices).toHaveLength(0);
      expect(run(evaluator, [t], [storedHit(T0 + 5 * MINUTE)], T0 + 5 * MINUTE).notices).toHaveLength(0);
      expect(run(evaluator, [t], [storedHit(T0 + 6 * MINUTE)], T0 + 6 * MINUTE).notices).toHaveLength(1);
    });
  });

  it("ignores events more than 24 hours behind the clock", async () => {
    await withEvaluator((evaluator) => {
      const t = threshold({ condition: { kind: "threshold", count: 1, window_minutes: 1440 } });
      const now = T0 + 25 * 60 * MINUTE;
      expect(run(evaluator, [t], [storedHit(T0)], now).notices).toHaveLength(0);
      expect(run(evaluator, [t], [storedHit(now - MINUTE)], now).notices).toHaveLength(1);
    });
  });

  it("one crossing is one notice: counts restart and the throttle defaults to the window", async () => {
    await withEvaluator((evaluator) => {
      const t = threshold();
      const burst = (at: number) => [storedHit(at), storedHit(at), storedHit(at), storedHit(at), storedHit(at)];
      expect(run(evaluator, [t], burst(T0), T0).notices).toHaveLength(1);
      // Still within 5 minutes of the notice: counted, not notified.
      expect(run(evaluator, [t], burst(T0 + 2 * MINUTE), T0 + 2 * MINUTE).notices).toHaveLength(0);
      // The throttle is over and the window still holds at least 3 events: notified again.
      const later = run(evaluator, [t], [storedHit(T0 + 5 * MINUTE)], T0 + 5 * MINUTE);
      expect(later.notices).toHaveLength(1);
      expect(later.notices[0]).toMatchObject({ count: 6 });
    });
  });

  it("counts and fires each group on its own", async () => {
    await withEvaluator((evaluator) => {
      const t = threshold({ group_by: ["source_ip"], filters: { hosts: ["*.example.com"] } });
      const from = (ip: string) => storedHit(T0, { remote_addr: ip });
      const events = [from("198.51.100.1"), from("198.51.100.2"), from("198.51.100.1"), from("198.51.100.2")];
      expect(run(evaluator, [t], events, T0).notices).toHaveLength(0);
      const result = run(evaluator, [t], [from("198.51.100.1")], T0);
      expect(result.notices.map((n) => n.groupKey)).toEqual(["source_ip=198.51.100.1"]);
      const [notice] = result.notices;
      expect(notice).toMatchObject({ count: 3 });
      // A wildcard host cannot be a filter of the events list: the link leaves the host out.
      expect(notice?.kind === "trigger_threshold" && Object.keys(notice.eventsQuery)).toEqual(["from", "to"]);
      expect(run(evaluator, [t], [from("198.51.100.2")], T0).notices.map((n) => n.groupKey)).toEqual([
        "source_ip=198.51.100.2",
      ]);
    });
  });

  it("gives each window of each group its own stable notice id", async () => {
    await withEvaluator((evaluator) => {
      const t = threshold({ condition: { kind: "threshold", count: 1, window_minutes: 5 }, group_by: ["host"] });
      const first = run(evaluator, [t], [storedHit(T0), storedHit(T0, { host: "shop.example.com" })], T0).notices;
      const ids = first.map(noticeId);
      expect(new Set(ids).size).toBe(2);
      expect(ids[0]).toMatch(new RegExp(`^trigger-${t.id}-[0-9a-f]{16}-${T0 - 4 * MINUTE}$`));
      const later = run(evaluator, [t], [storedHit(T0 + 5 * MINUTE)], T0 + 5 * MINUTE).notices;
      expect(later.map(noticeId)[0]).toBe(ids[0]?.replace(`-${T0 - 4 * MINUTE}`, `-${T0 + MINUTE}`));
      // An each_event notice takes the event's id, shared with the subscription's notification.
      const [each] = run(evaluator, [trigger()], [storedHit(T0)], T0).notices;
      expect(each && noticeId(each)).toBe(each?.kind === "trigger_event" ? each.event.id : "");
    });
  });

  it("links the events list with the group's host and attack type", async () => {
    await withEvaluator((evaluator) => {
      const t = threshold({
        condition: { kind: "threshold", count: 1, window_minutes: 5 },
        group_by: ["host", "attack_type"],
        filters: { event_types: ["hit"] },
      });
      const [notice] = run(evaluator, [t], [storedHit(T0)], T0).notices;
      expect(notice).toMatchObject({
        eventsQuery: { type: "hit", host: "pay.example.com", attack_type: "sqli" },
        group: { host: "pay.example.com", attack_type: "sqli" },
      });
      // The list filters on one exact risk: a minimum of "high" cannot be a link parameter.
      const issue = {
        ...storedHit(T0),
        data: {
          type: "security_issue",
          occurred_at: "",
          risk: "critical",
          title: "SQLi",
          vuln_type: "sqli",
          host: "a",
          method: "GET",
          path: "/",
        },
      } as ReturnType<typeof storedHit>;
      const high = threshold({
        condition: { kind: "threshold", count: 1, window_minutes: 5 },
        filters: { min_risk: "high" },
      });
      const critical = { ...high, id: "critical", filters: { min_risk: "critical" as const } };
      const [highNotice, criticalNotice] = run(evaluator, [high, critical], [issue], T0).notices;
      expect(highNotice?.kind === "trigger_threshold" && highNotice.eventsQuery.risk).toBeUndefined();
      expect(criticalNotice?.kind === "trigger_threshold" && criticalNotice.eventsQuery.risk).toBe("critical");
    });
  });

  it("stores the restart after a notice and the throttle mark, as a restarted object reads them", async () => {
    await withEvaluator((evaluator, sql) => {
      const unthrottled = threshold({ throttle_minutes: 0 });
      const throttled = threshold({ throttle_minutes: 30 });
      const three = () => [storedHit(T0), storedHit(T0), storedHit(T0)];
      expect(run(evaluator, [unthrottled, throttled], three(), T0).notices).toHaveLength(2);
      const restarted = new TriggerEvaluator(sql);
      // Counts restarted for both: two more events are not three.
      expect(run(restarted, [unthrottled, throttled], [storedHit(T0), storedHit(T0)], T0).notices).toHaveLength(0);
      const third = run(restarted, [unthrottled, throttled], [storedHit(T0)], T0);
      // The throttled trigger remembers its notice across the restart.
      expect(third.notices.map((n) => n.triggerId)).toEqual([unthrottled.id]);
    });
  });

  it("fires on a batch listed newest first across a minute boundary, in the window of its latest minute", async () => {
    await withEvaluator((evaluator) => {
      const t = threshold();
      // 10:01:05, 10:00:50, 10:00:40: the last one counted sits in the earlier minute.
      const events = [storedHit(T0 + 65_000), storedHit(T0 + 50_000), storedHit(T0 + 40_000)];
      const result = run(evaluator, [t], events, T0 + 2 * MINUTE);
      expect(result.notices).toMatchObject([
        { kind: "trigger_threshold", count: 3, windowStart: T0 - 3 * MINUTE, windowEnd: T0 + 2 * MINUTE },
      ]);
    });
  });

  it("keeps counts in the object's SQLite, and starts afresh when the trigger changes", async () => {
    await withEvaluator((evaluator, sql) => {
      const t = threshold();
      run(evaluator, [t], [storedHit(T0), storedHit(T0)], T0);
      const restarted = new TriggerEvaluator(sql);
      expect(run(restarted, [t], [storedHit(T0)], T0).notices).toHaveLength(1);
      run(restarted, [t], [storedHit(T0 + 10 * MINUTE), storedHit(T0 + 10 * MINUTE)], T0 + 10 * MINUTE);
      const edited = { ...t, updated_at: "2026-11-27T10:10:00.000Z" };
      expect(run(restarted, [edited], [storedHit(T0 + 10 * MINUTE)], T0 + 10 * MINUTE).notices).toHaveLength(0);
      // Counts reach SQLite at most once a second (same clock here: not yet), or when told to.
      expect(sql.exec("SELECT COUNT(*) AS n FROM trigger_buckets WHERE trigger_id = ?", t.id).one().n).toBe(0);
      restarted.persist(T0 + 10 * MINUTE);
      const rows = sql.exec("SELECT COUNT(*) AS n FROM trigger_buckets WHERE trigger_id = ?", t.id).one();
      expect(rows.n).toBe(1);
      run(restarted, [], [], T0 + 10 * MINUTE);
      expect(sql.exec("SELECT COUNT(*) AS n FROM trigger_buckets WHERE trigger_id = ?", t.id).one().n).toBe(0);
    });
  });
});

describe("trigger evaluator: system events", () => {
  it("fires on the chosen system events only, never on node events", async () => {
    await withEvaluator((evaluator) => {
      const some = trigger({ condition: { kind: "system_event", system_types: ["integration_auto_disabled"] } });
      const every = trigger({ condition: { kind: "system_event", system_types: [] } });
      const events = [
        storedSystemEvent(T0, "integration_auto_disabled"),
        storedSystemEvent(T0, "user_created"),
        storedHit(T0),
      ];
      const result = run(evaluator, [some, every], events, T0);
      expect(result.notices.map((n) => n.triggerId)).toEqual([some.id, every.id, every.id]);
    });
  });
});

describe("trigger evaluator: silences", () => {
  it("mutes matching events for triggers and subscriptions, counted per silence and kept", async () => {
    await withEvaluator((evaluator, sql) => {
      const pentest = silence({ filters: { source_ips: ["198.51.100.0/24"] } });
      const staging = silence({ filters: { hosts: ["*.staging.example.com"] } });
      const t = trigger();
      const muted = storedHit(T0, { host: "a.staging.example.com" });
      const events = [storedHit(T0), muted, storedHit(T0, { remote_addr: "203.0.113.5" })];
      const result = run(evaluator, [t], events, T0, [pentest, staging]);
      expect(result.notices.map((n) => (n.kind === "trigger_event" ? n.event.id : ""))).toEqual([events[2]?.id]);
      expect(result.silenced).toBe(2);
      expect(result.silencedBySilence).toEqual({ [pentest.id]: 2, [staging.id]: 1 });
      expect(result.silencedEventIds).toEqual([events[0]?.id, muted.id]);
      run(evaluator, [t], [storedHit(T0)], T0, [pentest, staging]);
      expect(evaluator.silencedCounts()).toEqual({ [pentest.id]: 3, [staging.id]: 1 });
      // Like the window counts, they reach SQLite at most once a second (the first batch wrote
      // them, the second not yet), or when told to: a restarted object lost at most that second.
      expect(new TriggerEvaluator(sql).silencedCounts()).toEqual({ [pentest.id]: 2, [staging.id]: 1 });
      evaluator.persist(T0);
      expect(new TriggerEvaluator(sql).silencedCounts()).toEqual({ [pentest.id]: 3, [staging.id]: 1 });
      run(evaluator, [t], [storedHit(T0 + 1000)], T0 + 1000, [pentest, staging]);
      expect(new TriggerEvaluator(sql).silencedCounts()).toEqual({ [pentest.id]: 4, [staging.id]: 1 });
    });
  });

  it("a weekly silence mutes Friday 18:00–22:00 Berlin time on both sides of the DST change", async () => {
    await withEvaluator((evaluator) => {
      const fridays = silence({ recurrence: { days: ["fri"], from: "18:00", to: "22:00" } });
      const t = trigger();
      const times = ["2026-10-23T16:30:00Z", "2026-10-23T20:30:00Z", "2026-10-30T16:30:00Z", "2026-10-30T17:30:00Z"];
      const events = times.map((time) => storedHit(Date.parse(time)));
      const result = run(evaluator, [t], events, Date.parse("2026-10-30T18:00:00Z"), [fridays], "Europe/Berlin");
      // 18:30 CEST and 18:30 CET are muted; 22:30 CEST and 17:30 CET are not.
      expect(result.silencedEventIds).toEqual([events[0]?.id, events[3]?.id]);
      expect(result.notices).toHaveLength(2);
    });
  });
});

describe("trigger evaluator: node silence", () => {
  const nodes: KnownNode[] = [
    { id: "node-1", name: "waf-eu-1", createdAt: T0 - 60 * MINUTE },
    { id: "node-2", name: "waf-us-1", createdAt: T0 - 60 * MINUTE },
    { id: "node-3", name: "old", createdAt: T0 - 60 * MINUTE, revoked: true },
  ];

  it("notifies once per silence episode and once on recovery", async () => {
    await withEvaluator((evaluator) => {
      const t = trigger({ condition: { kind: "node_silence", node_id: "node-1", silence_minutes: 10 } });
      evaluator.recordNodeSeen("node-1", T0);
      evaluator.recordNodeSeen("node-1", T0 - MINUTE);
      expect(evaluator.dueAt([t], nodes)).toBe(T0 + 10 * MINUTE);
      expect(evaluator.checkSilence([t], nodes, T0 + 10 * MINUTE - 1)).toEqual([]);
      const [silent, ...none] = evaluator.checkSilence([t], nodes, T0 + 10 * MINUTE);
      expect(none).toEqual([]);
      expect(silent).toMatchObject({
        kind: "node_silent",
        nodeId: "node-1",
        nodeName: "waf-eu-1",
        lastSeenAt: T0,
        silenceMinutes: 10,
        groupKey: "node=node-1",
      });
      expect(evaluator.checkSilence([t], nodes, T0 + 60 * MINUTE)).toEqual([]);
      expect(evaluator.dueAt([t], nodes)).toBeNull();
      evaluator.recordNodeSeen("node-1", T0 + 61 * MINUTE);
      expect(evaluator.dueAt([t], nodes)).toBe(T0 + 61 * MINUTE);
      const [recovered] = evaluator.checkSilence([t], nodes, T0 + 61 * MINUTE);
      expect(recovered).toMatchObject({ kind: "node_recovered", silentSince: T0, recoveredAt: T0 + 61 * MINUTE });
      expect(evaluator.checkSilence([t], nodes, T0 + 62 * MINUTE)).toEqual([]);
      expect(evaluator.dueAt([t], nodes)).toBe(T0 + 71 * MINUTE);
      expect(evaluator.checkSilence([t], nodes, T0 + 71 * MINUTE).map((n) => n.kind)).toEqual(["node_silent"]);
    });
  });

  it("watches every live node when node_id is null, from its creation if it never posted", async () => {
    await withEvaluator((evaluator) => {
      const t = trigger({ condition: { kind: "node_silence", node_id: null, silence_minutes: 30 } });
      evaluator.recordNodeSeen("node-1", T0);
      expect(evaluator.dueAt([t], nodes)).toBe(T0 - 30 * MINUTE);
      const notices = evaluator.checkSilence([t], nodes, T0);
      expect(notices.map((n) => n.kind === "node_silent" && [n.nodeId, n.lastSeenAt])).toEqual([["node-2", null]]);
      expect(evaluator.dueAt([t], nodes)).toBe(T0 + 30 * MINUTE);
      expect(evaluator.dueAt([{ ...t, enabled: false }], nodes)).toBeNull();
    });
  });
});
