import type { securityIssues } from "../db/schema";
import { uiLink } from "../lib/links";
import { iso } from "../lib/time";
import { securityIssueIncidentKey, stableId } from "./incident-key";
import type { Notification } from "./notification";
import type { NotificationContext } from "./trigger-notifications";

/**
 * An admin closed a security issue as fixed, or reopened it (docs/channels.md#incidents): the
 * incident the issue opened in PagerDuty or Opsgenie is resolved / triggered again (same key as
 * the issue's security_issue notifications), and chat, email and SIEMs get a short notice.
 */

/** The security_issues row (or the same fields) of the issue concerned. */
export type SecurityIssueRow = Pick<
  typeof securityIssues.$inferSelect,
  "id" | "fingerprint" | "risk" | "title" | "host" | "path" | "vulnType"
>;

interface IssueStatusChange extends NotificationContext {
  /** When it was closed or reopened (epoch ms). */
  at: number;
}

function buildIssueStatusNotification(
  state: "closed" | "reopened",
  issue: SecurityIssueRow,
  actor: string,
  change: IssueStatusChange,
): Notification {
  const message = `${state === "closed" ? "Closed as fixed" : "Reopened"} by ${actor}.`;
  const link = uiLink(change.publicUrl, "/security-issues");
  const lines = [
    `Notification type: security_issue_${state}`,
    `What happened: ${message}`,
    `Risk: ${issue.risk}`,
    `Title: ${issue.title}`,
    `Vulnerability type: ${issue.vulnType}`,
    `Host: ${issue.host}`,
    `Path: ${issue.path}`,
    `Security issue: ${issue.id}`,
    `Link: ${link}`,
  ];
  return {
    id: stableId(`security_issue_${state}`, issue.fingerprint, change.at),
    summary: state === "closed" ? "[Herald] Security issue closed" : "[Herald] Security issue reopened",
    description: lines.join("\n"),
    details: {
      client_name: change.accountName,
      notification_type: `security_issue_${state}`,
      occurred_at: iso(change.at),
      link,
      incident_key: securityIssueIncidentKey(issue.fingerprint),
      incident_action: state === "closed" ? "resolve" : "trigger",
      actor,
      security_issue: {
        id: issue.id,
        fingerprint: issue.fingerprint,
        status: state === "closed" ? "closed" : "open",
        message,
        risk: issue.risk,
        title: issue.title,
        vuln_type: issue.vulnType,
        host: issue.host,
        path: issue.path,
        [state === "closed" ? "closed_by" : "reopened_by"]: actor,
        [state === "closed" ? "closed_at" : "reopened_at"]: iso(change.at),
      },
    },
  };
}

/** Resolves the issue's PagerDuty incident / closes its Opsgenie alert; a "closed by X" notice elsewhere. */
export function buildSecurityIssueClosedNotification(
  issue: SecurityIssueRow,
  actor: string,
  change: IssueStatusChange,
): Notification {
  return buildIssueStatusNotification("closed", issue, actor, change);
}

/** Triggers the issue's incident again (same key); a "reopened by X" notice elsewhere. */
export function buildSecurityIssueReopenedNotification(
  issue: SecurityIssueRow,
  actor: string,
  change: IssueStatusChange,
): Notification {
  return buildIssueStatusNotification("reopened", issue, actor, change);
}
