import { z } from "zod";
import type { Notification } from "../domain/notification";
import { markTest } from "./format";
import { DEFAULT_TIMEOUT_MS, jsonBytes, sendEach, sendHttp, splitBySize } from "./http";
import { destinationUrl } from "./settings-fields";
import type { Channel, SendContext } from "./types";

const sumologicSettingsSchema = z
  .object({
    /** The HTTP source URL; its last path segment is the source's token, so the URL is a secret. */
    url: destinationUrl,
  })
  .strict();
type SumologicSettings = z.infer<typeof sumologicSettingsSchema>;

/** One notification JSON per line: Sumo Logic splits an HTTP source's body into messages by line. */
export function renderSumologicBody(notifications: Notification[]): string {
  return notifications.map((n) => JSON.stringify(n)).join("\n");
}

/** Sumo Logic recommends HTTP requests of at most 1 MB. */
const SUMOLOGIC_MAX_BODY_BYTES = 900_000;

function send(ctx: SendContext<SumologicSettings>, notifications: Notification[]) {
  const marked = notifications.map((n) => markTest(n, ctx.test));
  return sendEach(splitBySize(marked, jsonBytes, SUMOLOGIC_MAX_BODY_BYTES), (group) => sendGroup(ctx, group));
}

function sendGroup(ctx: SendContext<SumologicSettings>, notifications: Notification[]) {
  const body = renderSumologicBody(notifications);
  return sendHttp({
    fetch: ctx.fetch,
    url: ctx.settings.url,
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "X-Sumo-Category": "herald/notifications",
      "X-Sumo-Name": "herald",
      "X-Sumo-Host": new URL(ctx.env.PUBLIC_URL).hostname,
    },
    body,
    loggedBody: body,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    secrets: ctx.secrets,
  });
}

export const sumologicChannel: Channel<SumologicSettings> = {
  type: "sumologic",
  title: "Sumo Logic",
  block: "incident_management_and_siem",
  settingsSchema: sumologicSettingsSchema,
  secretFields: ["url"],
  urlFields: ["url"],
  categories: ["system", "security_issue", "scope_change", "incident", "hit"],
  // Sumo Logic recommends HTTP source requests of 100 KB–1 MB; 100 notifications stay under 1 MB.
  batchLimit: 100,
  send,
};
