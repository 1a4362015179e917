import type { ResumeResult } from "../delivery/views";
import type { Env } from "../env";

/** What enabling asks of the integration's outbox (resume or drop, optionally replay: docs/delivery.md). */
export interface ResumeOptions {
  pending: "resume" | "drop";
  /** Replay the events that arrived since this time (epoch ms), i.e. while it was disabled. */
  replayMissedSince?: number;
}

const stubFor = (env: Env, integrationId: string) =>
  env.INTEGRATION_DO.get(env.INTEGRATION_DO.idFromName(integrationId));

/**
 * The D1 row is the source of truth (fan-out only queues to enabled integrations), so a failed
 * call is logged and reported, not fatal: the change is already stored and audited.
 */
async function tell<T>(what: string, integrationId: string, call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch (error) {
    console.error("integration outbox call failed", { what, integrationId, error: String(error) });
    return null;
  }
}

export const pauseOutbox = (env: Env, integrationId: string) =>
  tell("pause", integrationId, () => stubFor(env, integrationId).pause());

export const resumeOutbox = (env: Env, integrationId: string, options: ResumeOptions) =>
  tell("resume", integrationId, (): Promise<ResumeResult> => stubFor(env, integrationId).resume(options));

export const destroyOutbox = (env: Env, integrationId: string) =>
  tell("destroy", integrationId, () => stubFor(env, integrationId).destroy());
