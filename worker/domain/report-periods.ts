/**
 * Report periods in an account's IANA time zone: daily (one local day), weekly (Monday–Sunday),
 * monthly (a calendar month). Pure: no I/O, only Intl.DateTimeFormat for the zone's offsets, so
 * DST changes (23- and 25-hour days), month ends and leap years come from the calendar itself.
 *
 * Local dates are "YYYY-MM-DD" strings; instants are epoch milliseconds (UTC).
 */

import type { ReportFrequency } from "../db/schema";
import { DAY_MS, HOUR_MS } from "../lib/time";

export type Frequency = ReportFrequency;

export interface ReportPeriod {
  frequency: Frequency;
  timeZone: string;
  /** First local day of the period. */
  start: string;
  /** Last local day of the period (inclusive). */
  end: string;
  /** The instant the period starts: the first moment of `start` in the zone. */
  startMs: number;
  /** The instant it ends (exclusive): the first moment of the day after `end`. */
  endMs: number;
}

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** True for a zone name the runtime knows ("Europe/Berlin", "UTC"); false for anything else. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The local wall-clock reading of an instant in a zone. */
export function wallClock(instantMs: number, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(new Date(instantMs))) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

/** The zone's offset from UTC at an instant, in milliseconds (e.g. +3 600 000 for CET). */
export function zoneOffsetMs(instantMs: number, timeZone: string): number {
  const w = wallClock(instantMs, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(instantMs / 1000) * 1000;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

function formatDate(year: number, month: number, day: number): string {
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
}

/** Parses "YYYY-MM-DD" if it is a real calendar date (2025-02-29 is not). */
export function parseLocalDate(text: string): { year: number; month: number; day: number } | null {
  const match = DATE_PATTERN.exec(text);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  return { year, month, day };
}

function requireDate(text: string) {
  const date = parseLocalDate(text);
  if (!date) throw new RangeError(`Not a calendar date: ${text}`);
  return date;
}

/** Calendar arithmetic on local dates (no zone involved). */
export function addDays(date: string, days: number): string {
  const { year, month, day } = requireDate(date);
  const moved = new Date(Date.UTC(year, month - 1, day + days));
  return formatDate(moved.getUTCFullYear(), moved.getUTCMonth() + 1, moved.getUTCDate());
}

function addMonths(date: string, months: number): string {
  const { year, month } = requireDate(date);
  const moved = new Date(Date.UTC(year, month - 1 + months, 1));
  return formatDate(moved.getUTCFullYear(), moved.getUTCMonth() + 1, 1);
}

/** ISO weekday: 1 = Monday … 7 = Sunday. */
function isoWeekday(date: string): number {
  const { year, month, day } = requireDate(date);
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  return weekday === 0 ? 7 : weekday;
}

/** The local calendar date of an instant in a zone. */
export function localDateOf(instantMs: number, timeZone: string): string {
  const w = wallClock(instantMs, timeZone);
  return formatDate(w.year, w.month, w.day);
}

/**
 * The first instant of a local day. Usually local 00:00; where a DST change skips midnight
 * (e.g. America/Santiago in September) it is the moment of the jump, where midnight happens
 * twice it is the first one. Found by trying every offset the zone uses around that day and
 * keeping the earliest instant that falls on the day.
 */
export function localDayStartMs(date: string, timeZone: string): number {
  const { year, month, day } = requireDate(date);
  const wallMidnight = Date.UTC(year, month - 1, day);
  const offsets = new Set<number>();
  for (let probe = -30; probe <= 30; probe += 3) offsets.add(zoneOffsetMs(wallMidnight + probe * HOUR_MS, timeZone));
  let best = Number.POSITIVE_INFINITY;
  for (const offset of offsets) {
    const candidate = wallMidnight - offset;
    if (candidate < best && localDateOf(candidate, timeZone) === date) best = candidate;
  }
  if (!Number.isFinite(best)) throw new RangeError(`No start found for ${date} in ${timeZone}`);
  return best;
}

/** The first day of the period of this frequency that contains the local date. */
export function periodStartFor(frequency: Frequency, date: string): string {
  switch (frequency) {
    case "daily":
      return addDays(date, 0);
    case "weekly":
      return addDays(date, 1 - isoWeekday(date));
    case "monthly":
      return addMonths(date, 0);
  }
}

/** Is this local date the first day of a period (any day; a Monday; the 1st)? */
export function isPeriodStart(frequency: Frequency, date: string): boolean {
  return parseLocalDate(date) !== null && periodStartFor(frequency, date) === date;
}

function nextPeriodStart(frequency: Frequency, start: string): string {
  switch (frequency) {
    case "daily":
      return addDays(start, 1);
    case "weekly":
      return addDays(start, 7);
    case "monthly":
      return addMonths(start, 1);
  }
}

/** The period of this frequency that contains the local date (normalised to its first day). */
export function periodOf(frequency: Frequency, date: string, timeZone: string): ReportPeriod {
  const start = periodStartFor(frequency, date);
  const next = nextPeriodStart(frequency, start);
  return {
    frequency,
    timeZone,
    start,
    end: addDays(next, -1),
    startMs: localDayStartMs(start, timeZone),
    endMs: localDayStartMs(next, timeZone),
  };
}

/** The period containing an instant, in the zone. */
export function periodAt(frequency: Frequency, instantMs: number, timeZone: string): ReportPeriod {
  return periodOf(frequency, localDateOf(instantMs, timeZone), timeZone);
}

/** The period just before (what a report compares against). */
export function previousPeriod(period: ReportPeriod): ReportPeriod {
  return periodOf(period.frequency, addDays(period.start, -1), period.timeZone);
}

/**
 * The periods that ended in (afterMs, untilMs], oldest first, at most `limit` of them (the most
 * recent ones). The hourly cron asks for those that ended since a look-back horizon, so a period
 * missed while the service was down is still found, and a long outage sends only the latest few.
 */
export function periodsEndedBetween(
  frequency: Frequency,
  timeZone: string,
  afterMs: number,
  untilMs: number,
  limit: number,
): ReportPeriod[] {
  const found: ReportPeriod[] = [];
  let period = previousPeriod(periodAt(frequency, untilMs, timeZone));
  while (found.length < limit && period.endMs > afterMs) {
    if (period.endMs <= untilMs) found.push(period);
    period = previousPeriod(period);
  }
  return found.reverse();
}

/**
 * Rollups are kept per UTC hour. A period's boundary that is not on a UTC hour (zones such as
 * Asia/Kolkata, +05:30) is moved to the nearest hour, so consecutive periods still share their
 * boundary and every rollup hour belongs to exactly one period.
 */
export function toRollupHour(instantMs: number): number {
  return Math.round(instantMs / HOUR_MS) * HOUR_MS;
}

/** The range of rollup hours [fromHour, toHour) a period covers. */
export function rollupRange(period: ReportPeriod): { fromHour: number; toHour: number } {
  return { fromHour: toRollupHour(period.startMs), toHour: toRollupHour(period.endMs) };
}

interface TimeBucket {
  /** First rollup hour of the bucket (epoch ms). */
  startMs: number;
  /** Label in local time: "14:00" for hourly buckets, "2026-11-03" for daily ones. */
  label: string;
}

/**
 * The buckets of "hits over time": each rollup hour of a daily period (23, 24 or 25 of them
 * across DST changes), or each local day of a weekly/monthly period.
 */
export function timeBuckets(period: ReportPeriod): TimeBucket[] {
  const { fromHour, toHour } = rollupRange(period);
  const buckets: TimeBucket[] = [];
  if (period.frequency === "daily") {
    for (let hour = fromHour; hour < toHour; hour += HOUR_MS) {
      const w = wallClock(hour, period.timeZone);
      buckets.push({ startMs: hour, label: `${pad(w.hour)}:${pad(w.minute)}` });
    }
    return buckets;
  }
  for (let day = period.start; day <= period.end; day = addDays(day, 1)) {
    buckets.push({ startMs: toRollupHour(localDayStartMs(day, period.timeZone)), label: day });
  }
  return buckets;
}

/** Index of the bucket holding a rollup hour (buckets sorted by start), or -1 outside them. */
export function bucketIndex(buckets: TimeBucket[], hourMs: number): number {
  let low = 0;
  let high = buckets.length - 1;
  let found = -1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if ((buckets[mid]?.startMs ?? 0) <= hourMs) {
      found = mid;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return found;
}

/** Length of a period in hours (23/25 for daily periods across DST changes). */
export function periodHours(period: ReportPeriod): number {
  return Math.round((period.endMs - period.startMs) / HOUR_MS);
}

/** Days in a period (28–31 for months, 7 for weeks, 1 for days). */
export function periodDays(period: ReportPeriod): number {
  const from = requireDate(period.start);
  const to = requireDate(period.end);
  return (
    Math.round((Date.UTC(to.year, to.month - 1, to.day) - Date.UTC(from.year, from.month - 1, from.day)) / DAY_MS) + 1
  );
}
