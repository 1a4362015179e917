/**
 * NOTIFY_MAX_AGE: events older than this when they arrive (a node posting its backlog after an
 * outage, a backfill) are stored and counted but not notified; one system notice per node says
 * what was held back (README, Configuration). Pure: no clock, no I/O.
 */
const DEFAULT_NOTIFY_MAX_AGE = "1h";

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * Parses a number of seconds ("3600") or a duration ("90s", "30m", "1h", "2d"); blank means the
 * default. Returns milliseconds, or null for "0" (no limit). Anything else is a deployment error
 * and throws, as RETRY_SCHEDULE does, rather than notifying by a limit nobody configured.
 */
export function parseNotifyMaxAge(text: string | undefined | null): number | null {
  const trimmed = (text ?? "").trim() || DEFAULT_NOTIFY_MAX_AGE;
  const match = /^(\d+(?:\.\d+)?)\s*([smhd]?)$/i.exec(trimmed);
  if (!match) {
    throw new Error(`NOTIFY_MAX_AGE ("${text}") is not a number of seconds or a duration such as 90s, 30m, 1h, 2d`);
  }
  const seconds = Number(match[1]) * (UNIT_SECONDS[(match[2] || "s").toLowerCase()] ?? 1);
  return seconds === 0 ? null : Math.round(seconds * 1000);
}

let parsed: { text: string | undefined; ms: number | null } | undefined;

/** The deployment's NOTIFY_MAX_AGE, parsed once per isolate (it is read on every ingest request). */
export function notifyMaxAge(env: { NOTIFY_MAX_AGE?: string }): number | null {
  if (!parsed || parsed.text !== env.NOTIFY_MAX_AGE) {
    parsed = { text: env.NOTIFY_MAX_AGE, ms: parseNotifyMaxAge(env.NOTIFY_MAX_AGE) };
  }
  return parsed.ms;
}

/** Too old to notify: it occurred more than `maxAgeMs` before `now` (null: no limit). */
export function tooOldToNotify(occurredAt: number, now: number, maxAgeMs: number | null): boolean {
  return maxAgeMs !== null && now - occurredAt > maxAgeMs;
}
