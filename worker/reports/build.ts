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
import type { ScopeChangeRow as ShardScopeChange } from "../events/shard-types";
import type { SecurityIssueRow as StoredIssue } from "../ingest/account-store";
import { iso } from "../lib/time";
import { integrationHealth } from "./health";
import type { Change, ReportData, ScopeChangeRow, SecurityIssueRow, TimePoint } from "./schema";
import { accountCounters, accountScopeChanges, type CounterQuery, reportIssues, reportShards } from "./sources";
import { dayIndex, dayRanges, periodTops, type TopDimension } from "./tops";

/** How many rows each "top" table and each detail list keeps. */
export const TOP_LIMIT = 10;
const LIST_LIMIT = 50;

/** Rollup dimension → the report's name for its top table. */
const TOP_NAMES: Record<TopDimension, "attack_types" | "hosts" | "paths" | "source_ips" | "countries"> = {
  attack_type: "attack_types",
  host: "hosts",
  path: "paths",
  remote_addr: "source_ips",
  country: "countries",
};

/**
 * The counters of both periods (current and previous) the report reads: the totals, their change,
 * the hits-over-time series and each day's attack total all come from these rows; the many
 * high-cardinality rows of the same hours (source IPs, paths) are never read.
 */
const COUNTER_PAIRS: CounterQuery["pairs"] = [
  ["hit", "total"],
  ["hit", "block_status"],
  ["incident", "total"],
  ["scope_change", "scope_change"],
];

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

interface ReportAccount {
  id: string;
  name: string;
  timeZone: string;
}

/**
 * Builds a report's data for one account and period from the hourly rollups of the account's
 * shards (never scanning raw events: worker/reports/sources.ts), the security issues of the
 * account object, the top tables from the day digests (tops.ts), and the integrations' health from
 * their Durable Objects, all asked at once.
 */
export async function buildReportData(env: Env, account: ReportAccount, period: ReportPeriod): Promise<ReportData> {
  const previous = previousPeriod(period);
  const current = rollupRange(period);
  const before = rollupRange(previous);
  const healthAnswer = integrationHealth(env, account.id, period);
  // Observed now so a failure is not "unhandled" if a read below throws first; awaited below.
  healthAnswer.catch(() => undefined);
  const issuesAnswer = reportIssues(env, account.id, {
    previousFrom: before.fromHour,
    currentFrom: current.fromHour,
    currentTo: current.toHour,
    listLimit: LIST_LIMIT,
  });
  issuesAnswer.catch(() => undefined);
  const shards = await reportShards(env, account.id, before.fromHour, current.toHour);
  const [counters, scopeList, issues] = await Promise.all([
    accountCounters(env, account.id, shards, {
      fromHour: before.fromHour,
      toHour: current.toHour,
      pairs: COUNTER_PAIRS,
    }),
    accountScopeChanges(env, shards, current.fromHour, current.toHour, LIST_LIMIT),
    issuesAnswer,
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
  for (const row of counters) {
    const isCurrent = row.hour >= current.fromHour;
    const name = `${row.eventType}/${row.dimension}/${row.key}`;
    const target = isCurrent ? sums.current : sums.previous;
    target.set(name, (target.get(name) ?? 0) + row.count);
    if (!isCurrent || row.eventType === "scope_change") continue;
    if (row.dimension === "total") {
      const day = days[dayIndex(days, row.hour)]?.day;
      if (day) dayAttacks.set(day, (dayAttacks.get(day) ?? 0) + row.count);
    }
    const point = points[bucketIndex(buckets, row.hour)];
    if (!point) continue;
    if (row.eventType === "incident") {
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
  for (const row of issues.newByRisk) {
    const target = row.current ? newCurrent : newPrevious;
    if (row.risk in target) target[row.risk as Risk] += row.total;
  }
  const sumRisks = (counts: Record<Risk, number>) => RISKS.reduce((total, risk) => total + counts[risk], 0);

  const { tops, approximate } = await periodTops(env, account.id, period, dayAttacks, shards, TOP_LIMIT);

  const open = riskCounts();
  for (const row of issues.openByRisk) {
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
      items: issues.newList.map(toIssueRow),
    },
    open_security_issues: { total: sumRisks(open), by_risk: open },
    scope_changes: {
      total: scopeCurrent,
      added: scopeSum("current", (key) => key.startsWith("added:")),
      removed: scopeSum("current", (key) => key.startsWith("removed:")),
      by_object_type: [...byObjectType.values()].sort((a, b) => a.object_type.localeCompare(b.object_type)),
      items: scopeList.map(toScopeRow),
    },
    integration_health: await healthAnswer,
  };
}

function toIssueRow(row: StoredIssue): SecurityIssueRow {
  return {
    id: row.id,
    first_seen: iso(row.first_seen),
    risk: row.risk,
    title: row.title,
    vuln_type: row.vuln_type,
    host: row.host,
    method: row.method,
    path: row.path,
    parameter: row.parameter,
    discovered_by: row.discovered_by,
    status: row.status,
  };
}

function toScopeRow(row: ShardScopeChange): ScopeChangeRow {
  return {
    id: row.id,
    occurred_at: iso(row.occurredAt),
    change: row.change ?? "",
    object_type: row.objectType ?? "",
    value: row.value ?? "",
  };
}
