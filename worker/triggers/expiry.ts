import { and, eq, isNull, lte, sql } from "drizzle-orm";
import { createDb } from "../db/client";
import { auditLog, silences } from "../db/schema";
import type { Env } from "../env";
import { uuidv7 } from "../lib/ids";
import { iso } from "../lib/time";

/** Silences audited per cron run; more wait for the next minute. */
const EXPIRY_BATCH = 100;

/**
 * The minute cron's step that writes `silence.expired` to the audit log once for each silence
 * whose end has passed (docs/triggers.md#silences). Entry and mark go in one batch, and the entry
 * is inserted only while the mark is unset, so two runs racing still audit a silence once.
 */
export async function silenceExpiryStep(_controller: unknown, env: Pick<Env, "DB">, _ctx?: unknown, now = Date.now()) {
  const db = createDb(env.DB);
  const due = await db
    .select()
    .from(silences)
    .where(and(isNull(silences.expiryAuditedAt), lte(silences.endsAt, now)))
    .limit(EXPIRY_BATCH);
  if (due.length === 0) return;
  const [first, ...rest] = due.flatMap((row) => {
    const details = JSON.stringify({ name: row.name, ended_at: iso(row.endsAt), silenced_count: row.silencedCount });
    return [
      // Columns in audit_log's order (worker/db/schema.ts), selected only while the mark is unset.
      db.insert(auditLog).select(
        sql`SELECT ${uuidv7(now)}, ${row.accountId}, 'system', NULL, 'Herald', 'silence.expired', 'silence',
          ${row.id}, ${details}, NULL, ${now}
        FROM ${silences} WHERE ${silences.id} = ${row.id} AND ${silences.expiryAuditedAt} IS NULL`,
      ),
      db
        .update(silences)
        .set({ expiryAuditedAt: now })
        .where(and(eq(silences.id, row.id), isNull(silences.expiryAuditedAt))),
    ];
  });
  if (first) await db.batch([first, ...rest]);
}
