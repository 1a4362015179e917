import { z } from "zod";
import { incidentOf } from "../domain/incident-key";
import type { Notification } from "../domain/notification";
import { mainSectionOf, type Urgency, urgencyOf, viewOf } from "./format";
import { DEFAULT_TIMEOUT_MS, idempotencyKey, sendEach, sendHttp } from "./http";
import { credential } from "./settings-fields";
import { cut, oneLine } from "./text";
import type { Channel, SendContext } from "./types";

const opsgenieSettingsSchema = z
  .object({
    /** An API integration's key (a UUID in Opsgenie's UI). */
    api_key: credential(8, 128, /^[A-Za-z0-9-]+$/),
    region: z.enum(["us", "eu"]).default("us"),
  })
  .strict();
type OpsgenieSettings = z.infer<typeof opsgenieSettingsSchema>;

/** docs/channels.md#severity-mapping: critical→P1, high→P2, medium→P3, low→P4, info→P5. */
const PRIORITY: Record<Urgency, "P1" | "P2" | "P3" | "P4" | "P5"> = {
  critical: "P1",
  high: "P2",
  medium: "P3",
  low: "P4",
  info: "P5",
};

/** Alert API v2 limits (create alert). */
const OPSGENIE_LIMITS = {
  message: 130,
  alias: 512,
  description: 15000,
  entity: 512,
  source: 100,
  tags: 20,
  tag: 50,
  /** Opsgenie caps the whole details map; keep each value short and the total well below it. */
  detailValue: 1000,
  detailsTotal: 8000,
  /** Close alert. */
  user: 100,
  note: 25000,
};

/** Flattens the notification's details into Opsgenie's string → string map ("hit.host": "…"). */
function flattenDetails(details: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  let total = 0;
  const put = (key: string, value: unknown) => {
    if (value === undefined || value === null || value === "") return;
    const text = cut(typeof value === "string" ? oneLine(value) : JSON.stringify(value), OPSGENIE_LIMITS.detailValue);
    if (total + key.length + text.length > OPSGENIE_LIMITS.detailsTotal) return;
    total += key.length + text.length;
    out[key] = text;
  };
  for (const [key, value] of Object.entries(details)) {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [inner, innerValue] of Object.entries(value as Record<string, unknown>)) {
        put(`${key}.${inner}`, innerValue);
      }
    } else put(key, value);
  }
  return out;
}

function tag(value: unknown): string | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  return cut(oneLine(value).replace(/\s+/g, "_"), OPSGENIE_LIMITS.tag);
}

/**
 * The create-alert request body for one notification. Its alias is the notification's incident key
 * (docs/channels.md#incidents): Opsgenie folds alerts with the alias of an open alert into it.
 * `fallbackAlias` (the delivery id) serves notifications without one, and test sends.
 */
export function renderOpsgenieAlert(notification: Notification, fallbackAlias: string, test?: boolean) {
  const view = viewOf(notification, test);
  const alias = (test ? undefined : incidentOf(notification)?.incident_key) ?? fallbackAlias;
  const section = mainSectionOf(notification);
  const tags = [
    "herald",
    tag(view.notificationType),
    tag(section.risk),
    tag(section.vuln_type ?? section.attack_type),
    test ? "test" : undefined,
  ].filter((t): t is string => !!t);
  // The canonical description already ends with the link back to Herald.
  const description = markTestDescription(notification.description, test);
  return {
    message: cut(view.headline, OPSGENIE_LIMITS.message),
    alias: cut(alias, OPSGENIE_LIMITS.alias),
    description: cut(description, OPSGENIE_LIMITS.description),
    details: flattenDetails(notification.details),
    priority: PRIORITY[urgencyOf(notification)],
    tags: [...new Set(tags)].slice(0, OPSGENIE_LIMITS.tags),
    entity: cut(typeof section.host === "string" ? oneLine(section.host) : view.clientName, OPSGENIE_LIMITS.entity),
    source: "Herald",
  };
}

/**
 * The close-alert request (Alert API v2: POST /v2/alerts/{alias}/close?identifierType=alias) for a
 * notification that resolves its incident, or undefined when it opens one.
 */
export function renderOpsgenieClose(notification: Notification, test?: boolean) {
  const incident = test ? undefined : incidentOf(notification);
  if (incident?.incident_action !== "resolve") return undefined;
  const actor = typeof notification.details.actor === "string" ? oneLine(notification.details.actor) : "";
  return {
    alias: incident.incident_key,
    body: {
      user: cut(actor || "Herald", OPSGENIE_LIMITS.user),
      source: "Herald",
      note: cut(viewOf(notification).headline, OPSGENIE_LIMITS.note),
    },
  };
}

function markTestDescription(description: string, test?: boolean): string {
  return test ? `[Test message]\n${description}` : description;
}

function opsgenieUrl(env: { OPSGENIE_API_URL_US: string; OPSGENIE_API_URL_EU: string }, region: "us" | "eu") {
  return region === "eu" ? env.OPSGENIE_API_URL_EU : env.OPSGENIE_API_URL_US;
}

function sendOne(ctx: SendContext<OpsgenieSettings>, notification: Notification, fallbackAlias: string) {
  const close = renderOpsgenieClose(notification, ctx.test);
  const alerts = opsgenieUrl(ctx.env, ctx.settings.region).replace(/\/+$/, "");
  const body = JSON.stringify(close ? close.body : renderOpsgenieAlert(notification, fallbackAlias, ctx.test));
  return sendHttp({
    fetch: ctx.fetch,
    url: close ? `${alerts}/${encodeURIComponent(close.alias)}/close?identifierType=alias` : alerts,
    method: "POST",
    headers: { Authorization: `GenieKey ${ctx.settings.api_key}`, "Content-Type": "application/json" },
    body,
    loggedBody: body,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    secrets: ctx.secrets,
  });
}

export const opsgenieChannel: Channel<OpsgenieSettings> = {
  type: "opsgenie",
  title: "Opsgenie",
  block: "incident_management_and_siem",
  settingsSchema: opsgenieSettingsSchema,
  secretFields: ["api_key"],
  urlFields: [],
  categories: ["system", "security_issue", "scope_change", "incident"],
  batchLimit: 1,
  send: (ctx, notifications) =>
    sendEach(notifications, (n, i) => sendOne(ctx, n, idempotencyKey(ctx.deliveryId, i, notifications.length))),
};
