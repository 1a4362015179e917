import { describe, expect, it } from "vitest";
import { MAX_REPORTED_ERRORS, validateIngestBody } from "../../worker/domain/events";
import { SAMPLE_SECURITY_ISSUE } from "../../worker/integrations/test-samples";

const recent = () => new Date(Date.now() - 60_000).toISOString();
// The sample vulnerability without its optional fields (parameter, discovered_by, description).
const { parameter, discovered_by, description, ...requiredIssueFields } = SAMPLE_SECURITY_ISSUE;

const valid = {
  security_issue: () => ({
    type: "security_issue",
    occurred_at: recent(),
    risk: "high",
    ...requiredIssueFields,
  }),
  hit: () => ({
    type: "hit",
    occurred_at: recent(),
    attack_type: "xss",
    host: "shop.example.com",
    method: "GET",
    path: "/search?q=<script>",
    remote_addr: "203.0.113.9",
    response_status: 403,
    block_status: "blocked",
  }),
  incident: () => ({ ...valid.hit(), type: "incident", security_issue_id: "a6d3f0f2-1d0c-4a8e-9f57-0d2b9d4c1e11" }),
  scope_change: () => ({
    type: "scope_change",
    occurred_at: recent(),
    change: "added",
    object_type: "port",
    value: "8443",
  }),
};

/** Validates one event (placed at index 2 to check the index in paths) and returns its errors. */
function errorsOf(event: Record<string, unknown>) {
  const result = validateIngestBody({ events: [valid.hit(), valid.scope_change(), event] });
  return result.ok ? [] : result.errors;
}

function expectError(event: Record<string, unknown>, field: string, message?: RegExp) {
  const errors = errorsOf(event);
  const error = errors.find((e) => e.field === `events.2.${field}`);
  expect(error, `expected an error on events.2.${field}, got ${JSON.stringify(errors)}`).toBeDefined();
  expect(error?.index).toBe(2);
  if (message) expect(error?.message).toMatch(message);
}

describe("node event schema", () => {
  it("accepts a valid event of every type and keeps its fields", () => {
    const result = validateIngestBody({ events: Object.values(valid).map((make) => make()) });
    expect(result.ok).toBe(true);
    if (result.ok)
      expect(result.events.map((e) => e.type)).toEqual(["security_issue", "hit", "incident", "scope_change"]);
  });

  it("accepts optional fields within their limits and normalises case", () => {
    const result = validateIngestBody({
      events: [
        {
          ...valid.hit(),
          id: "A6D3F0F2-1D0C-4A8E-9F57-0D2B9D4C1E11",
          method: "post",
          attack_type: "SQLI",
          remote_addr: "2001:db8::1",
          remote_country: "de",
          payload: "é".repeat(2048),
          point: "get.q",
          request_id: "req-1",
          application: "shop",
          occurred_at: new Date(Date.now() + 4 * 60_000).toISOString(),
        },
        { ...valid.security_issue(), parameter: "user", discovered_by: "scanner", description: "Found by fuzzing." },
      ],
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.events[0]).toMatchObject({
      id: "a6d3f0f2-1d0c-4a8e-9f57-0d2b9d4c1e11",
      method: "POST",
      attack_type: "sqli",
      remote_country: "DE",
    });
  });

  it("drops unknown keys instead of storing them", () => {
    const result = validateIngestBody({ events: [{ ...valid.hit(), surprise: "x".repeat(10_000) }] });
    expect(result.ok && "surprise" in (result.events[0] as object)).toBe(false);
  });

  it("refuses an envelope without 1–1000 events", () => {
    for (const [body, field] of [
      [{}, "events"],
      [{ events: [] }, "events"],
      [{ events: "x" }, "events"],
      [[], "(body)"],
      [{ events: Array.from({ length: 1001 }, valid.hit) }, "events"],
    ] as const) {
      const result = validateIngestBody(body);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.errors[0]?.field).toBe(field);
    }
    expect(validateIngestBody({ events: Array.from({ length: 1000 }, valid.hit) }).ok).toBe(true);
  });

  it("names the event index and field of every error", () => {
    const result = validateIngestBody({
      events: [
        valid.hit(),
        { ...valid.hit(), remote_addr: "nope" },
        valid.hit(),
        { ...valid.security_issue(), risk: "severe" },
      ],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => [e.index, e.field])).toEqual([
      [1, "events.1.remote_addr"],
      [3, "events.3.risk"],
    ]);
  });

  it("caps the number of reported errors but counts them all", () => {
    const result = validateIngestBody({ events: Array.from({ length: 300 }, () => ({ ...valid.hit(), host: "" })) });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toHaveLength(MAX_REPORTED_ERRORS);
    expect(result.total).toBe(300);
  });

  it("refuses a missing or unknown type", () => {
    expectError({ occurred_at: recent() }, "type", /security_issue, hit, incident, scope_change/);
    expectError({ ...valid.hit(), type: "alert" }, "type");
    expectError({ ...valid.hit(), type: "system" }, "type");
  });

  it("refuses a non-object event", () => {
    const result = validateIngestBody({ events: ["hit"] });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]?.field).toBe("events.0");
  });

  it("checks id: a UUID when present", () => {
    expectError({ ...valid.hit(), id: "event-1" }, "id", /UUID/);
    expectError({ ...valid.hit(), id: 42 }, "id");
  });

  it("checks occurred_at: RFC 3339, not more than 5 minutes ahead", () => {
    expectError({ ...valid.hit(), occurred_at: undefined }, "occurred_at");
    expectError({ ...valid.hit(), occurred_at: "2026-01-01 10:00:00" }, "occurred_at", /RFC 3339/);
    expectError({ ...valid.hit(), occurred_at: "yesterday" }, "occurred_at", /RFC 3339/);
    expectError({ ...valid.hit(), occurred_at: 1767261600000 }, "occurred_at");
    expectError(
      { ...valid.hit(), occurred_at: new Date(Date.now() + 6 * 60_000).toISOString() },
      "occurred_at",
      /5 minutes in the future/,
    );
    expect(errorsOf({ ...valid.hit(), occurred_at: "2026-01-01T10:00:00+02:00" })).toEqual([]);
  });

  it("checks security_issue fields", () => {
    expectError({ ...valid.security_issue(), risk: "severe" }, "risk", /critical, high, medium, low, info/);
    expectError({ ...valid.security_issue(), risk: undefined }, "risk");
    expectError({ ...valid.security_issue(), title: "" }, "title", /empty/);
    expectError({ ...valid.security_issue(), title: "t".repeat(501) }, "title", /500/);
    expectError({ ...valid.security_issue(), vuln_type: "sql injection" }, "vuln_type");
    expectError({ ...valid.security_issue(), vuln_type: "x".repeat(65) }, "vuln_type", /64/);
    expectError({ ...valid.security_issue(), host: undefined }, "host");
    expectError({ ...valid.security_issue(), host: "h".repeat(256) }, "host", /255/);
    expectError({ ...valid.security_issue(), method: "GET /" }, "method", /HTTP method/);
    expectError({ ...valid.security_issue(), path: "" }, "path");
    expectError({ ...valid.security_issue(), path: `/${"p".repeat(2048)}` }, "path", /2048/);
    expectError({ ...valid.security_issue(), path: "/a\r\nSet-Cookie: x" }, "path", /line breaks/);
    expectError({ ...valid.security_issue(), parameter: "p".repeat(257) }, "parameter", /256/);
    expectError({ ...valid.security_issue(), discovered_by: "d".repeat(129) }, "discovered_by", /128/);
    expectError({ ...valid.security_issue(), description: "d".repeat(8001) }, "description", /8000/);
  });

  it("checks hit and incident fields", () => {
    for (const make of [valid.hit, valid.incident]) {
      expectError({ ...make(), attack_type: undefined }, "attack_type");
      expectError({ ...make(), remote_addr: "300.1.1.1" }, "remote_addr", /IPv4 or IPv6/);
      expectError({ ...make(), remote_addr: "example.com" }, "remote_addr", /IPv4 or IPv6/);
      expectError({ ...make(), response_status: "403" }, "response_status", /number/);
      expectError({ ...make(), response_status: 42 }, "response_status");
      expectError({ ...make(), response_status: 200.5 }, "response_status", /integer/);
      expectError({ ...make(), block_status: "dropped" }, "block_status", /blocked, monitored/);
      expectError({ ...make(), remote_country: "XX" }, "remote_country", /ISO 3166-1/);
      expectError({ ...make(), remote_country: "DEU" }, "remote_country", /ISO 3166-1/);
      expectError({ ...make(), payload: "x".repeat(4097) }, "payload", /4 KiB/);
      // 4096 characters but more than 4096 bytes in UTF-8.
      expectError({ ...make(), payload: "é".repeat(2049) }, "payload", /4 KiB/);
      expectError({ ...make(), point: "p".repeat(257) }, "point", /256/);
      expectError({ ...make(), request_id: "r".repeat(129) }, "request_id", /128/);
      expectError({ ...make(), application: "a".repeat(129) }, "application", /128/);
    }
    expectError({ ...valid.incident(), security_issue_id: undefined }, "security_issue_id");
    expectError({ ...valid.incident(), security_issue_id: "s".repeat(129) }, "security_issue_id", /128/);
  });

  it("checks scope_change fields", () => {
    expectError({ ...valid.scope_change(), change: "changed" }, "change", /added, removed/);
    expectError({ ...valid.scope_change(), object_type: "vm" }, "object_type", /host, ip, port, domain, service/);
    expectError({ ...valid.scope_change(), value: "" }, "value", /empty/);
    expectError({ ...valid.scope_change(), value: "v".repeat(513) }, "value", /512/);
  });
});
