/**
 * Wall-clock times in the account's time zone (silences are set in it, whatever the viewer's zone),
 * with Intl only: the offset at an instant is the zone's wall clock read back as if it were UTC.
 */
const wallFormats = new Map<string, Intl.DateTimeFormat>();

function wallFormat(timeZone: string): Intl.DateTimeFormat {
  let format = wallFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    wallFormats.set(timeZone, format);
  }
  return format;
}

function wallParts(instantMs: number, timeZone: string): Record<string, number> {
  const parts: Record<string, number> = {};
  for (const part of wallFormat(timeZone).formatToParts(instantMs)) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  return parts;
}

function offsetMs(instantMs: number, timeZone: string): number {
  const p = wallParts(instantMs, timeZone);
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return asUtc - Math.floor(instantMs / 1000) * 1000;
}

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
  const first = wall - offsetMs(wall, timeZone);
  return new Date(wall - offsetMs(first, timeZone)).toISOString();
}

/** An instant as a `datetime-local` value in `timeZone`. */
export function isoToZonedInput(iso: string, timeZone: string): string {
  const p = wallParts(new Date(iso).getTime(), timeZone);
  return `${p.year}-${pad(p.month!)}-${pad(p.day!)}T${pad(p.hour!)}:${pad(p.minute!)}`;
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
