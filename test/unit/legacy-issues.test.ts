/**
 * The pure parts of the upgrade's issue import (worker/legacy-import.ts, worker/ingest/legacy-intake.ts):
 * method and parameter read back from D1's fingerprint, and the merge with an issue reported again
 * after the upgrade.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { issueFingerprint, type SecurityIssueRow } from "../../worker/ingest/account-store";
import { type LegacyIssue, mergeIssue } from "../../worker/ingest/legacy-intake";
import { methodAndParameter } from "../../worker/legacy-import";

describe("method and parameter from a D1 fingerprint", () => {
  it("reads back what the fingerprint was built from, whatever the path and parameter hold", () => {
    const text = fc.string({ minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(
        fc.record({
          vuln_type: fc.constantFrom("sqli", "xss", "rce"),
          host: fc.constantFrom("Shop.Example.com", "api.example.com"),
          method: fc.constantFrom("GET", "POST", "PUT"),
          path: text.map((s) => `/${s}`),
          parameter: fc.option(text, { nil: undefined }),
        }),
        (report) => {
          const fingerprint = issueFingerprint({ type: "security_issue", ...report } as never);
          expect(methodAndParameter({ fingerprint, ...report })).toEqual({
            method: report.method,
            parameter: report.parameter ?? null,
          });
        },
      ),
    );
  });

  it("answers null for a fingerprint that does not start with the row's own columns", () => {
    const row = { vuln_type: "sqli", host: "a.test", path: "/x" };
    expect(methodAndParameter({ ...row, fingerprint: "xss|a.test|GET|/x|" })).toEqual({
      method: null,
      parameter: null,
    });
  });
});

const DAY = 86_400_000;
const legacy = (overrides: Partial<LegacyIssue> = {}): LegacyIssue => ({
  fingerprint: "sqli|a.test|GET|/x|",
  id: "legacy-first",
  lastEventId: "legacy-last",
  risk: "medium",
  title: "Old",
  host: "a.test",
  path: "/x",
  vulnType: "sqli",
  method: "GET",
  parameter: null,
  discoveredBy: "scanner",
  status: "open",
  firstSeen: 1 * DAY,
  lastSeen: 3 * DAY,
  closedAt: null,
  closedBy: null,
  ...overrides,
});
const reported = (overrides: Partial<SecurityIssueRow> = {}): SecurityIssueRow => ({
  fingerprint: "sqli|a.test|GET|/x|",
  id: "new-first",
  last_event_id: "new-last",
  risk: "high",
  title: "New",
  host: "a.test",
  path: "/x",
  vuln_type: "sqli",
  method: "GET",
  parameter: null,
  discovered_by: null,
  status: "open",
  first_seen: 10 * DAY,
  last_seen: 10 * DAY,
  closed_at: null,
  closed_by: null,
  ...overrides,
});

describe("merging a D1 issue with one reported again before the import", () => {
  it("takes D1's issue as it was when the object has none", () => {
    expect(mergeIssue(undefined, legacy({ status: "closed", closedAt: 4 * DAY, closedBy: "a" }))).toMatchObject({
      id: "legacy-first",
      status: "closed",
      closed_at: 4 * DAY,
      closed_by: "a",
      first_seen: DAY,
      last_seen: 3 * DAY,
    });
  });

  it("reopens a closed issue seen after its closing, keeping the first report's id and the latest report's risk", () => {
    const merged = mergeIssue(reported(), legacy({ status: "closed", closedAt: 4 * DAY, closedBy: "a" }));
    expect(merged).toMatchObject({
      id: "legacy-first",
      last_event_id: "new-last",
      risk: "high",
      title: "New",
      discovered_by: "scanner",
      status: "open",
      first_seen: DAY,
      last_seen: 10 * DAY,
      closed_at: null,
      closed_by: null,
    });
  });

  it("keeps it closed when the new report is of something seen before the closing", () => {
    const late = reported({ first_seen: 2 * DAY, last_seen: 2 * DAY });
    const merged = mergeIssue(late, legacy({ status: "closed", closedAt: 4 * DAY, closedBy: "a" }));
    expect(merged).toMatchObject({
      status: "closed",
      closed_at: 4 * DAY,
      closed_by: "a",
      last_seen: 3 * DAY,
      risk: "medium",
    });
  });
});
