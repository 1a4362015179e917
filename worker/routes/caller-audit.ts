import type { Context } from "hono";
import { type AuditInput, auditInsert } from "../domain/audit";
import { clientIp } from "../lib/request";
import type { AppEnv } from "../lib/router";

/**
 * The audit insert for a change the authenticated caller makes in their own account, with the
 * request's client address. Put it in the same db.batch() as the change.
 */
export function auditByCaller(c: Context<AppEnv>, input: AuditInput) {
  const principal = c.get("principal");
  return auditInsert(c.get("db"), principal, principal.accountId, input, clientIp(c.req.raw));
}
