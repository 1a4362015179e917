import { z } from "zod";
import type { Notification } from "../domain/notification";
import { markTest } from "./format";
import { DEFAULT_TIMEOUT_MS, jsonBytes, sendEach, sendHttp, splitBySize } from "./http";
import { credential, destinationUrl, label } from "./settings-fields";
import type { Channel, SendContext } from "./types";

const splunkSettingsSchema = z
  .object({
    /** The HEC base URL (https://host:8088); "/services/collector/event" is appended. */
    url: destinationUrl.refine(
      (value) => !/\/services\/collector/.test(new URL(value).pathname),
      "must be the HEC base URL (https://host:8088), without /services/collector",
    ),
    token: credential(8, 128, /^[A-Za-z0-9-]+$/),
    // Splunk index names: lowercase letters, digits, "_" and "-", not starting with "_" or "-".
    index: z
      .string()
      .trim()
      .regex(/^[a-z0-9][a-z0-9_-]{0,79}$/, { error: "must be a Splunk index name" })
      .optional(),
    source: label(255).optional(),
    sourcetype: label(255).optional(),
  })
  .strict();
type SplunkSettings = z.infer<typeof splunkSettingsSchema>;

const SPLUNK_DEFAULT_SOURCE = "herald";
const SPLUNK_DEFAULT_SOURCETYPE = "_json";

/** `<url>/services/collector/event`, keeping any proxy path prefix of the base URL. */
function splunkEventUrl(base: string): string {
  return `${base.replace(/\/+$/, "")}/services/collector/event`;
}

/** HEC event time: epoch seconds with milliseconds as the fraction. */
function epochSeconds(iso: string): number {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? Math.floor(Date.now() / 1000) : ms / 1000;
}

/** The batch as HEC expects it: one event object per notification, concatenated (newline-separated). */
export function renderSplunkBody(settings: SplunkSettings, publicUrl: string, notifications: Notification[]): string {
  const host = new URL(publicUrl).hostname;
  return notifications
    .map((n) =>
      JSON.stringify({
        time: epochSeconds(n.details.occurred_at),
        host,
        source: settings.source ?? SPLUNK_DEFAULT_SOURCE,
        sourcetype: settings.sourcetype ?? SPLUNK_DEFAULT_SOURCETYPE,
        ...(settings.index ? { index: settings.index } : {}),
        event: n,
      }),
    )
    .join("\n");
}

/** Under HEC's historical default max_content_length (1 MB). */
const SPLUNK_MAX_BODY_BYTES = 900_000;

function send(ctx: SendContext<SplunkSettings>, notifications: Notification[]) {
  const marked = notifications.map((n) => markTest(n, ctx.test));
  return sendEach(splitBySize(marked, jsonBytes, SPLUNK_MAX_BODY_BYTES), (group) => sendGroup(ctx, group));
}

function sendGroup(ctx: SendContext<SplunkSettings>, notifications: Notification[]) {
  const body = renderSplunkBody(ctx.settings, ctx.env.PUBLIC_URL, notifications);
  return sendHttp({
    fetch: ctx.fetch,
    url: splunkEventUrl(ctx.settings.url),
    method: "POST",
    headers: {
      Authorization: `Splunk ${ctx.settings.token}`,
      "Content-Type": "application/json",
      // Required when the token has indexer acknowledgement on; ignored otherwise.
      "X-Splunk-Request-Channel": ctx.integrationId,
    },
    body,
    loggedBody: body,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    secrets: ctx.secrets,
  });
}

export const splunkChannel: Channel<SplunkSettings> = {
  type: "splunk",
  title: "Splunk",
  block: "incident_management_and_siem",
  settingsSchema: splunkSettingsSchema,
  secretFields: ["token"],
  urlFields: ["url"],
  categories: ["system", "security_issue", "scope_change", "incident", "hit"],
  // HEC's default max_content_length is 1 MB on older versions; 100 events of a few KiB fit.
  batchLimit: 100,
  send,
};
