import { describe, expect, it } from "vitest";
import { type EventFilters, matchesFilters, type StoredEvent } from "../../../worker/domain/event-filters";
import type { Trigger } from "../../../worker/domain/triggers";
import { compileTrigger, evaluateBatch } from "../../../worker/triggers/rules";
import { WindowStore } from "../../../worker/triggers/window-state";
import { storedHit, T0, trigger } from "./fixtures";

/**
 * The evaluator meets an event only with the triggers its index says may match it
 * (worker/triggers/batch-plan.ts): the matches, the counts and the notices' order must be those of
 * testing every trigger's filters.
 */
const evaluate = (triggers: Trigger[], events: StoredEvent[], state = new WindowStore(null)) =>
  evaluateBatch(state, triggers.map(compileTrigger), [], "UTC", events, () => T0);

const fired = (notices: ReturnType<typeof evaluate>["notices"]) =>
  notices.map((n) => `${n.triggerId}:${n.kind === "trigger_event" ? n.event.id : n.groupKey}`);

const hits = [
  storedHit(T0, { host: "Shop.Example.com:8443", attack_type: "sqli", remote_country: "DE" }, "node-1"),
  storedHit(T0, { host: "admin.example.com", attack_type: "xss", remote_country: "US", application: "crm" }, "node-2"),
  storedHit(T0, { host: "example.com", attack_type: "rce", response_status: 500, block_status: "monitored" }),
  storedHit(T0, { host: "pay.test", attack_type: "sqli", remote_addr: "192.0.2.9", remote_country: "AQ" }, "node-2"),
  {
    id: "issue-1",
    nodeId: "node-1",
    occurredAt: T0,
    data: {
      type: "security_issue",
      occurred_at: new Date(T0).toISOString(),
      risk: "high",
      title: "SQL injection",
      vuln_type: "sqli",
      host: "shop.example.com",
      method: "GET",
      path: "/search",
      parameter: "q",
    },
  } as StoredEvent,
  {
    id: "scope-1",
    nodeId: "node-1",
    occurredAt: T0,
    data: {
      type: "scope_change",
      occurred_at: new Date(T0).toISOString(),
      change: "added",
      object_type: "domain",
      value: "new.example.com",
    },
  } as StoredEvent,
];

const filterSets: EventFilters[] = [
  {},
  { hosts: ["shop.example.com"] },
  { hosts: ["*.example.com"] },
  { hosts: ["example.com", "*.example.com"] },
  { node_ids: ["node-2"] },
  { applications: ["crm"] },
  { countries: ["AQ", "DE"] },
  { vuln_types: ["sqli"] },
  { attack_types: ["sqli", "sqli"] },
  { attack_types: ["sqli"], hosts: ["*.example.com"] },
  { response_statuses: [500] },
  { block_statuses: ["monitored"] },
  { event_types: ["security_issue", "scope_change"] },
  { source_ips: ["192.0.2.0/24"], countries: ["AQ"] },
  { min_risk: "high" },
  { path_prefixes: ["/search"] },
];

describe("trigger evaluator: the candidates of an event", () => {
  it("each_event triggers of every indexable filter fire exactly for the events their filters take, in the triggers' order", () => {
    const triggers = filterSets.map((filters, i) => trigger({ id: `t${i}`, filters }));
    const expected = hits.flatMap((event) =>
      triggers.filter((t) => matchesFilters(t.filters, event)).map((t) => `${t.id}:${event.id}`),
    );
    expect(fired(evaluate(triggers, hits).notices)).toEqual(expected);
    // Reversed: an indexed trigger listed before an unindexed one still notifies first.
    const reversed = [...triggers].reverse();
    const expectedReversed = hits.flatMap((event) =>
      reversed.filter((t) => matchesFilters(t.filters, event)).map((t) => `${t.id}:${event.id}`),
    );
    expect(fired(evaluate(reversed, hits).notices)).toEqual(expectedReversed);
  });

  it("a value listed twice counts an event once; a threshold keyed by host and attack type reads them as before", () => {
    const twice = trigger({
      id: "twice",
      condition: { kind: "threshold", count: 3, window_minutes: 5 },
      filters: { attack_types: ["sqli", "sqli"] },
      group_by: ["host", "attack_type"],
    });
    const events = [storedHit(T0), storedHit(T0), storedHit(T0, { host: "other.example.com" }), storedHit(T0)];
    const { notices } = evaluate([twice], events);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ count: 3, groupKey: "host=pay.example.com, attack_type=sqli" });
    // A security issue's attack type is its vuln type; a scope change has neither ("-").
    const perIssue = trigger({
      id: "issues",
      condition: { kind: "threshold", count: 1, window_minutes: 5 },
      group_by: ["source_ip", "attack_type"],
    });
    expect(evaluate([perIssue], hits.slice(4)).notices.map((n) => n.groupKey)).toEqual([
      "source_ip=-, attack_type=sqli",
      "source_ip=-, attack_type=-",
    ]);
  });
});
