import { and, eq, or, sql } from "drizzle-orm";
import { createDb } from "../db/client";
import { integrations } from "../db/schema";
import type { Env } from "../env";
import {
  currentKeyId,
  decryptSecrets,
  encryptSecrets,
  previousKeyIds,
  SecretsUnreadableError,
} from "../security/secrets";

/**
 * Key rotation (README "Rotating ENCRYPTION_KEY"): after the operator sets a new ENCRYPTION_KEY
 * and moves the old one to ENCRYPTION_KEYS_PREVIOUS, this re-seals every row still sealed with an
 * older key. It runs in the hourly cron (no tenant boundary to cross, nothing for an admin to
 * click), in bounded batches, and is idempotent: a row is only rewritten if its envelope still
 * carries the same old value (a concurrent PATCH wins). Every PATCH re-seals its row as well.
 */

interface ReencryptResult {
  reencrypted: number;
  /** Rows no configured key can open: their admins must re-enter the secrets. */
  unreadable: number;
  /** Rows on an old key left for the next run (batch limit). */
  remaining: number;
}

const BATCH = 200;

export async function reencryptSecrets(env: Env, limit = BATCH): Promise<ReencryptResult> {
  const db = createDb(env.DB);
  const keyId = await currentKeyId(env);
  // Only rows on a configured older key: rows on an unknown key cannot be opened and would
  // otherwise be scanned again on every run.
  const previous = await previousKeyIds(env);
  const result: ReencryptResult = { reencrypted: 0, unreadable: 0, remaining: 0 };
  if (previous.length === 0) return result;
  const stale = or(...previous.map((id) => sql`substr(${integrations.secrets}, 1, ${id.length + 1}) = ${`${id}:`}`));
  const rows = await db
    .select({ id: integrations.id, secrets: integrations.secrets })
    .from(integrations)
    .where(stale)
    .orderBy(integrations.id)
    .limit(limit + 1);
  result.remaining = Math.max(0, rows.length - limit);
  const updates = [];
  for (const row of rows.slice(0, limit)) {
    if (!row.secrets) continue;
    try {
      const secret = await decryptSecrets(env, row.id, row.secrets);
      const resealed = await encryptSecrets(env, row.id, secret);
      updates.push(
        db
          .update(integrations)
          .set({ secrets: resealed })
          .where(and(eq(integrations.id, row.id), eq(integrations.secrets, row.secrets))),
      );
    } catch (error) {
      if (!(error instanceof SecretsUnreadableError)) throw error;
      result.unreadable++;
    }
  }
  // A few dozen statements per batch keeps each D1 batch small.
  for (let i = 0; i < updates.length; i += 50) {
    const chunk = updates.slice(i, i + 50);
    const [first, ...rest] = chunk;
    if (first) await db.batch([first, ...rest]);
    result.reencrypted += chunk.length;
  }
  if (result.reencrypted || result.unreadable) console.info("integration secrets re-sealed", { keyId, ...result });
  return result;
}

/** The hourly cron step. */
export async function reencryptStep(_controller: ScheduledController, env: Env): Promise<void> {
  if (!env.ENCRYPTION_KEYS_PREVIOUS) return; // no older key is readable: nothing to re-seal
  await reencryptSecrets(env);
}
