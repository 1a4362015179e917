import { and, eq } from "drizzle-orm";
import { createDb } from "../db/client";
import { accounts, integrations } from "../db/schema";
import { auditInsert, SYSTEM_ACTOR } from "../domain/audit";
import { publishSystemEvents } from "../domain/publish";
import { buildSystemEvent, systemEventInsert } from "../domain/system-events";
import type { Env } from "../env";
import { uiLink } from "../lib/links";
import { adminsWithoutSystemEmail, notifyAdmins } from "./admin-mail";

export type AutoDisableReason = "auto_failure_ratio" | "destination_gone";

/** What the IntegrationDO decided; kept in its storage until D1 has recorded it. */
export interface DisableRequest {
  reason: AutoDisableReason;
  /** The figures shown to people: requests, failed, failure_ratio, window_seconds, ... */
  details: Record<string, string | number | boolean | null>;
  at: number;
}

export type DisableResult = "disabled" | "already_disabled" | "missing";

function describe(name: string, type: string, request: DisableRequest): string {
  const d = request.details;
  if (request.reason === "destination_gone") {
    return `Integration "${name}" (${type}) was disabled automatically: its destination answered 410 Gone.`;
  }
  const percent = Math.round(Number(d.failure_ratio) * 1000) / 10;
  const hours = Math.round((Number(d.window_seconds) / 3600) * 10) / 10;
  return (
    `Integration "${name}" (${type}) was disabled automatically: ${d.failed} of ${d.requests} requests ` +
    `(${percent} %) failed in the last ${hours} hours (threshold ${Number(d.threshold_ratio) * 100} %).`
  );
}

/**
 * Records an automatic disable (docs/delivery.md): the integration row (status, reason, figures), its audit
 * entry and the `integration_auto_disabled` system event in one atomic batch; then the notice to
 * the account's other integrations subscribed to `system` (this one is disabled now, so fan-out
 * skips it) and an email to every admin whose personal email does not already subscribe to
 * `system` (that one carries the notice). Returns "already_disabled" without any notice when an
 * admin disabled it first.
 */
export async function disableIntegration(
  env: Env,
  integrationId: string,
  request: DisableRequest,
): Promise<DisableResult> {
  const db = createDb(env.DB);
  const row = await db.query.integrations.findFirst({ where: eq(integrations.id, integrationId) });
  if (!row) return "missing";
  if (row.status !== "enabled") return "already_disabled";

  const message = describe(row.name, row.type, request);
  const event = buildSystemEvent(
    row.accountId,
    "integration_auto_disabled",
    "Herald",
    message,
    {
      integration_id: row.id,
      integration_name: row.name,
      integration_type: row.type,
      reason: request.reason,
      ...request.details,
    },
    request.at,
  );
  await db.batch([
    db
      .update(integrations)
      .set({
        status: "disabled",
        disabledReason: request.reason,
        disabledDetails: request.details,
        disabledAt: request.at,
        updatedAt: request.at,
      })
      .where(and(eq(integrations.id, row.id), eq(integrations.status, "enabled"))),
    auditInsert(db, SYSTEM_ACTOR, row.accountId, {
      action: "integration.auto_disabled",
      targetType: "integration",
      targetId: row.id,
      details: { name: row.name, type: row.type, reason: request.reason, ...request.details },
    }),
    systemEventInsert(db, event),
  ]);

  await publishSystemEvents(env, row.accountId, [event]);

  const [account, admins] = await Promise.all([
    db.query.accounts.findFirst({ where: eq(accounts.id, row.accountId) }),
    adminsWithoutSystemEmail(env, row.accountId),
  ]);
  await notifyAdmins(env, {
    to: admins,
    subject: `[Herald] Integration "${row.name}" was disabled automatically`,
    text: `${message}\n\nAccount: ${account?.name ?? row.accountId}\nPending deliveries are kept, paused. Re-enable the integration to resume or drop them:\n${uiLink(env.PUBLIC_URL, `/integrations/${row.id}`)}\n`,
  });
  return "disabled";
}
