/** Durations in milliseconds: every instant in Herald is epoch milliseconds (docs/storage.md). */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** An instant as the API and notifications write it: RFC 3339 in UTC. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** "2026-11-29 10:00": an instant to the minute in UTC, for people (notices, message fields). */
export function utcMinute(ms: number): string {
  return iso(ms).slice(0, 16).replace("T", " ");
}

export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : iso(ms);
}
