import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { integrations } from "../db/schema";
import type { FieldError } from "../lib/errors";

/**
 * An integration's fallback (`fallback_integration_id`): another integration of the same account
 * that receives the notifications of its dead deliveries (docs/delivery.md#fallback). One step
 * only: a fallback names no fallback itself, so nothing cascades.
 */

const FIELD = "fallback_integration_id";

/**
 * Why `fallbackId` cannot be the fallback of integration `integrationId` (null while creating it):
 * field errors naming `fallback_integration_id`, empty when it can.
 */
export async function validateFallback(
  db: Db,
  accountId: string,
  integrationId: string | null,
  fallbackId: string,
): Promise<FieldError[]> {
  if (fallbackId === integrationId) return [{ field: FIELD, message: "An integration cannot be its own fallback." }];
  const [fallback, fallbackOf] = await Promise.all([
    db.query.integrations.findFirst({
      columns: { name: true, fallbackIntegrationId: true },
      where: and(eq(integrations.id, fallbackId), eq(integrations.accountId, accountId)),
    }),
    integrationId
      ? db.query.integrations.findFirst({
          columns: { name: true },
          where: and(eq(integrations.accountId, accountId), eq(integrations.fallbackIntegrationId, integrationId)),
        })
      : undefined,
  ]);
  if (!fallback) return [{ field: FIELD, message: "No integration of this account has this id." }];
  if (fallback.fallbackIntegrationId) {
    return [
      {
        field: FIELD,
        message: `"${fallback.name}" has a fallback of its own; a fallback's dead deliveries are not handed on again.`,
      },
    ];
  }
  if (fallbackOf) {
    return [
      {
        field: FIELD,
        message: `This integration is the fallback of "${fallbackOf.name}"; a fallback cannot have a fallback of its own.`,
      },
    ];
  }
  return [];
}

/** The statement that forgets a deleted integration wherever it is named as a fallback (batch it with the delete). */
export function clearFallbackReferences(db: Db, accountId: string, deletedId: string) {
  return db
    .update(integrations)
    .set({ fallbackIntegrationId: null })
    .where(and(eq(integrations.accountId, accountId), eq(integrations.fallbackIntegrationId, deletedId)));
}

/** The same for a deleted user's personal email integration (batch it before the delete). */
export function clearFallbackReferencesToUser(db: Db, accountId: string, userId: string) {
  const personal = db
    .select({ id: integrations.id })
    .from(integrations)
    .where(and(eq(integrations.accountId, accountId), eq(integrations.userId, userId)));
  return db
    .update(integrations)
    .set({ fallbackIntegrationId: null })
    .where(and(eq(integrations.accountId, accountId), inArray(integrations.fallbackIntegrationId, personal)));
}
