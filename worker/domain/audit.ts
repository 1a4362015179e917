import type { Db } from "../db/client";
import { auditLog } from "../db/schema";
import { uuidv7 } from "../lib/ids";
import type { Principal } from "../lib/principal";

export interface AuditInput {
  action: string;
  targetType: string;
  targetId?: string | null;
  /** What changed. Callers pass secrets already masked; redactSecrets() is a last line of defence. */
  details?: Record<string, unknown>;
}

/** Actor of changes Herald makes by itself (auto-disable, retention). */
export const SYSTEM_ACTOR = { kind: "system" as const };

const SECRET_KEY = /(secret|token|password|api_key|routing_key|webhook_url|authorization|key)$/i;

/** Replaces values of secret-looking keys with a mask, recursively. */
function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        SECRET_KEY.test(k) && typeof v === "string" && v !== "" && !v.startsWith("••") ? "••••" : redactSecrets(v),
      ]),
    );
  }
  return value;
}

/**
 * An audit insert to put in the same db.batch() as the change it records, so a change is never
 * stored without its audit entry (or the other way round).
 */
export function auditInsert(
  db: Db,
  actor: Principal | typeof SYSTEM_ACTOR,
  accountId: string,
  input: AuditInput,
  ip?: string | null,
) {
  const isSystem = actor.kind === "system";
  return db.insert(auditLog).values({
    id: uuidv7(),
    accountId,
    actorType: isSystem ? "system" : actor.kind === "session" ? "user" : "api_token",
    actorId: isSystem ? null : (actor.userId ?? actor.tokenId ?? null),
    actorLabel: isSystem ? "Herald" : actor.label,
    action: input.action,
    targetType: input.targetType,
    targetId: input.targetId ?? null,
    details: input.details ? redactSecrets(input.details) : null,
    ip: ip ?? null,
    createdAt: Date.now(),
  });
}
