import {
  bucketIndex,
  periodDays,
  periodHours,
  previousPeriod,
  type ReportPeriod,
  rollupRange,
  timeBuckets,
} from "../domain/report-periods";
import { RISKS, type Risk } from "../domain/subscriptions";
import type { Env } from "../env";
import { iso } from "../lib/time";
import { integrationHealth } from "./health";
import type { Change, ReportData, ScopeChangeRow, SecurityIssueRow, TimePoint } from "./schema";
import { dayIndex, dayRanges, hoursBetween, periodTops, type TopDimension } from "./tops";

/** How many rows each "top" table and each detail list keeps. */
export const TOP_LIMIT = 10;
export const LIST_LIMIT = 50;

/** Rollup dimension → the report's name for its top table. */
const TOP_NAMES: Record<TopDimension, "attack_types" | "hosts" | "paths" | "source_ips" | "countries"> = {
  attack_type: "attack_types",
  host: "hosts",
  path: "paths",
  remote_addr: "source_ips",
  country: "countries",
};

/**
 * Per-hour counters of both periods (current and previous): the totals, their change, the
 * hits-over-time series and each day's attack total all come from these rows. The hour list and
 * the (type, dimension) pairs lead the join, so each read is a primary-key seek and the many
 * high-cardinality rows of the same hours (source IPs, paths) are never touched.
 */
const HOURLY_COUNTERS = `SELECT r.hour, r.event_type, r.dimension, r.key, r.count
FROM json_each(?2) AS h
  CROSS JOIN json_each('[["hit","total"],["hit","block_status"],["incident","total"],["scope_change","scope_change"]]') AS d
  CROSS JOIN event_rollups AS r
WHERE r.account_id = ?1 AND r.hour = h.value AND r.event_type = d.value->>0 AND r.dimension = d.value->>1`;

/** New issues (first seen in a period) by risk, for the current and the previous period. */
const NEW_ISSUES_BY_RISK = `SELECT risk, first_seen >= ?3 AS current, count(*) AS total FROM security_issues
WHERE account_id = ?1 AND first_seen >= ?2 AND first_seen < ?4 GROUP BY risk, current`;

const RISK_ORDER = `CASE si.risk WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END`;

/** The new issues with details; the event that first reported each one adds method, parameter, scanner. */
const NEW_ISSUES_LIST = `SELECT si.id, si.first_seen, si.risk, si.title, si.vuln_type, si.host, si.path, si.status,
  ev.data->>'method' AS method, ev.data->>'parameter' AS parameter, ev.data->>'discovered_by' AS discovered_by
FROM security_issues AS si
  LEFT JOIN events AS ev ON ev.account_id = si.account_id AND ev.id = si.id AND ev.lookup_by_id = 1
WHERE si.account_id = ?1 AND si.first_seen >= ?2 AND si.first_seen < ?3
ORDER BY ${RISK_ORDER}, si.first_seen LIMIT ${LIST_LIMIT}`;

const OPEN_ISSUES_BY_RISK = `SELECT risk, count(*) AS total FROM security_issues
WHERE account_id = ?1 AND status = 'open' AND first_seen < ?2 GROUP BY risk`;

const SCOPE_CHANGE_LIST = `SELECT id, occurred_at, data->>'change' AS change, data->>'object_type' AS object_type,
  data->>'value' AS value FROM events
WHERE account_id = ?1 AND type = 'scope_change' AND occurred_at >= ?2 AND occurred_at < ?3
ORDER BY occurred_at DESC LIMIT ${LIST_LIMIT}`;

interface CounterRow {
  hour: number;
  event_type: string;
  dimension: string;
  key: string;
  count: number;
}

export function change(current: number, previous: number): Change {
  return {
    current,
    previous,
    change: current - previous,
    change_pct: previous === 0 ? null : Math.round(((current - previous) / previous) * 1000) / 10,
  };
}

function riskCounts(): Record<Risk, number> {
  return { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
}

function periodJson(period: ReportPeriod) {
  return { start: period.start, end: period.end, start_at: iso(period.startMs), end_at: iso(period.endMs) };
}

export interface ReportAccount {
  id: string;
  name: string;
  timeZone: string;
}

/**
 * Builds a report's data for one account and period from the hourly rollups (never scanning raw
 * events): five bounded statements in one D1 round trip, the top tables from the day digests
 * (tops.ts), and the integrations' health from their Durable Objects, asked meanwhile.
 */
export async function buildReportData(env: Env, account: ReportAccount, period: ReportPeriod): Promise<ReportData> {
  const previous = previousPeriod(period);
  const current = rollupRange(period);
  const before = rollupRange(previous);
  const db = env.DB;
  const healthAnswer = integrationHealth(env, account.id, period);
  // Observed now so a failure is not "unhandled" if the batch below throws first; awaited below.
  healthAnswer.catch(() => undefined);
  const [counters, newByRisk, newList, openByRisk, scopeList] = await db.batch([
    db.prepare(HOURLY_COUNTERS).bind(account.id, JSON.stringify(hoursBetween(before.fromHour, current.toHour))),
    db.prepare(NEW_ISSUES_BY_RISK).bind(account.id, before.fromHour, current.fromHour, current.toHour),
    db.prepare(NEW_ISSUES_LIST).bind(account.id, current.fromHour, current.toHour),
    db.prepare(OPEN_ISSUES_BY_RISK).bind(account.id, current.toHour),
    db.prepare(SCOPE_CHANGE_LIST).bind(account.id, current.fromHour, current.toHour),
  ]);
  const days = dayRanges(period);
  const dayAttacks = new Map<string, number>();

  // Totals of both periods and the series of the current one.
  const buckets = timeBuckets(period);
  const points: TimePoint[] = buckets.map((b) => ({
    start: iso(b.startMs),
    label: b.label,
    hits: 0,
    blocked: 0,
    monitored: 0,
    incidents: 0,
  }));
  const sums = { current: new Map<string, number>(), previous: new Map<string, number>() };
  for (const row of (counters?.results ?? []) as unknown as CounterRow[]) {
    const isCurrent = row.hour >= current.fromHour;
    const name = `${row.event_type}/${row.dimension}/${row.key}`;
    const target = isCurrent ? sums.current : sums.previous;
    target.set(name, (target.get(name) ?? 0) + row.count);
    if (!isCurrent || row.event_type === "scope_change") continue;
    if (row.dimension === "total") {
      const day = days[dayIndex(days, row.hour)]?.day;
      if (day) dayAttacks.set(day, (dayAttacks.get(day) ?? 0) + row.count);
    }
    const point = points[bucketIndex(buckets, row.hour)];
    if (!point) continue;
    if (row.event_type === "incident") {
      if (row.dimension === "total") point.incidents += row.count;
    } else if (row.dimension === "total") point.hits += row.count;
    else if (row.key === "blocked") point.blocked += row.count;
    else if (row.key === "monitored") point.monitored += row.count;
  }
  const count = (which: "current" | "previous", name: string) => sums[which].get(name) ?? 0;
  const changeOf = (name: string) => change(count("current", name), count("previous", name));
  const scopeSum = (which: "current" | "previous", filter: (key: string) => boolean) => {
    let total = 0;
    for (const [name, n] of sums[which]) {
      if (name.startsWith("scope_change/") && filter(name.split("/")[2] ?? "")) total += n;
    }
    return total;
  };

  // New security issues by risk, both periods.
  const newCurrent = riskCounts();
  const newPrevious = riskCounts();
  for (const row of (newByRisk?.results ?? []) as { risk: string; current: number; total: number }[]) {
    const target = row.current ? newCurrent : newPrevious;
    if (row.risk in target) target[row.risk as Risk] += row.total;
  }
  const sumRisks = (counts: Record<Risk, number>) => RISKS.reduce((total, risk) => total + counts[risk], 0);

  const { tops, approximate } = await periodTops(env, account.id, period, dayAttacks, TOP_LIMIT);

  const open = riskCounts();
  for (const row of (openByRisk?.results ?? []) as { risk: string; total: number }[]) {
    if (row.risk in open) open[row.risk as Risk] += row.total;
  }

  // Scope changes by object type from the rollup keys ("added:host").
  const byObjectType = new Map<string, { object_type: string; added: number; removed: number }>();
  for (const [name, n] of sums.current) {
    if (!name.startsWith("scope_change/")) continue;
    const [changeKind, objectType = "unknown"] = (name.split("/")[2] ?? "").split(":");
    const entry = byObjectType.get(objectType) ?? { object_type: objectType, added: 0, removed: 0 };
    if (changeKind === "added") entry.added += n;
    else if (changeKind === "removed") entry.removed += n;
    byObjectType.set(objectType, entry);
  }
  const scopeCurrent = scopeSum("current", () => true);

  return {
    version: 1,
    account: { name: account.name, time_zone: period.timeZone },
    frequency: period.frequency,
    period: { ...periodJson(period), hours: periodHours(period), days: periodDays(period) },
    previous_period: periodJson(previous),
    generated_at: iso(Date.now()),
    totals: {
      hits: changeOf("hit/total/"),
      blocked: changeOf("hit/block_status/blocked"),
      monitored: changeOf("hit/block_status/monitored"),
      incidents: changeOf("incident/total/"),
      new_security_issues: change(sumRisks(newCurrent), sumRisks(newPrevious)),
      new_security_issues_by_risk: Object.fromEntries(
        RISKS.map((risk) => [risk, change(newCurrent[risk], newPrevious[risk])]),
      ) as Record<Risk, Change>,
      scope_changes: change(
        scopeCurrent,
        scopeSum("previous", () => true),
      ),
    },
    hits_over_time: { bucket: period.frequency === "daily" ? "hour" : "day", points },
    top: {
      attack_types: tops.attack_type,
      hosts: tops.host,
      paths: tops.path,
      source_ips: tops.remote_addr,
      countries: tops.country,
      approximate: approximate.map((d) => TOP_NAMES[d]),
    },
    new_security_issues: {
      total: sumRisks(newCurrent),
      by_risk: newCurrent,
      items: ((newList?.results ?? []) as Record<string, unknown>[]).map(toIssueRow),
    },
    open_security_issues: { total: sumRisks(open), by_risk: open },
    scope_changes: {
      total: scopeCurrent,
      added: scopeSum("current", (key) => key.startsWith("added:")),
      removed: scopeSum("current", (key) => key.startsWith("removed:")),
      by_object_type: [...byObjectType.values()].sort((a, b) => a.object_type.localeCompare(b.object_type)),
      items: ((scopeList?.results ?? []) as Record<string, unknown>[]).map(toScopeRow),
    },
    integration_health: await healthAnswer,
  };
}

const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

function toIssueRow(row: Record<string, unknown>): SecurityIssueRow {
  return {
    id: String(row.id),
    first_seen: iso(Number(row.first_seen)),
    risk: String(row.risk),
    title: String(row.title ?? ""),
    vuln_type: text(row.vuln_type),
    host: text(row.host),
    method: text(row.method),
    path: text(row.path),
    parameter: text(row.parameter),
    discovered_by: text(row.discovered_by),
    status: String(row.status ?? "open"),
  };
}

function toScopeRow(row: Record<string, unknown>): ScopeChangeRow {
  return {
    id: String(row.id),
    occurred_at: iso(Number(row.occurred_at)),
    change: String(row.change ?? ""),
    object_type: String(row.object_type ?? ""),
    value: String(row.value ?? ""),
  };
}
