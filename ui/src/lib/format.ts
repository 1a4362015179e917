/** Times are shown in the viewer's own time zone (the browser's), with the ISO time on hover. */
const dateTime = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});
const shortTime = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateOnly = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });

function toDate(value: string | number | Date): Date {
  return value instanceof Date ? value : new Date(value);
}

export const formatDateTime = (value: string | number | Date) => dateTime.format(toDate(value));
export const formatTime = (value: string | number | Date) => shortTime.format(toDate(value));
export const formatDate = (value: string | number | Date) => dateOnly.format(toDate(value));

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** "3 minutes ago", for last-seen style columns. */
export function formatRelative(value: string | number | Date, now = Date.now()): string {
  const seconds = Math.round((toDate(value).getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return relative.format(seconds, "second");
  if (abs < 3600) return relative.format(Math.round(seconds / 60), "minute");
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), "hour");
  return relative.format(Math.round(seconds / 86_400), "day");
}

export const viewerTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

export function formatPercent(ratio: number | null | undefined, digits = 1): string {
  if (ratio === null || ratio === undefined || Number.isNaN(ratio)) return "—";
  return `${(ratio * 100).toFixed(digits).replace(/\.0$/, "")} %`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export const formatNumber = (n: number) => new Intl.NumberFormat().format(n);

/** "2 active, 1 disabled" */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatNumber(n)} ${n === 1 ? one : many}`;
}

/** How a role is named in the UI (the header, the profile and the users page). */
export function roleLabel(role: string): string {
  return role === "admin" ? "Administrator" : role === "analyst" ? "Analyst" : "Read only";
}
