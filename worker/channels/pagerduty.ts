import { z } from "zod";
import type { Notification } from "../domain/notification";
import { type Urgency, urgencyOf, viewOf } from "./format";
import { DEFAULT_TIMEOUT_MS, idempotencyKey, sendEach, sendHttp } from "./http";
import { credential } from "./settings-fields";
import { capStrings, cut } from "./text";
import type { Channel, SendContext } from "./types";

export const pagerdutySettingsSchema = z
  .object({
    /** The Events API v2 integration key: exactly 32 characters. */
    routing_key: credential(32, 32, /^[A-Za-z0-9]{32}$/),
  })
  .strict();
export type PagerdutySettings = z.infer<typeof pagerdutySettingsSchema>;

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

function sectionOf(notification: Notification): Record<string, unknown> {
  for (const name of ["security_issue", "hit", "scope_change", "system"]) {
    const value = notification.details[name];
    if (value && typeof value === "object") return value as Record<string, unknown>;
  }
  return {};
}

const str = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);

/** The Events API v2 "trigger" event for one notification (routing_key included). */
export function renderPagerdutyEvent(
  routingKey: string,
  notification: Notification,
  dedupKey: string,
  publicUrl: string,
  test?: boolean,
) {
  const view = viewOf(notification, test);
  const s = sectionOf(notification);
  const heraldHost = new URL(publicUrl).hostname;
  return {
    routing_key: routingKey,
    event_action: "trigger",
    dedup_key: cut(dedupKey, PAGERDUTY_LIMITS.dedupKey),
    payload: {
      summary: cut(view.headline, PAGERDUTY_LIMITS.summary),
      // "The unique location of the affected system": the attacked host when there is one.
      source: cut(str(s.host) ?? heraldHost, PAGERDUTY_LIMITS.source),
      severity: SEVERITY[urgencyOf(notification)],
      timestamp: notification.details.occurred_at,
      component: cut(str(s.path) ?? str(s.object_type) ?? "herald", PAGERDUTY_LIMITS.component),
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

function sendOne(ctx: SendContext<PagerdutySettings>, notification: Notification, dedupKey: string) {
  const event = renderPagerdutyEvent(ctx.settings.routing_key, notification, dedupKey, ctx.env.PUBLIC_URL, ctx.test);
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
