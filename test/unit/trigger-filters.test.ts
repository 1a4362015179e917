import { describe, expect, it } from "vitest";
import {
  type EventFilters,
  EventFiltersSchema,
  matchesFilters,
  type StoredEvent,
} from "../../worker/domain/event-filters";
import { parseIp, parseIpRange, rangeContains } from "../../worker/domain/ip-ranges";
import { groupKey } from "../../worker/domain/triggers";

const T0 = Date.parse("2026-11-27T10:00:00Z");

function hit(overrides: Record<string, unknown> = {}, nodeId: string | null = "node-1"): StoredEvent {
  return {
    id: crypto.randomUUID(),
    nodeId,
    occurredAt: T0,
    data: {
      type: "hit",
      occurred_at: new Date(T0).toISOString(),
      attack_type: "sqli",
      host: "pay.example.com",
      method: "POST",
      path: "/api/login?x=1",
      remote_addr: "198.51.100.7",
      remote_country: "DE",
      response_status: 403,
      block_status: "blocked",
      application: "checkout",
      ...overrides,
    } as StoredEvent["data"],
  };
}

function issue(risk: string, overrides: Record<string, unknown> = {}): StoredEvent {
  return {
    id: crypto.randomUUID(),
    nodeId: "node-1",
    occurredAt: T0,
    data: {
      type: "security_issue",
      occurred_at: new Date(T0).toISOString(),
      risk,
      title: "SQL injection",
      vuln_type: "sqli",
      host: "pay.example.com",
      method: "GET",
      path: "/search",
      ...overrides,
    } as StoredEvent["data"],
  };
}

const scope: StoredEvent = {
  id: "s",
  nodeId: "node-2",
  occurredAt: T0,
  data: { type: "scope_change", occurred_at: "", change: "added", object_type: "host", value: "new.example.com" },
};
const system: StoredEvent = {
  id: "sys",
  nodeId: null,
  occurredAt: T0,
  data: { type: "system", system_type: "user_created", occurred_at: "", actor: "a", message: "m", subject: {} },
};

const filters = (input: unknown): EventFilters => EventFiltersSchema.parse(input);
const matches = (input: unknown, event: StoredEvent) => matchesFilters(filters(input), event);

describe("trigger and silence filters", () => {
  it("match every node event when empty, never a system event", () => {
    for (const event of [hit(), issue("low"), scope]) expect(matches({}, event)).toBe(true);
    expect(matches({ event_types: [] }, hit())).toBe(true);
    expect(matches({}, system)).toBe(false);
  });

  it("event types", () => {
    expect(matches({ event_types: ["hit"] }, hit())).toBe(true);
    expect(matches({ event_types: ["incident", "scope_change"] }, hit())).toBe(false);
    expect(matches({ event_types: ["incident"] }, hit({ type: "incident" }))).toBe(true);
    expect(matches({ event_types: ["scope_change"] }, scope)).toBe(true);
  });

  it("minimum risk lets that risk and higher through, and only security issues", () => {
    expect(matches({ min_risk: "high" }, issue("high"))).toBe(true);
    expect(matches({ min_risk: "high" }, issue("critical"))).toBe(true);
    expect(matches({ min_risk: "high" }, issue("medium"))).toBe(false);
    expect(matches({ min_risk: "info" }, issue("info"))).toBe(true);
    expect(matches({ min_risk: "info" }, hit())).toBe(false);
  });

  it("attack types (hits, incidents) and vulnerability types (security issues)", () => {
    expect(matches({ attack_types: ["xss", "SQLi"] }, hit())).toBe(true);
    expect(matches({ attack_types: ["xss"] }, hit())).toBe(false);
    expect(matches({ attack_types: ["sqli"] }, issue("high"))).toBe(false);
    expect(matches({ vuln_types: ["sqli"] }, issue("high"))).toBe(true);
    expect(matches({ vuln_types: ["rce"] }, issue("high"))).toBe(false);
    expect(matches({ vuln_types: ["sqli"] }, hit())).toBe(false);
  });

  it("hosts: exact (case and port ignored), or *. for subdomains but not the apex", () => {
    expect(matches({ hosts: ["pay.example.com"] }, hit())).toBe(true);
    expect(matches({ hosts: ["PAY.example.com"] }, hit({ host: "pay.EXAMPLE.com:8443" }))).toBe(true);
    expect(matches({ hosts: ["example.com"] }, hit())).toBe(false);
    expect(matches({ hosts: ["*.example.com"] }, hit())).toBe(true);
    expect(matches({ hosts: ["*.example.com"] }, hit({ host: "a.b.example.com" }))).toBe(true);
    expect(matches({ hosts: ["*.example.com"] }, hit({ host: "example.com" }))).toBe(false);
    expect(matches({ hosts: ["*.example.com"] }, hit({ host: "badexample.com" }))).toBe(false);
    expect(matches({ hosts: ["*.example.com"] }, issue("low"))).toBe(true);
    expect(matches({ hosts: ["*.example.com"] }, scope)).toBe(false);
  });

  it("path prefixes", () => {
    expect(matches({ path_prefixes: ["/api/"] }, hit())).toBe(true);
    expect(matches({ path_prefixes: ["/admin", "/api/log"] }, hit())).toBe(true);
    expect(matches({ path_prefixes: ["/admin"] }, hit())).toBe(false);
    expect(matches({ path_prefixes: ["/search"] }, issue("low"))).toBe(true);
  });

  it("applications, nodes, countries, block and response statuses", () => {
    expect(matches({ applications: ["checkout"] }, hit())).toBe(true);
    expect(matches({ applications: ["checkout"] }, hit({ application: undefined }))).toBe(false);
    expect(matches({ node_ids: ["node-1"] }, hit())).toBe(true);
    expect(matches({ node_ids: ["node-9"] }, hit())).toBe(false);
    expect(matches({ node_ids: ["node-2"] }, scope)).toBe(true);
    expect(matches({ countries: ["de", "FR"] }, hit())).toBe(true);
    expect(matches({ countries: ["FR"] }, hit())).toBe(false);
    expect(matches({ countries: ["DE"] }, hit({ remote_country: undefined }))).toBe(false);
    expect(matches({ block_statuses: ["monitored"] }, hit())).toBe(false);
    expect(matches({ block_statuses: ["blocked"] }, hit())).toBe(true);
    expect(matches({ response_statuses: [403, 500] }, hit())).toBe(true);
    expect(matches({ response_statuses: [200] }, hit())).toBe(false);
  });

  it("source IPs: addresses and CIDR ranges, IPv4 and IPv6, mapped IPv4 included", () => {
    expect(matches({ source_ips: ["198.51.100.0/24"] }, hit())).toBe(true);
    expect(matches({ source_ips: ["198.51.100.7"] }, hit())).toBe(true);
    expect(matches({ source_ips: ["198.51.101.0/24"] }, hit())).toBe(false);
    expect(matches({ source_ips: ["0.0.0.0/0"] }, hit())).toBe(true);
    expect(matches({ source_ips: ["2001:db8::/32"] }, hit({ remote_addr: "2001:db8:1::5" }))).toBe(true);
    expect(matches({ source_ips: ["2001:db8::/32"] }, hit({ remote_addr: "2001:db9::5" }))).toBe(false);
    expect(matches({ source_ips: ["2001:db8::/32"] }, hit())).toBe(false);
    expect(matches({ source_ips: ["198.51.100.0/24"] }, hit({ remote_addr: "::ffff:198.51.100.9" }))).toBe(true);
    expect(matches({ source_ips: ["198.51.100.0/24"] }, issue("high"))).toBe(false);
  });

  it("all set fields must match", () => {
    const pentest = { source_ips: ["198.51.100.0/24"], hosts: ["*.example.com"], event_types: ["hit"] };
    expect(matches(pentest, hit())).toBe(true);
    expect(matches(pentest, hit({ remote_addr: "203.0.113.1" }))).toBe(false);
    expect(matches(pentest, hit({ host: "staging.other.org" }))).toBe(false);
  });

  it("refuse wrong values, naming the field", () => {
    const cases: [unknown, string][] = [
      [{ event_types: ["system"] }, "event_types.0"],
      [{ min_risk: "severe" }, "min_risk"],
      [{ hosts: ["exa mple.com"] }, "hosts.0"],
      [{ hosts: ["*.*.example.com"] }, "hosts.0"],
      [{ path_prefixes: ["api"] }, "path_prefixes.0"],
      [{ source_ips: ["198.51.100.0/33"] }, "source_ips.0"],
      [{ source_ips: ["300.1.1.1"] }, "source_ips.0"],
      [{ source_ips: ["2001:db8:::1"] }, "source_ips.0"],
      [{ countries: ["XX"] }, "countries.0"],
      [{ block_statuses: ["dropped"] }, "block_statuses.0"],
      [{ response_statuses: [700] }, "response_statuses.0"],
      [{ host: ["typo"] }, ""],
    ];
    for (const [input, field] of cases) {
      const result = EventFiltersSchema.safeParse(input);
      expect(result.success, JSON.stringify(input)).toBe(false);
      expect(result.error?.issues[0]?.path.join("."), JSON.stringify(input)).toBe(field);
    }
  });
});

describe("IP ranges", () => {
  it("parse addresses and ranges", () => {
    expect(parseIp("::1")).toEqual({ version: 6, value: 1n });
    expect(parseIp("::")).toEqual({ version: 6, value: 0n });
    expect(parseIp("1:2:3:4:5:6:7:8")?.version).toBe(6);
    expect(parseIp("1:2:3:4:5:6:7:8:9")).toBeNull();
    expect(parseIp("01.2.3.4")).toBeNull();
    expect(parseIpRange("10.1.2.3/8")).toEqual({ version: 4, network: 10n << 24n, prefix: 8 });
    expect(parseIpRange("::ffff:10.0.0.0/104")).toEqual({ version: 4, network: 10n << 24n, prefix: 8 });
    expect(parseIpRange("::ffff:10.0.0.0/64")).toBeNull();
    expect(parseIpRange("10.0.0.0/8/1")).toBeNull();
    const range = parseIpRange("fe80::/10");
    expect(range && rangeContains(range, parseIp("febf::1") as never)).toBe(true);
    expect(range && rangeContains(range, parseIp("fec0::1") as never)).toBe(false);
  });
});

describe("group key", () => {
  it("names each group-by field and its value, '-' when the event has none", () => {
    expect(groupKey([], hit())).toBe("");
    expect(groupKey(["host", "attack_type"], hit())).toBe("host=pay.example.com, attack_type=sqli");
    expect(groupKey(["source_ip", "node"], hit())).toBe("source_ip=198.51.100.7, node=node-1");
    expect(groupKey(["attack_type"], issue("high"))).toBe("attack_type=sqli");
    expect(groupKey(["host", "source_ip"], scope)).toBe("host=-, source_ip=-");
  });
});
