import { and, eq } from "drizzle-orm";
import { escapeHtml } from "../channels/text";
import { createDb } from "../db/client";
import { integrations, users } from "../db/schema";
import { type EventSubscriptions, subscribesTo } from "../domain/subscriptions";
import type { SystemEventRow } from "../domain/system-events";
import { sendMail } from "../email/send";
import type { Env } from "../env";
import { publishSystemEvents } from "../ingest/publish-system-events";

/**
 * Notices Herald raises by itself about something an admin must act on (an integration disabled
 * automatically, a scheduled report given up): a `system` event to the account's integrations
 * that subscribe to `system`, and a direct email to every admin who does not get those.
 */

/**
 * Announces a stored system event: published to the `system` integrations, then mailed to the
 * admins whose personal email does not carry it. Best effort: what raised it is already recorded.
 */
export async function raiseSystemNotice(
  env: Env,
  event: SystemEventRow,
  mail: { subject: string; text: string },
): Promise<void> {
  await publishSystemEvents(env, event.accountId, [event]);
  await notifyAdmins(env, { to: await adminsWithoutSystemEmail(env, event.accountId), ...mail });
}

/**
 * Emails a notice to each admin separately (one admin's address is not shown to the others).
 * Best effort: a failure is logged, never thrown — what raised the notice is already recorded and
 * the same notice reached the account's `system` integrations.
 */
async function notifyAdmins(env: Env, notice: { to: string[]; subject: string; text: string }): Promise<number> {
  const html = `<p>${escapeHtml(notice.text).replace(/\n/g, "<br>")}</p>`;
  const results = await Promise.all(
    notice.to.map((address) => sendMail(env, { to: [address], subject: notice.subject, text: notice.text, html })),
  );
  let sent = 0;
  results.forEach((result, i) => {
    if (result.ok) sent++;
    else console.error("admin notice not sent", { to: notice.to[i], error: result.error });
  });
  return sent;
}

/**
 * The addresses of the account's admins who need a `system` notice by direct email: every admin
 * except those whose enabled personal email integration subscribes to `system` (that one carries
 * the notice already: not twice).
 */
async function adminsWithoutSystemEmail(env: Env, accountId: string): Promise<string[]> {
  const admins = await createDb(env.DB)
    .select({ email: users.email, personalStatus: integrations.status, personalEvents: integrations.events })
    .from(users)
    .leftJoin(integrations, and(eq(integrations.userId, users.id), eq(integrations.type, "personal_email")))
    .where(and(eq(users.accountId, accountId), eq(users.role, "admin")));
  const getsSystemEvents = (admin: (typeof admins)[number]) =>
    admin.personalStatus === "enabled" &&
    subscribesTo((admin.personalEvents ?? {}) as EventSubscriptions, { type: "system" });
  return admins.filter((admin) => !getsSystemEvents(admin)).map((admin) => admin.email);
}
