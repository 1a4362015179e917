import { sendMail } from "../email/send";
import type { Env } from "../env";

/** HTML-escapes text from names an admin typed (an integration named "<b>" stays text). */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

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
