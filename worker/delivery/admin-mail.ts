import { and, eq } from "drizzle-orm";
import { escapeHtml } from "../channels/text";
import { createDb } from "../db/client";
import { integrations, users } from "../db/schema";
import { type EventSubscriptions, subscribesTo } from "../domain/subscriptions";
import { sendMail } from "../email/send";
import type { Env } from "../env";

/**
 * Emails a notice to each admin separately (one admin's address is not shown to the others).
 * Best effort: a failure is logged, never thrown — the disable itself is already recorded and
 * the same notice reached the account's `system` integrations.
 */
export async function notifyAdmins(env: Env, notice: { to: string[]; subject: string; text: string }): Promise<number> {
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
export async function adminsWithoutSystemEmail(env: Env, accountId: string): Promise<string[]> {
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
