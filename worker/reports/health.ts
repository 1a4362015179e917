import type { Env } from "../env";
import type { IntegrationHealth } from "./schema";

/** Integrations listed in a report; an account with more is rare and the rest add little. */
const MAX_INTEGRATIONS = 50;
/** A Durable Object that does not answer in time is reported without figures, not waited for. */
const HEALTH_TIMEOUT_MS = 2_000;

const AUTO_DISABLE_REASONS = new Set(["auto_failure_ratio", "destination_gone"]);

interface WindowFigures {
  seconds: number;
  requests: number;
  failed: number;
}

/** The part of the IntegrationDO's health answer a report uses (its 12-hour request window). */
interface HealthAnswer {
  window?: Partial<WindowFigures>;
}

interface HealthRpc {
  health(): Promise<HealthAnswer>;
}

async function windowOf(env: Env, integrationId: string): Promise<WindowFigures | null> {
  const stub = env.INTEGRATION_DO.get(env.INTEGRATION_DO.idFromName(integrationId)) as unknown as HealthRpc;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const answer = await Promise.race([
      stub.health(),
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), HEALTH_TIMEOUT_MS);
      }),
    ]);
    const window = answer?.window;
    if (!window || typeof window.requests !== "number" || typeof window.failed !== "number") return null;
    return { seconds: Number(window.seconds ?? 0), requests: window.requests, failed: window.failed };
  } catch {
    // No health RPC (older object) or it failed: the report still lists the integration.
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Each integration's delivery success rate (from its Durable Object's request window) and the
 * integrations disabled automatically, as the report shows them.
 */
export async function integrationHealth(
  env: Env,
  accountId: string,
): Promise<{ integrations: IntegrationHealth[]; auto_disabled: IntegrationHealth[] }> {
  const { results } = await env.DB.prepare(
    `SELECT id, name, type, status, disabled_reason, disabled_at FROM integrations
     WHERE account_id = ? ORDER BY status DESC, name LIMIT ${MAX_INTEGRATIONS}`,
  )
    .bind(accountId)
    .all<{
      id: string;
      name: string;
      type: string;
      status: string;
      disabled_reason: string | null;
      disabled_at: number | null;
    }>();
  const windows = await Promise.all(results.map((row) => windowOf(env, row.id)));
  const integrations = results.map((row, i): IntegrationHealth => {
    const window = windows[i] ?? null;
    return {
      id: row.id,
      name: row.name,
      type: row.type,
      status: row.status,
      disabled_reason: row.disabled_reason,
      disabled_at: row.disabled_at === null ? null : new Date(row.disabled_at).toISOString(),
      window_seconds: window ? window.seconds : null,
      requests: window ? window.requests : null,
      failed: window ? window.failed : null,
      success_rate: window && window.requests > 0 ? (window.requests - window.failed) / window.requests : null,
    };
  });
  return {
    integrations,
    auto_disabled: integrations.filter(
      (row) => row.status === "disabled" && AUTO_DISABLE_REASONS.has(row.disabled_reason ?? ""),
    ),
  };
}
