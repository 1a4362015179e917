import { describe, expect, it } from "vitest";
import { renderOpsgenieAlert, renderOpsgenieClose } from "../../../worker/channels/opsgenie";
import { renderPagerdutyEvent } from "../../../worker/channels/pagerduty";
import {
  groupKeyOf,
  incidentOf,
  nodeSilenceIncidentKey,
  securityIssueFingerprint,
  stableId,
  thresholdIncidentKey,
  triggerEventIncidentKey,
} from "../../../worker/domain/incident-key";
import type { Notification } from "../../../worker/domain/notification";
import {
  buildNodeSilenceNotification,
  buildThresholdNotification,
  buildTriggerEventNotification,
  crossedWords,
  type ThresholdInput,
  thresholdEventsLink,
} from "../../../worker/domain/trigger-notifications";
import {
  checkOpsgenie,
  checkOpsgenieClose,
  checkPagerduty,
  type RecordedRequest,
} from "../../support/vendor-contracts";
import { FIXED_NOW, PUBLIC_URL, sample, TEST_SETTINGS } from "./fixtures";

/** docs/channels.md#incidents: one incident per trigger group, resolved/closed by the notice that ends it. */

const ROUTING_KEY = TEST_SETTINGS.pagerduty!.routing_key as string;
const API_KEY = TEST_SETTINGS.opsgenie!.api_key as string;
const TRIGGER = { id: "0193a0b4-7a1e-7000-8000-0000000000a1", name: "Attacks on payment hosts" };
const MINUTE = 60_000;

function threshold(overrides: Partial<ThresholdInput> = {}): ThresholdInput {
  return {
    accountName: "Acme",
    publicUrl: PUBLIC_URL,
    trigger: TRIGGER,
    group: { host: "pay.example.com" },
    count: 142,
    threshold: 100,
    windowStart: FIXED_NOW - 5 * MINUTE,
    windowEnd: FIXED_NOW,
    eventTypes: ["hit"],
    top: { hosts: [], attackTypes: [], sourceIps: [], countries: [] },
    ...overrides,
  };
}

function silence(state: "silent" | "recovered", nodeId = "node-1", at = FIXED_NOW) {
  return buildNodeSilenceNotification({
    accountName: "Acme",
    publicUrl: PUBLIC_URL,
    state,
    trigger: TRIGGER,
    node: { id: nodeId, name: "edge-fra-1" },
    lastEventAt: FIXED_NOW - 60 * MINUTE,
    silenceMinutes: 30,
    at,
  });
}

const keyOf = (n: Notification) => incidentOf(n)?.incident_key;

const jsonRequest = (body: unknown, path = "/v2/enqueue", query = ""): RecordedRequest => ({
  method: "POST",
  path,
  query,
  headers: { "content-type": "application/json", authorization: `GenieKey ${API_KEY}` },
  body: JSON.stringify(body),
});

describe("incident keys", () => {
  it("a threshold incident is one per trigger, group and window, whatever the group's key order", () => {
    const key = thresholdIncidentKey(TRIGGER.id, { host: "a.example", attack_type: "sqli" }, FIXED_NOW);
    expect(thresholdIncidentKey(TRIGGER.id, { attack_type: "sqli", host: "a.example" }, FIXED_NOW)).toBe(key);
    expect(thresholdIncidentKey(TRIGGER.id, { host: "a.example" }, FIXED_NOW)).not.toBe(key);
    expect(thresholdIncidentKey(TRIGGER.id, { host: "a.example", attack_type: "sqli" }, FIXED_NOW + 1)).not.toBe(key);
    expect(thresholdIncidentKey("other", { host: "a.example", attack_type: "sqli" }, FIXED_NOW)).not.toBe(key);
    expect(groupKeyOf({ node: "n", host: "h" })).toBe("host=h,node=n");
    expect(groupKeyOf({})).toBe("");
  });

  it("a rebuilt threshold notice is the same notice: same id and incident key; the next window is a new incident", () => {
    const first = buildThresholdNotification(threshold({ count: 101 }));
    const again = buildThresholdNotification(threshold({ count: 142 }));
    expect(again.id).toBe(first.id);
    expect(keyOf(again)).toBe(keyOf(first));
    expect(incidentOf(first)?.incident_action).toBe("trigger");
    const next = buildThresholdNotification(threshold({ windowStart: FIXED_NOW, windowEnd: FIXED_NOW + 5 * MINUTE }));
    expect(keyOf(next)).not.toBe(keyOf(first));
    expect(next.id).not.toBe(first.id);
  });

  it("node silence: silent and recovered share the trigger-and-node incident; recovered resolves it", () => {
    const silent = silence("silent");
    const recovered = silence("recovered", "node-1", FIXED_NOW + 10 * MINUTE);
    expect(keyOf(silent)).toBe(nodeSilenceIncidentKey(TRIGGER.id, { node: "node-1" }));
    expect(keyOf(recovered)).toBe(keyOf(silent));
    expect([incidentOf(silent)?.incident_action, incidentOf(recovered)?.incident_action]).toEqual([
      "trigger",
      "resolve",
    ]);
    expect(keyOf(silence("silent", "node-2"))).not.toBe(keyOf(silent));
    expect(recovered.id).not.toBe(silent.id);
  });

  it("a security issue's report, its closing and its reopening name the same incident", () => {
    const reported = sample("security_issue");
    const closed = sample("security_issue_closed");
    const reopened = sample("security_issue_reopened");
    expect(keyOf(reported)).toMatch(/^herald:security-issue:[0-9a-f]{32}$/);
    expect(keyOf(closed)).toBe(keyOf(reported));
    expect(keyOf(reopened)).toBe(keyOf(reported));
    expect(incidentOf(closed)?.incident_action).toBe("resolve");
    expect(incidentOf(reopened)?.incident_action).toBe("trigger");
    // Another parameter is another issue.
    const issue = reported.details.security_issue as Record<string, unknown>;
    const other = {
      ...reported,
      details: { ...reported.details, security_issue: { ...issue, parameter: "password" } },
    };
    expect(keyOf(other)).not.toBe(keyOf(reported));
  });

  it("the fingerprint folds the host's ASCII case like SQLite's lower(), and nothing else", () => {
    const issue = { vuln_type: "sqli", host: "Shop.EXAMPLE.com", method: "POST", path: "/Login", parameter: null };
    expect(securityIssueFingerprint(issue)).toBe("sqli|shop.example.com|POST|/Login|");
    expect(securityIssueFingerprint({ ...issue, host: "ÄPFEL.example" })).toBe("sqli|Äpfel.example|POST|/Login|");
  });

  it("trigger_event: a security issue keeps the issue's incident, any other event joins its group's", () => {
    const issue = buildTriggerEventNotification(sample("security_issue"), TRIGGER, { host: "shop.example.com" });
    expect(keyOf(issue)).toBe(keyOf(sample("security_issue")));
    const hit = buildTriggerEventNotification(sample("new_hits"), TRIGGER, { host: "shop.example.com" });
    expect(keyOf(hit)).toBe(triggerEventIncidentKey(TRIGGER.id, { host: "shop.example.com" }));
    expect(hit.id).toBe(sample("new_hits").id);
    expect(hit.summary).toContain(TRIGGER.name);
  });

  it("events without an incident key stay one incident per delivery; a tampered stored key is ignored", () => {
    expect(incidentOf(sample("new_hits"))).toBeUndefined();
    expect(incidentOf(sample("user_created"))).toBeUndefined();
    const hit = sample("new_hits");
    const tampered = { ...hit, details: { ...hit.details, incident_key: "k", incident_action: "explode" } };
    expect(incidentOf(tampered as unknown as Notification)).toBeUndefined();
  });

  it("stable ids are UUID-shaped and differ by input", () => {
    expect(stableId("a", 1)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(stableId("a", 1)).toBe(stableId("a", 1));
    expect(stableId("a", 1)).not.toBe(stableId("a", 2));
  });
});

describe("threshold notice content", () => {
  it("says what crossed, keeps the top 5 by count, and links the events list filtered the same way", () => {
    const many = Array.from({ length: 7 }, (_, i) => ({ key: `h${i}.example.com`, count: i + 1 }));
    const n = buildThresholdNotification(
      threshold({
        group: { attack_type: "sqli" },
        filters: { hosts: ["pay.example.com"] },
        top: { ...threshold().top, hosts: many },
      }),
    );
    const section = n.details.threshold as Record<string, unknown>;
    expect(section.crossed).toBe("142 hits in 5 minutes, threshold 100");
    expect((section.top_hosts as { key: string }[]).map((e) => e.key)).toEqual([
      "h6.example.com",
      "h5.example.com",
      "h4.example.com",
      "h3.example.com",
      "h2.example.com",
    ]);
    const link = new URL(n.details.link);
    expect(link.pathname).toBe("/events");
    expect(Object.fromEntries(link.searchParams)).toEqual({
      type: "hit",
      attack_type: "sqli",
      host: "pay.example.com",
      from: "2026-11-29T09:55:00.000Z",
      to: "2026-11-29T10:00:00.000Z",
    });
  });

  it("leaves out of the link what the events list cannot match exactly (wildcard hosts, several types)", () => {
    const link = new URL(
      thresholdEventsLink(
        threshold({
          group: {},
          eventTypes: ["hit", "incident"],
          filters: { hosts: ["*.example.com"], minRisk: "high" },
        }),
      ),
    );
    expect([...link.searchParams.keys()]).toEqual(["from", "to"]);
    expect(crossedWords({ ...threshold(), eventTypes: [], count: 1, windowEnd: FIXED_NOW + 55 * MINUTE })).toBe(
      "1 matching event in 1 hour, threshold 100",
    );
  });
});

describe("incident systems: resolve and close requests", () => {
  it("PagerDuty: recovery is a resolve with the silence's dedup_key, in the documented format", () => {
    const trigger = renderPagerdutyEvent(ROUTING_KEY, silence("silent"), "delivery-1", PUBLIC_URL);
    const resolve = renderPagerdutyEvent(ROUTING_KEY, silence("recovered"), "delivery-2", PUBLIC_URL);
    expect(trigger.event_action).toBe("trigger");
    expect(resolve).toEqual({ routing_key: ROUTING_KEY, event_action: "resolve", dedup_key: trigger.dedup_key });
    expect(checkPagerduty(jsonRequest(trigger), ROUTING_KEY)).toEqual([]);
    expect(checkPagerduty(jsonRequest(resolve), ROUTING_KEY)).toEqual([]);
  });

  it("PagerDuty: closing the issue resolves the incident its report opened", () => {
    const opened = renderPagerdutyEvent(ROUTING_KEY, sample("security_issue"), "d1", PUBLIC_URL);
    const resolved = renderPagerdutyEvent(ROUTING_KEY, sample("security_issue_closed"), "d2", PUBLIC_URL);
    expect(resolved).toEqual({ routing_key: ROUTING_KEY, event_action: "resolve", dedup_key: opened.dedup_key });
  });

  it("a test send never touches a real incident: the delivery id is its key, and nothing is resolved", () => {
    const test = renderPagerdutyEvent(ROUTING_KEY, sample("security_issue_closed"), "test-delivery", PUBLIC_URL, true);
    expect(test).toMatchObject({ event_action: "trigger", dedup_key: "test-delivery" });
    expect(renderOpsgenieClose(sample("security_issue_closed"), true)).toBeUndefined();
    expect(renderOpsgenieAlert(sample("security_issue"), "test-delivery", true).alias).toBe("test-delivery");
  });

  it("Opsgenie: closing names the alert by the alias it was opened with, with the documented body", () => {
    const alert = renderOpsgenieAlert(sample("security_issue"), "delivery-1");
    const close = renderOpsgenieClose(sample("security_issue_closed"));
    expect(close?.alias).toBe(alert.alias);
    expect(close?.body).toEqual({
      user: "admin@acme.example",
      source: "Herald",
      note: expect.stringContaining("Security issue closed"),
    });
    expect(renderOpsgenieClose(sample("security_issue"))).toBeUndefined();
    const path = `/v2/alerts/${encodeURIComponent(close!.alias)}/close`;
    const checked = checkOpsgenieClose(jsonRequest(close!.body, path, "?identifierType=alias"), API_KEY);
    expect(checked).toEqual({ problems: [], alias: alert.alias });
    expect(checkOpsgenie(jsonRequest(alert, "/v2/alerts"), API_KEY)).toEqual([]);
  });
});
