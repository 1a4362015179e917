import { AUTO_DISABLE_REASONS, type DisableReason } from "../db/schema";
import type { ReportPeriod } from "../domain/report-periods";
import type { Env } from "../env";
import { isoOrNull } from "../lib/time";
import { integrationObject } from "../outbox/object";
import type { IntegrationHealth } from "./schema";

/** Integrations listed in a report; an account with more is rare and the rest add little. */
const MAX_INTEGRATIONS = 50;
/** A Durable Object that does not answer in time is reported without figures, not waited for. */
const HEALTH_TIMEOUT_MS = 2_000;

const AUTOMATIC = new Set<string>(AUTO_DISABLE_REASONS);

interface PeriodFigures {
  seconds: number;
  requests: number;
  failed: number;
}

/** The IntegrationDO's answer about a period (worker/delivery/views.ts PeriodHealth). */
interface PeriodAnswer {
  from?: number;
  to?: number;
  requests?: number;
  failed?: number;
}

interface HealthRpc {
  periodHealth(from: number, to: number): Promise<PeriodAnswer>;
}

async function figuresOf(env: Env, integrationId: string, period: ReportPeriod): Promise<PeriodFigures | null> {
  const stub = integrationObject(env, integrationId) as unknown as HealthRpc;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const answer = await Promise.race([
      stub.periodHealth(period.startMs, period.endMs),
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), HEALTH_TIMEOUT_MS);
      }),
    ]);
    if (!answer || typeof answer.requests !== "number" || typeof answer.failed !== "number") return null;
    const seconds = Math.max(0, Math.round((Number(answer.to) - Number(answer.from)) / 1000));
    return { seconds, requests: answer.requests, failed: answer.failed };
  } catch {
    // The object did not answer: the report still lists the integration, without figures.
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Each integration's delivery success rate over the report's period (from its Durable Object's
 * attempt log, which reaches back as far as the delivery log is kept) and the integrations
 * disabled automatically, as the report shows them.
 */
export async function integrationHealth(
  env: Env,
  accountId: string,
  period: ReportPeriod,
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
      disabled_reason: DisableReason | null;
      disabled_at: number | null;
    }>();
  const windows = await Promise.all(results.map((row) => figuresOf(env, row.id, period)));
  const integrations = results.map((row, i): IntegrationHealth => {
    const window = windows[i] ?? null;
    return {
      id: row.id,
      name: row.name,
      type: row.type,
      status: row.status,
      disabled_reason: row.disabled_reason,
      disabled_at: isoOrNull(row.disabled_at),
      window_seconds: window ? window.seconds : null,
      requests: window ? window.requests : null,
      failed: window ? window.failed : null,
      success_rate: window && window.requests > 0 ? (window.requests - window.failed) / window.requests : null,
    };
  });
  return {
    integrations,
    auto_disabled: integrations.filter((row) => row.status === "disabled" && AUTOMATIC.has(row.disabled_reason ?? "")),
  };
}
