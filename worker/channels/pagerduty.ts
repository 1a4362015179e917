import { z } from "zod";
import { incidentOf } from "../domain/incident-key";
import type { Notification } from "../domain/notification";
import { mainSectionOf, type Urgency, urgencyOf, viewOf } from "./format";
import { DEFAULT_TIMEOUT_MS, idempotencyKey, sendEach, sendHttp } from "./http";
import { credential } from "./settings-fields";
import { capStrings, cut } from "./text";
import type { Channel, SendContext } from "./types";

const pagerdutySettingsSchema = z
  .object({
    /** The Events API v2 integration key: exactly 32 characters. */
    routing_key: credential(32, 32, /^[A-Za-z0-9]{32}$/),
  })
  .strict();
type PagerdutySettings = z.infer<typeof pagerdutySettingsSchema>;

/** docs/channels.md#severity-mapping: critical→critical, high→error, medium→warning, low/info→info. */
const SEVERITY: Record<Urgency, "critical" | "error" | "warning" | "info"> = {
  critical: "critical",
  high: "error",
  medium: "warning",
  low: "info",
  info: "info",
};

/** Events API v2 field limits. */
const PAGERDUTY_LIMITS = { summary: 1024, dedupKey: 255, source: 255, component: 255, group: 255, class: 255 };

const str = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);

/** The grouped-by host of a threshold notice, if it has one. */
function groupHost(s: Record<string, unknown>): string | undefined {
  return s.group && typeof s.group === "object" ? str((s.group as Record<string, unknown>).host) : undefined;
}

/**
 * The Events API v2 event for one notification (routing_key included): a "trigger", or for a
 * notification that resolves its incident (docs/channels.md#incidents) a "resolve" with the same
 * dedup_key. `fallbackKey` (the delivery id) is the dedup_key of notifications without an incident
 * key and of test sends, which must never touch a real incident.
 */
export function renderPagerdutyEvent(
  routingKey: string,
  notification: Notification,
  fallbackKey: string,
  publicUrl: string,
  test?: boolean,
) {
  const incident = test ? undefined : incidentOf(notification);
  const dedupKey = cut(incident?.incident_key ?? fallbackKey, PAGERDUTY_LIMITS.dedupKey);
  if (incident?.incident_action === "resolve") {
    return { routing_key: routingKey, event_action: "resolve" as const, dedup_key: dedupKey };
  }
  const view = viewOf(notification, test);
  const s = mainSectionOf(notification);
  const heraldHost = new URL(publicUrl).hostname;
  return {
    routing_key: routingKey,
    event_action: "trigger" as const,
    dedup_key: dedupKey,
    payload: {
      summary: cut(view.headline, PAGERDUTY_LIMITS.summary),
      // "The unique location of the affected system": the attacked host when there is one.
      source: cut(str(s.host) ?? groupHost(s) ?? heraldHost, PAGERDUTY_LIMITS.source),
      severity: SEVERITY[urgencyOf(notification)],
      timestamp: notification.details.occurred_at,
      component: cut(str(s.path) ?? str(s.object_type) ?? str(s.name) ?? "herald", PAGERDUTY_LIMITS.component),
      group: cut(view.clientName || "herald", PAGERDUTY_LIMITS.group),
      class: cut(str(s.vuln_type) ?? str(s.attack_type) ?? view.notificationType, PAGERDUTY_LIMITS.class),
      // Events API v2 rejects events over 512 KB: no single string may dominate.
      custom_details: capStrings({ description: notification.description, ...notification.details }, 4000),
    },
    client: "Herald",
    client_url: publicUrl,
    links: view.link ? [{ href: view.link, text: "Open in Herald" }] : [],
  };
}

function sendOne(ctx: SendContext<PagerdutySettings>, notification: Notification, fallbackKey: string) {
  const event = renderPagerdutyEvent(ctx.settings.routing_key, notification, fallbackKey, ctx.env.PUBLIC_URL, ctx.test);
  const body = JSON.stringify(event);
  return sendHttp({
    fetch: ctx.fetch,
    url: ctx.env.PAGERDUTY_EVENTS_URL,
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body,
    loggedBody: JSON.stringify({ ...event, routing_key: "[redacted]" }),
    timeoutMs: DEFAULT_TIMEOUT_MS,
    secrets: ctx.secrets,
  });
}

export const pagerdutyChannel: Channel<PagerdutySettings> = {
  type: "pagerduty",
  title: "PagerDuty",
  block: "incident_management_and_siem",
  settingsSchema: pagerdutySettingsSchema,
  secretFields: ["routing_key"],
  urlFields: [],
  categories: ["system", "security_issue", "scope_change", "incident"],
  batchLimit: 1,
  send: (ctx, notifications) =>
    sendEach(notifications, (n, i) => sendOne(ctx, n, idempotencyKey(ctx.deliveryId, i, notifications.length))),
};
