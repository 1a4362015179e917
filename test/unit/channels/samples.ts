import { securityIssueFingerprint } from "../../../worker/domain/incident-key";
import type { Notification, NotificationType } from "../../../worker/domain/notification";
import { buildNotification, type NotifiableEvent } from "../../../worker/domain/notify-build";
import {
  buildSecurityIssueClosedNotification,
  buildSecurityIssueReopenedNotification,
} from "../../../worker/domain/security-issue-notifications";
import type { SystemEventType } from "../../../worker/domain/system-events";
import {
  buildNodeSilenceNotification,
  buildThresholdNotification,
  buildTriggerEventNotification,
} from "../../../worker/domain/trigger-notifications";
import { SAMPLE_SECURITY_ISSUE } from "../../../worker/integrations/test-samples";

/**
 * Realistic sample notifications of every type, with hostile-free, reviewable content: what the
 * golden files, contract and property tests render. The security issue is the one test sends
 * show (worker/integrations/test-samples.ts).
 */

export interface SampleOptions {
  accountName: string;
  publicUrl: string;
  /** Fixed time and ids make the samples reproducible (golden files). */
  now?: number;
  id?: (type: string) => string;
}

const SECURITY_ISSUE = { risk: "high", ...SAMPLE_SECURITY_ISSUE };

const HIT = {
  attack_type: "xss",
  host: "shop.example.com",
  method: "GET",
  path: "/search",
  remote_addr: "203.0.113.45",
  remote_country: "DE",
  response_status: 403,
  block_status: "blocked",
  payload: "<script>alert(document.cookie)</script>",
  point: "get.q",
  request_id: "7f3c9a10e2b4",
  application: "Storefront",
};

const INCIDENT = {
  attack_type: "sqli",
  host: "shop.example.com",
  method: "POST",
  path: "/api/login",
  remote_addr: "198.51.100.7",
  remote_country: "US",
  response_status: 200,
  block_status: "monitored",
  payload: "username=admin'--&password=x",
  point: "post.username",
  request_id: "c41d2e9b7a55",
  application: "Storefront",
  security_issue_id: "0193a0b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b",
};

const SCOPE_CHANGE = { change: "added", object_type: "port", value: "shop.example.com:8443" };

const SYSTEM: Record<SystemEventType, { message: string; subject: Record<string, string | number> }> = {
  user_created: {
    message: "Dana Analyst (dana@acme.example) was added as analyst.",
    subject: { user_email: "dana@acme.example", role: "analyst" },
  },
  user_deleted: { message: "dana@acme.example was removed.", subject: { user_email: "dana@acme.example" } },
  user_role_changed: {
    message: "dana@acme.example is now admin (was analyst).",
    subject: { user_email: "dana@acme.example", role: "admin", previous_role: "analyst" },
  },
  integration_created: {
    message: 'Slack integration "SOC alerts" was created.',
    subject: { integration_name: "SOC alerts", integration_type: "slack" },
  },
  integration_disabled: {
    message: 'Webhook integration "SIEM bridge" was disabled.',
    subject: { integration_name: "SIEM bridge", integration_type: "webhook" },
  },
  integration_enabled: {
    message: 'Webhook integration "SIEM bridge" was enabled.',
    subject: { integration_name: "SIEM bridge", integration_type: "webhook" },
  },
  integration_auto_disabled: {
    message:
      'Webhook integration "SIEM bridge" was disabled automatically: 45 of 60 requests (75 %) failed in the last 12 hours.',
    subject: {
      integration_name: "SIEM bridge",
      integration_type: "webhook",
      failed_requests: 45,
      total_requests: 60,
      failure_ratio: 0.75,
      last_error: "HTTP 503",
    },
  },
  integration_deleted: {
    message: 'PagerDuty integration "On-call" was deleted.',
    subject: { integration_name: "On-call", integration_type: "pagerduty" },
  },
  node_created: { message: 'Node "edge-fra-1" was added.', subject: { node_name: "edge-fra-1" } },
  node_revoked: { message: 'Node "edge-fra-1" was revoked.', subject: { node_name: "edge-fra-1" } },
  scheduled_report_failed: {
    message: "The weekly report for 2026-11-23 could not be built or sent after 5 attempts: D1 is unavailable.",
    subject: { frequency: "weekly", period_start: "2026-11-23", attempts: 5, error: "D1 is unavailable" },
  },
  notifications_held_back: {
    message:
      '2,880 events from node "edge-fra-1" arrived more than 1 h after they occurred (2026-11-27 09:00 to 2026-11-28 08:55 UTC): stored and counted in reports, not notified.',
    subject: {
      node_id: "0192f0a0-0000-7000-8000-000000000001",
      node_name: "edge-fra-1",
      held_back: 2880,
      oldest_occurred_at: "2026-11-27T09:00:00.000Z",
      newest_occurred_at: "2026-11-28T08:55:00.000Z",
      notify_max_age_seconds: 3600,
    },
  },
  delivery_dead: {
    message:
      '3 deliveries of integration "SIEM bridge" (Webhook) died after their last retry (12 notifications); the last one after 17 attempts: HTTP 503: upstream unavailable. The notifications were sent to the fallback integration "SOC alerts".',
    subject: {
      integration_id: "0192f0a0-0000-7000-8000-0000000000aa",
      integration_name: "SIEM bridge",
      integration_type: "webhook",
      deliveries_died: 3,
      delivery_id: "0192f0a0-0000-7000-8000-0000000000dd",
      notifications: 12,
      attempts: 17,
      last_error: "HTTP 503: upstream unavailable",
      delivery_link:
        "https://herald.example.com/integrations/0192f0a0-0000-7000-8000-0000000000aa?delivery=0192f0a0-0000-7000-8000-0000000000dd",
      fallback_integration_id: "0192f0a0-0000-7000-8000-0000000000bb",
      fallback_integration_name: "SOC alerts",
    },
  },
};

const REPORT_TITLES = { report_daily: "Daily", report_weekly: "Weekly", report_monthly: "Monthly" } as const;

function change(current: number, previous: number) {
  return {
    current,
    previous,
    change: current - previous,
    change_pct: previous === 0 ? null : Math.round(((current - previous) / previous) * 1000) / 10,
  };
}

function reportSample(type: keyof typeof REPORT_TITLES, options: SampleOptions, id: string): Notification {
  const base = options.publicUrl.replace(/\/+$/, "");
  const [start, end] =
    type === "report_daily"
      ? ["2026-11-28", "2026-11-28"]
      : type === "report_weekly"
        ? ["2026-11-16", "2026-11-22"]
        : ["2026-10-01", "2026-10-31"];
  const totals = {
    hits: change(1284, 1070),
    blocked: change(1201, 1002),
    monitored: change(83, 68),
    incidents: change(2, 0),
    new_security_issues: change(3, 4),
    new_security_issues_by_risk: {
      critical: change(0, 0),
      high: change(1, 1),
      medium: change(2, 2),
      low: change(0, 1),
      info: change(0, 0),
    },
    scope_changes: change(4, 1),
  };
  return {
    id,
    summary: `[Herald] ${REPORT_TITLES[type]} security report: ${start}${start === end ? "" : ` – ${end}`}`,
    description: [
      `Notification type: ${type}`,
      `Period: ${start}${start === end ? "" : ` to ${end}`} (Europe/Berlin)`,
      "Hits: 1284 (+20% vs previous)",
      "Incidents: 2 (new)",
    ].join("\n"),
    details: {
      client_name: options.accountName,
      notification_type: type,
      occurred_at: new Date(options.now ?? Date.now()).toISOString(),
      link: `${base}/reports/${id}`,
      report: {
        id,
        frequency: type.slice("report_".length),
        period_start: start,
        period_end: end,
        time_zone: "Europe/Berlin",
        totals,
        open_security_issues: { critical: 0, high: 2, medium: 5, low: 1, info: 0 },
        top_attack_types: [
          { key: "sqli", count: 512 },
          { key: "xss", count: 301 },
          { key: "ptrav", count: 97 },
        ],
        auto_disabled_integrations: [],
        link: `${base}/reports/${id}`,
        pdf_url: `${base}/api/reports/${id}/pdf`,
      },
    },
  };
}

const TRIGGER_ID = "0193a0b4-7a1e-7000-8000-0000000000a1";
const NODE = { id: "0192f0a0-0000-7000-8000-000000000001", name: "edge-fra-1" };

/** The security_issues row of the sample issue: closing it resolves the incident its report opened. */
export const SAMPLE_ISSUE_ROW = {
  id: "0193a0b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b",
  fingerprint: securityIssueFingerprint(SECURITY_ISSUE),
  risk: SECURITY_ISSUE.risk,
  title: SECURITY_ISSUE.title,
  host: SECURITY_ISSUE.host,
  path: SECURITY_ISSUE.path,
  vulnType: SECURITY_ISSUE.vuln_type,
};

/** Trigger notices and issue status changes, built by the builders the evaluator and the issue API call. */
function triggerSample(type: NotificationType, options: SampleOptions, now: number): Notification | undefined {
  const context = { accountName: options.accountName, publicUrl: options.publicUrl };
  const minute = 60_000;
  switch (type) {
    case "trigger_threshold":
      return buildThresholdNotification({
        ...context,
        trigger: { id: TRIGGER_ID, name: "Attacks on payment hosts" },
        group: { host: "pay.example.com" },
        count: 142,
        threshold: 100,
        windowStart: now - 5 * minute,
        windowEnd: now,
        eventTypes: ["hit"],
        filters: { hosts: ["*.example.com"] },
        top: {
          hosts: [{ key: "pay.example.com", count: 142 }],
          attackTypes: [
            { key: "sqli", count: 90 },
            { key: "xss", count: 31 },
            { key: "ptrav", count: 12 },
            { key: "rce", count: 5 },
            { key: "scanner", count: 3 },
            { key: "xxe", count: 1 },
          ],
          sourceIps: [
            { key: "203.0.113.45", count: 77 },
            { key: "198.51.100.7", count: 40 },
            { key: "2001:db8::1", count: 25 },
          ],
          countries: [
            { key: "US", count: 80 },
            { key: "DE", count: 62 },
          ],
        },
      });
    case "trigger_event":
      return buildTriggerEventNotification(
        sampleNotification("incident", options),
        { id: TRIGGER_ID, name: "SQL injection on payment hosts" },
        { host: "shop.example.com" },
      );
    case "node_silent":
    case "node_recovered":
      return buildNodeSilenceNotification({
        ...context,
        state: type === "node_silent" ? "silent" : "recovered",
        trigger: { id: TRIGGER_ID, name: "Nodes that stop reporting" },
        node: NODE,
        lastEventAt: now - (type === "node_silent" ? 47 : 72) * minute,
        silenceMinutes: 30,
        at: now,
      });
    case "security_issue_closed":
      return buildSecurityIssueClosedNotification(SAMPLE_ISSUE_ROW, "admin@acme.example", { ...context, at: now });
    case "security_issue_reopened":
      return buildSecurityIssueReopenedNotification(SAMPLE_ISSUE_ROW, "admin@acme.example", { ...context, at: now });
    default:
      return undefined;
  }
}

/** One sample notification of a type. */
export function sampleNotification(type: NotificationType, options: SampleOptions): Notification {
  const now = options.now ?? Date.now();
  const id = options.id?.(type) ?? crypto.randomUUID();
  if (type === "report_daily" || type === "report_weekly" || type === "report_monthly") {
    return reportSample(type, options, id);
  }
  const triggered = triggerSample(type, options, now);
  if (triggered) return triggered;
  let event: NotifiableEvent;
  if (type === "security_issue") event = { id, type, risk: SECURITY_ISSUE.risk, occurredAt: now, data: SECURITY_ISSUE };
  else if (type === "new_hits") event = { id, type: "hit", occurredAt: now, data: HIT };
  else if (type === "incident") event = { id, type, occurredAt: now, data: INCIDENT };
  else if (type === "scope_change") event = { id, type, occurredAt: now, data: SCOPE_CHANGE };
  else {
    const system = SYSTEM[type as SystemEventType];
    event = {
      id,
      type: "system",
      systemType: type,
      occurredAt: now,
      data: { system_type: type, actor: "admin@acme.example", ...system },
    };
  }
  return buildNotification(event, options.accountName, options.publicUrl);
}
