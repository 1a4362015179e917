import { z } from "zod";
import type { Notification } from "../domain/notification";
import { markTest } from "./format";
import { DEFAULT_TIMEOUT_MS, sendEach, sendHttp } from "./http";
import { credential, destinationUrl } from "./settings-fields";
import type { Channel, SendContext } from "./types";

const insightconnectSettingsSchema = z
  .object({
    /** The workflow's API trigger URL (…/connect/v1/workflows/<id>/events/execute). */
    url: destinationUrl,
    api_key: credential(8, 256),
  })
  .strict();
type InsightconnectSettings = z.infer<typeof insightconnectSettingsSchema>;

/** One workflow run per notification: the canonical notification is the trigger's JSON body. */
function sendOne(ctx: SendContext<InsightconnectSettings>, notification: Notification) {
  const body = JSON.stringify(markTest(notification, ctx.test));
  return sendHttp({
    fetch: ctx.fetch,
    url: ctx.settings.url,
    method: "POST",
    headers: { "X-API-Key": ctx.settings.api_key, "Content-Type": "application/json" },
    body,
    loggedBody: body,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    secrets: ctx.secrets,
  });
}

export const insightconnectChannel: Channel<InsightconnectSettings> = {
  type: "insightconnect",
  title: "InsightConnect",
  block: "incident_management_and_siem",
  settingsSchema: insightconnectSettingsSchema,
  secretFields: ["api_key"],
  urlFields: ["url"],
  categories: ["system", "security_issue", "scope_change", "incident", "hit"],
  batchLimit: 1,
  send: (ctx, notifications) => sendEach(notifications, (n) => sendOne(ctx, n)),
};
