/**
 * Wall-clock times in the account's time zone (silences are set in it, whatever the viewer's zone),
 * with the report periods' pure zone arithmetic (worker/domain/report-periods.ts).
 */
import { wallClock, zoneOffsetMs } from "../../../worker/domain/report-periods";

const pad = (n: number) => String(n).padStart(2, "0");

/**
 * A `datetime-local` value ("2026-12-04T18:00") read in `timeZone`, as an RFC 3339 instant; null
 * when it is not such a value. A time skipped by a DST change lands after the gap.
 */
export function zonedInputToIso(value: string, timeZone: string): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value);
  if (!match) return null;
  const [, y, mo, d, h, mi] = match.map(Number) as [number, number, number, number, number, number];
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  // The offset at the first guess may differ from the one at the result across a DST change.
  const first = wall - zoneOffsetMs(wall, timeZone);
  return new Date(wall - zoneOffsetMs(first, timeZone)).toISOString();
}

/** An instant as a `datetime-local` value in `timeZone`. */
export function isoToZonedInput(iso: string, timeZone: string): string {
  const p = wallClock(new Date(iso).getTime(), timeZone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}`;
}

const displayFormats = new Map<string, Intl.DateTimeFormat>();

/** "4 Dec 2026, 18:00" in `timeZone`, in the viewer's locale. */
export function formatInZone(iso: string, timeZone: string): string {
  let format = displayFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat(undefined, { timeZone, dateStyle: "medium", timeStyle: "short" });
    displayFormats.set(timeZone, format);
  }
  return format.format(new Date(iso));
}
