import type { Notification, NotificationType } from "../domain/notification";
import { durationWords } from "../domain/trigger-notifications";
import { utcMinute } from "../lib/time";
import { clean, cut, oneLine } from "./text";

/**
 * A notification seen by the people-facing renderers (Slack, Telegram, email, Opsgenie,
 * PagerDuty): a headline, the key fields in a sensible order, and the link back to Herald.
 * All values are cleaned (no control characters, no lone surrogates) but NOT escaped: each
 * renderer escapes for its own markup.
 */
interface MessageField {
  label: string;
  value: string;
  /** Long free text (descriptions, payloads) that renderers show as a block, not inline. */
  long?: boolean;
}

export interface MessageView {
  /** The summary line, prefixed with "[Test message]" for test sends. */
  summary: string;
  /** Summary plus what it is about, e.g. "[Herald] New security issue detected — SQLi in /login (high)". */
  headline: string;
  notificationType: string;
  clientName: string;
  occurredAt: string;
  link: string;
  fields: MessageField[];
}

const TEST_MARKER = "[Test message]";

/** The notification as a test send carries it: summary prefixed with "[Test message]" once. */
export function markTest(notification: Notification, test: boolean | undefined): Notification {
  if (!test || notification.summary.startsWith(TEST_MARKER)) return notification;
  return { ...notification, summary: `${TEST_MARKER} ${notification.summary}` };
}

type Section = Record<string, unknown>;

function section(notification: Notification, name: string): Section | undefined {
  const value = notification.details[name];
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Section) : undefined;
}

/**
 * The section a notification is about, where PagerDuty and Opsgenie take host, risk and type from:
 * the event's, a system event's, or a trigger notice's threshold or node. Empty when none.
 */
export function mainSectionOf(notification: Notification): Section {
  for (const name of ["security_issue", "hit", "scope_change", "system", "threshold", "node"]) {
    const found = section(notification, name);
    if (found) return found;
  }
  return {};
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "string") return clean(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return clean(JSON.stringify(value));
}

function humanize(key: string): string {
  const words = key.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** "POST shop.example.com/api/login" from the event's method, host and path. */
function target(s: Section): string | undefined {
  const host = text(s.host);
  const path = text(s.path);
  if (!host && !path) return undefined;
  return [text(s.method), `${host ?? ""}${path ?? ""}`].filter(Boolean).join(" ");
}

const LONG_TEXT_LIMIT = 1000;

function push(fields: MessageField[], label: string, value: unknown, long = false): void {
  const shown = text(value);
  if (shown === undefined) return;
  fields.push({ label, value: long ? cut(shown, LONG_TEXT_LIMIT) : cut(oneLine(shown), 500), long });
}

function securityIssueFields(s: Section): MessageField[] {
  const fields: MessageField[] = [];
  push(fields, "Risk", s.risk);
  push(fields, "Title", s.title);
  push(fields, "Vulnerability type", s.vuln_type);
  push(fields, "Target", target(s));
  push(fields, "Parameter", s.parameter);
  push(fields, "Discovered by", s.discovered_by);
  push(fields, "Description", s.description, true);
  return fields;
}

function hitFields(s: Section, incident: boolean): MessageField[] {
  const fields: MessageField[] = [];
  push(fields, "Attack type", s.attack_type);
  push(fields, "Action", s.block_status);
  push(fields, "Target", target(s));
  const source = text(s.remote_addr);
  push(fields, "Source", source && s.remote_country ? `${source} (${text(s.remote_country)})` : source);
  push(fields, "Response status", s.response_status);
  push(fields, "Hits", s.count);
  push(fields, "Application", s.application);
  push(fields, "Attack point", s.point);
  if (incident) push(fields, "Security issue", s.security_issue_id);
  push(fields, "Request ID", s.request_id);
  push(fields, "Payload", s.payload, true);
  return fields;
}

function scopeChangeFields(s: Section): MessageField[] {
  const fields: MessageField[] = [];
  push(fields, "Change", s.change);
  push(fields, "Object type", s.object_type);
  push(fields, "Value", s.value);
  return fields;
}

function systemFields(s: Section): MessageField[] {
  const fields: MessageField[] = [];
  push(fields, "What happened", s.message);
  push(fields, "By", s.actor);
  const subject = s.subject && typeof s.subject === "object" ? (s.subject as Section) : {};
  for (const [key, value] of Object.entries(subject)) push(fields, humanize(key), value);
  return fields;
}

function reportPeriod(report: Section): string | undefined {
  const period = report.period;
  if (typeof period === "string") return clean(period);
  const p = period && typeof period === "object" ? (period as Section) : report;
  const start = text(p.start ?? p.period_start);
  const end = text(p.end ?? p.period_end);
  if (!start) return undefined;
  const zone = text(report.time_zone);
  return `${start}${end && end !== start ? ` – ${end}` : ""}${zone ? ` (${zone})` : ""}`;
}

const isSection = (value: unknown): value is Section => !!value && typeof value === "object" && !Array.isArray(value);

/** A count, or a {current, change_pct} comparison: "120 (+20% vs previous)". */
function figure(value: unknown): string | undefined {
  if (typeof value === "number" || typeof value === "string") return text(value);
  if (!isSection(value) || typeof value.current !== "number") return undefined;
  const pct = value.change_pct;
  if (typeof pct !== "number")
    return value.current > 0 && value.previous === 0 ? `${value.current} (new)` : String(value.current);
  return `${value.current} (${pct > 0 ? "+" : ""}${pct}% vs previous)`;
}

/** "critical 1, high 3" from a map of figures (zeros left out; "0" when all are zero). */
function figures(value: Section): string {
  const parts = Object.entries(value)
    .map(([key, v]) => [key, isSection(v) ? v.current : v] as const)
    .filter(([, v]) => typeof v === "number" && v > 0)
    .map(([key, v]) => `${humanize(key).toLowerCase()} ${v}`);
  return parts.length ? parts.join(", ") : "0";
}

/** Reports are opaque here (the reports module owns their shape); totals are shown when present. */
function reportFields(report: Section): MessageField[] {
  const fields: MessageField[] = [];
  push(fields, "Period", reportPeriod(report));
  const totals = isSection(report.totals) ? report.totals : {};
  for (const [key, value] of Object.entries(totals)) {
    const shown = figure(value);
    if (shown !== undefined) push(fields, humanize(key), shown);
    else if (isSection(value)) push(fields, humanize(key), figures(value));
  }
  if (isSection(report.open_security_issues))
    push(fields, "Open security issues", figures(report.open_security_issues));
  if (Array.isArray(report.top_attack_types) && report.top_attack_types.length) {
    const top = report.top_attack_types
      .filter(isSection)
      .map((row) => `${text(row.key)} ${text(row.count)}`)
      .join(", ");
    push(fields, "Top attack types", top);
  }
  if (Array.isArray(report.auto_disabled_integrations) && report.auto_disabled_integrations.length) {
    const names = report.auto_disabled_integrations.filter(isSection).map((row) => text(row.name) ?? "?");
    push(fields, "Auto-disabled integrations", names.join(", "));
  }
  return fields;
}

/** "pay.example.com 120, api.example.com 22" from a top list of {key, count}. */
function topList(value: unknown): string | undefined {
  if (!Array.isArray(value)) return undefined;
  return value
    .filter(isSection)
    .map((row) => `${text(row.key) ?? "(empty)"} ${text(row.count) ?? "?"}`)
    .join(", ");
}

/** "2026-11-29 09:55–10:00 UTC" (one day) or both instants in full. */
function windowOf(s: Section): string | undefined {
  const start = text(s.window_start);
  const end = text(s.window_end);
  if (!start || !end) return undefined;
  const [from, to] = [readableTime(start), readableTime(end)];
  return from.slice(0, 10) === to.slice(0, 10) ? `${from.slice(0, 16)}–${to.slice(11)}` : `${from} – ${to}`;
}

function thresholdFields(trigger: Section, s: Section): MessageField[] {
  const fields: MessageField[] = [];
  push(fields, "Trigger", trigger.name);
  push(fields, "Group", text(s.group_key)?.split(",").join(", ") || "none");
  push(fields, "What crossed", s.crossed);
  push(fields, "Window", windowOf(s));
  push(fields, "Top hosts", topList(s.top_hosts));
  push(fields, "Top attack types", topList(s.top_attack_types));
  push(fields, "Top source IPs", topList(s.top_source_ips));
  push(fields, "Top countries", topList(s.top_countries));
  return fields;
}

function nodeFields(trigger: Section, s: Section): MessageField[] {
  const fields: MessageField[] = [];
  push(fields, "What happened", s.message);
  push(fields, "Trigger", trigger.name);
  const name = text(s.name);
  push(fields, "Node", name && s.id ? `${name} (${text(s.id)})` : name);
  const last = text(s.last_event_at);
  push(fields, "Last event", last ? readableTime(last) : "never");
  const silent = s.silent_for_seconds;
  if (typeof silent === "number") push(fields, "Silent for", durationWords(silent * 1000));
  if (typeof s.silence_threshold_minutes === "number") push(fields, "Threshold", `${s.silence_threshold_minutes} min`);
  return fields;
}

function issueStatusFields(s: Section): MessageField[] {
  const fields: MessageField[] = [];
  push(fields, "What happened", s.message);
  push(fields, "Risk", s.risk);
  push(fields, "Title", s.title);
  push(fields, "Vulnerability type", s.vuln_type);
  push(fields, "Target", target(s));
  return fields;
}

function subjectOf(type: string, s: Section | undefined): string | undefined {
  if (!s) return undefined;
  if (type === "trigger_threshold") {
    const group = text(s.group_key);
    return group ? `${text(s.crossed)} (${group.split(",").join(", ")})` : text(s.crossed);
  }
  if (type === "node_silent" || type === "node_recovered") return text(s.name);
  if (type === "security_issue" || type === "security_issue_closed" || type === "security_issue_reopened") {
    // The host belongs in the headline: one scanner finding on two hosts is two issues, and an
    // inbox that shows two identical subjects reads as a duplicate.
    const title = [text(s.title), text(s.host)].filter(Boolean).join(" on ") || undefined;
    const risk = text(s.risk);
    return title && risk ? `${title} (${risk})` : title;
  }
  if (type === "new_hits" || type === "incident") {
    const attack = text(s.attack_type);
    const where = [text(s.host), text(s.path)].filter(Boolean).join("");
    return attack && where ? `${attack} on ${where}` : (attack ?? where);
  }
  if (type === "scope_change") return [text(s.change), text(s.object_type), text(s.value)].filter(Boolean).join(" ");
  // System events: the object concerned ("SIEM bridge", "dana@acme.example"); the sentence is a field.
  const subject = isSection(s.subject) ? s.subject : {};
  return text(subject.integration_name ?? subject.user_email ?? subject.node_name ?? subject.name) ?? text(s.message);
}

/** "2026-11-29 10:00 UTC" from an RFC 3339 time; anything else as given. */
function readableTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${utcMinute(ms)} UTC`;
}

/** A trigger_event notice seen as the event's own notification (with the trigger's summary). */
function wrappedEvent(notification: Notification): Notification | undefined {
  const inner = notification.details.event_notification_type;
  if (typeof inner !== "string" || inner === "trigger_event") return undefined;
  return { ...notification, details: { ...notification.details, notification_type: inner as NotificationType } };
}

/** Builds the people-facing view of a notification. */
export function viewOf(notification: Notification, test?: boolean): MessageView {
  const marked = markTest(notification, test);
  const type = String(notification.details.notification_type);
  const trigger = section(notification, "trigger") ?? {};
  const event = type === "trigger_event" ? wrappedEvent(notification) : undefined;
  if (event) {
    // The event's own view, named after the trigger so the reader knows why it came.
    const view = viewOf(event, test);
    const fields: MessageField[] = [];
    push(fields, "Trigger", trigger.name);
    return { ...view, notificationType: type, fields: [...fields, ...view.fields] };
  }
  let fields: MessageField[];
  let about: Section | undefined;
  if (type === "trigger_threshold") {
    about = section(notification, "threshold");
    fields = thresholdFields(trigger, about ?? {});
  } else if (type === "node_silent" || type === "node_recovered") {
    about = section(notification, "node");
    fields = nodeFields(trigger, about ?? {});
  } else if (type === "security_issue_closed" || type === "security_issue_reopened") {
    about = section(notification, "security_issue");
    fields = issueStatusFields(about ?? {});
  } else if (type === "security_issue") {
    about = section(notification, "security_issue");
    fields = securityIssueFields(about ?? {});
  } else if (type === "new_hits" || type === "incident") {
    about = section(notification, "hit") ?? section(notification, type);
    fields = hitFields(about ?? {}, type === "incident");
  } else if (type === "scope_change") {
    about = section(notification, "scope_change");
    fields = scopeChangeFields(about ?? {});
  } else if (type.startsWith("report_")) {
    fields = reportFields(section(notification, "report") ?? {});
  } else {
    about = section(notification, "system");
    fields = systemFields(about ?? {});
  }
  const summary = oneLine(marked.summary);
  const subject = subjectOf(type, about);
  return {
    summary,
    headline: subject ? `${summary} — ${oneLine(subject)}` : summary,
    notificationType: type,
    clientName: oneLine(String(notification.details.client_name ?? "")),
    occurredAt: readableTime(oneLine(String(notification.details.occurred_at ?? ""))),
    link: oneLine(String(notification.details.link ?? "")),
    fields,
  };
}

/** How urgent a notification is, on the event risk scale (docs/channels.md#severity-mapping maps it per system). */
export type Urgency = "critical" | "high" | "medium" | "low" | "info";

export function urgencyOf(notification: Notification): Urgency {
  const type = notification.details.notification_type;
  if (type === "trigger_event") {
    const event = wrappedEvent(notification);
    return event ? urgencyOf(event) : "info";
  }
  // An admin asked to be told: a crossed threshold or a silent node is worth an on-call page.
  if (type === "trigger_threshold" || type === "node_silent") return "high";
  if (type === "node_recovered" || type === "security_issue_closed") return "info";
  if (type === "incident") return "critical";
  if (type === "security_issue" || type === "security_issue_reopened") {
    const risk = section(notification, "security_issue")?.risk;
    if (risk === "critical" || risk === "high" || risk === "medium" || risk === "low") return risk;
    return "info";
  }
  if (type === "new_hits") return section(notification, "hit")?.block_status === "blocked" ? "low" : "medium";
  if (type === "integration_auto_disabled" || type === "delivery_dead") return "medium";
  if (type === "scope_change") return "low";
  return "info";
}
