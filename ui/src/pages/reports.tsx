import type { ComponentChildren } from "preact";
import { useMemo, useState } from "preact/hooks";
import { PALETTE, TimeChart } from "../components/chart";
import { FormDialog, FormError, InputField, useSubmission } from "../components/form";
import {
  type Column,
  DataTable,
  EmptyState,
  ErrorBanner,
  Field,
  PageHeader,
  Spinner,
  Tabs,
  Time,
} from "../components/ui";
import { call, client, type OkBody } from "../lib/api";
import { formatDate, formatNumber, formatPercent } from "../lib/format";
import { Link, navigate, setQuery, useLocation } from "../lib/router";
import { useSession } from "../lib/session";
import { useResource } from "../lib/use-resource";

type Report = OkBody<Awaited<ReturnType<(typeof client.api.reports)[":id"]["$get"]>>>["report"];
type ReportData = Report["data"];
type Frequency = Report["frequency"];
const FREQUENCIES: Frequency[] = ["daily", "weekly", "monthly"];
const FREQUENCY_TABS = [undefined, ...FREQUENCIES].map((f) => ({
  id: f,
  label: f ? f.charAt(0).toUpperCase() + f.slice(1) : "All",
}));

export function ReportsPage() {
  const { isAdmin } = useSession();
  const { query } = useLocation();
  const frequency = FREQUENCIES.find((f) => f === query.get("frequency"));
  const list = useResource(() => call(client.api.reports.$get({ query: frequency ? { frequency } : {} })), [frequency]);
  const [building, setBuilding] = useState(false);

  return (
    <>
      <PageHeader
        title="Reports"
        subtitle="Daily, weekly and monthly security reports of the account, kept for a year."
        actions={
          isAdmin && (
            <button type="button" class="btn btn-primary" onClick={() => setBuilding(true)}>
              Build a report
            </button>
          )
        }
      />
      <div class="toolbar">
        <Tabs
          label="Filter by frequency"
          tabs={FREQUENCY_TABS}
          selected={frequency}
          onSelect={(f) => setQuery({ frequency: f })}
        />
      </div>
      <ErrorBanner error={list.error} retry={list.reload} />
      {list.loading && !list.data ? (
        <Spinner />
      ) : list.data && list.data.reports.length === 0 ? (
        <EmptyState title="No reports yet">
          <p>
            Reports are built shortly after each period ends in the account's time zone
            {isAdmin ? ", or build one now." : "."}
          </p>
        </EmptyState>
      ) : list.data ? (
        <DataTable
          columns={[
            { label: "Report" },
            { label: "Hits", numeric: true },
            { label: "Incidents", numeric: true },
            { label: "New issues", numeric: true },
            { label: "Built" },
            { label: "Download", hidden: true },
          ]}
        >
          {list.data.reports.map((r) => (
            <tr key={r.id}>
              <td class="cell-title">
                <Link href={`/reports/${r.id}`}>{r.title}</Link>
                <div class="muted small">{r.origin === "manual" ? "Built on demand" : "Scheduled"}</div>
              </td>
              <td class="num">{formatNumber(r.hits)}</td>
              <td class="num">{formatNumber(r.incidents)}</td>
              <td class="num">{formatNumber(r.new_security_issues)}</td>
              <td>
                <Time value={r.created_at} />
              </td>
              <td class="cell-actions">
                <a class="btn btn-small" href={r.pdf_url} download>
                  PDF
                </a>
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      <BuildReportDialog open={building} onClose={() => setBuilding(false)} />
    </>
  );
}

function BuildReportDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const [frequency, setFrequency] = useState<Frequency>("daily");
  const [periodStart, setPeriodStart] = useState(() => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10));
  const [deliver, setDeliver] = useState(false);
  const build = useSubmission(async () => {
    const answer = await call(client.api.reports.$post({ json: { frequency, period_start: periodStart, deliver } }));
    onClose();
    navigate(`/reports/${answer.report.id}`);
  });
  return (
    <FormDialog
      open={open}
      title="Build a report"
      onClose={onClose}
      submission={build}
      submitLabel="Build report"
      busyLabel="Building…"
    >
      <FormError submission={build} />
      <Field id="report-frequency" label="Period" error={build.fields.frequency}>
        <select
          id="report-frequency"
          class="input"
          value={frequency}
          onChange={(e) => setFrequency(e.currentTarget.value as Frequency)}
        >
          <option value="daily">A day</option>
          <option value="weekly">A week (Monday to Sunday)</option>
          <option value="monthly">A month</option>
        </select>
      </Field>
      <InputField
        id="report-start"
        label="First day"
        hint="In the account's time zone."
        type="date"
        error={build.fields.period_start}
        value={periodStart}
        onValue={setPeriodStart}
      />
      <label class="check">
        <input type="checkbox" checked={deliver} onChange={(e) => setDeliver(e.currentTarget.checked)} />
        Also send it to the integrations subscribed to this frequency
      </label>
    </FormDialog>
  );
}

export function ReportPage({ params }: { params: { id: string } }) {
  const data = useResource(() => call(client.api.reports[":id"].$get({ param: { id: params.id } })), [params.id]);
  if (data.loading && !data.data) return <Spinner label="Loading the report…" />;
  if (!data.data) return <ErrorBanner error={data.error} retry={data.reload} />;
  const report = data.data.report;
  const d = report.data;
  return (
    <>
      <p class="breadcrumb">
        <Link href="/reports">Reports</Link> /
      </p>
      <PageHeader
        title={report.title}
        subtitle={`${d.account.name} · ${d.period.start === d.period.end ? d.period.start : `${d.period.start} to ${d.period.end}`} (${d.account.time_zone}) · built ${formatDate(d.generated_at)}`}
        actions={
          <a class="btn btn-primary" href={report.pdf_url} download>
            Download PDF
          </a>
        }
      />
      <div class="stats">
        <ChangeStat label="Attacks (hits)" change={d.totals.hits} />
        <ChangeStat label="Blocked" change={d.totals.blocked} />
        <ChangeStat label="Monitored" change={d.totals.monitored} />
        <ChangeStat label="Incidents" change={d.totals.incidents} bad />
        <ChangeStat label="New security issues" change={d.totals.new_security_issues} bad />
        <ChangeStat label="Scope changes" change={d.totals.scope_changes} />
      </div>
      <HitsChart data={d} />
      <div class="grid-2">
        <RiskChart data={d} />
        <section class="card">
          <h2>Open security issues</h2>
          <p class="stat-value">{formatNumber(d.open_security_issues.total)}</p>
          <RiskCounts counts={d.open_security_issues.by_risk} />
        </section>
      </div>
      <div class="grid-2">
        <TopTable title="Top attack types" rows={d.top.attack_types} />
        <TopTable title="Top targeted hosts" rows={d.top.hosts} mono />
        <TopTable title="Top targeted paths" rows={d.top.paths} mono />
        <TopTable title="Top source IPs" rows={d.top.source_ips} mono />
        <TopTable title="Top source countries" rows={d.top.countries} />
        <IntegrationHealthTable data={d} />
      </div>
      <IssuesTable data={d} />
      <ScopeTable data={d} />
    </>
  );
}

function ChangeStat({
  label,
  change,
  bad = false,
}: {
  label: string;
  change: ReportData["totals"]["hits"];
  bad?: boolean;
}) {
  const direction = change.change > 0 ? "up" : change.change < 0 ? "down" : "flat";
  const worse = bad ? direction === "up" : false;
  return (
    <div class="stat">
      <p class="stat-label">{label}</p>
      <p class="stat-value">{formatNumber(change.current)}</p>
      <p class={`stat-note${worse ? " text-bad" : ""}`}>
        {direction === "flat"
          ? "No change"
          : `${change.change > 0 ? "+" : ""}${formatNumber(change.change)}${change.change_pct !== null ? ` (${change.change_pct > 0 ? "+" : ""}${change.change_pct.toFixed(0)} %)` : ""}`}{" "}
        vs previous
      </p>
    </div>
  );
}

function HitsChart({ data }: { data: ReportData }) {
  const chart = useMemo(() => {
    const points = data.hits_over_time.points;
    return {
      times: points.map((p) => Math.floor(Date.parse(p.start) / 1000)),
      series: [
        { label: "Blocked", values: points.map((p) => p.blocked), color: PALETTE[0]!, bars: true },
        { label: "Monitored", values: points.map((p) => p.monitored), color: PALETTE[3]!, bars: true },
        { label: "Incidents", values: points.map((p) => p.incidents), color: PALETTE[1]! },
      ],
    };
  }, [data]);
  return (
    <section class="card">
      <h2>Attacks over time (per {data.hits_over_time.bucket})</h2>
      {chart.times.length ? (
        <TimeChart
          label="Blocked and monitored attacks and incidents over the period"
          times={chart.times}
          series={chart.series}
          height={240}
        />
      ) : (
        <p class="chart-empty">No attacks in this period.</p>
      )}
    </section>
  );
}

const RISK_ORDER = ["critical", "high", "medium", "low", "info"] as const;

function RiskChart({ data }: { data: ReportData }) {
  const byRisk = data.totals.new_security_issues_by_risk;
  return (
    <section class="card">
      <h2>New security issues by risk</h2>
      <div class="bars">
        {RISK_ORDER.map((risk) => {
          const value = byRisk[risk].current;
          const max = Math.max(1, ...RISK_ORDER.map((r) => byRisk[r].current));
          return (
            <div class="bar-row" key={risk}>
              <span class={`tag risk-${risk}`}>{risk}</span>
              <span class="bar-track">
                <span class={`bar-fill bar-${risk}`} style={{ width: `${(value / max) * 100}%` }} />
              </span>
              <span class="bar-value">{formatNumber(value)}</span>
            </div>
          );
        })}
      </div>
    </section>
  );
}

function RiskCounts({ counts }: { counts: Record<(typeof RISK_ORDER)[number], number> }) {
  return (
    <p>
      {RISK_ORDER.map((risk) => (
        <span key={risk} class={`tag risk-${risk}`}>
          {risk} {formatNumber(counts[risk])}
        </span>
      ))}
    </p>
  );
}

/** A titled card with a small table without headings, or a line saying there is nothing. */
function CompactTableCard({
  title,
  emptyText,
  empty,
  children,
}: {
  title: string;
  emptyText: string;
  empty: boolean;
  children: ComponentChildren;
}) {
  return (
    <section class="card">
      <h2>{title}</h2>
      {empty ? (
        <p class="muted">{emptyText}</p>
      ) : (
        <table class="table table-compact">
          <tbody>{children}</tbody>
        </table>
      )}
    </section>
  );
}

function TopTable({ title, rows, mono = false }: { title: string; rows: ReportData["top"]["hosts"]; mono?: boolean }) {
  return (
    <CompactTableCard title={title} emptyText="None in this period." empty={rows.length === 0}>
      {rows.map((row) => (
        <tr key={row.key}>
          <td class={mono ? "mono small" : ""}>{row.key}</td>
          <td class="num">{formatNumber(row.count)}</td>
          <td class="num muted">{formatPercent(row.share, 0)}</td>
        </tr>
      ))}
    </CompactTableCard>
  );
}

function IntegrationHealthTable({ data }: { data: ReportData }) {
  const rows = data.integration_health.integrations;
  return (
    <CompactTableCard title="Integration health" emptyText="No integrations." empty={rows.length === 0}>
      {rows.map((row) => (
        <tr key={row.id}>
          <td>
            {row.name}
            {row.status === "disabled" && (
              <span class="muted small">
                {" "}
                · disabled{row.disabled_reason ? ` (${row.disabled_reason.replace(/_/g, " ")})` : ""}
              </span>
            )}
          </td>
          <td class="num">{formatPercent(row.success_rate)}</td>
        </tr>
      ))}
    </CompactTableCard>
  );
}

/** A titled card holding one of the report's lists, or a line saying the period had none. */
function ReportListCard({
  title,
  note,
  columns,
  empty,
  children,
}: {
  title: string;
  note: ComponentChildren;
  columns?: readonly Column[];
  empty: boolean;
  children: ComponentChildren;
}) {
  return (
    <section class="card card-flush">
      <div class="card-header log-header">
        <h2>{title}</h2>
        <span class="muted small">{note}</span>
      </div>
      {empty ? (
        <p class="muted log-body">None in this period.</p>
      ) : (
        <DataTable columns={columns} card={false}>
          {children}
        </DataTable>
      )}
    </section>
  );
}

function IssuesTable({ data }: { data: ReportData }) {
  const issues = data.new_security_issues;
  return (
    <ReportListCard
      title="New security issues"
      note={
        issues.items.length < issues.total
          ? `The ${issues.items.length} most severe of ${issues.total}`
          : `${issues.total} in total`
      }
      columns={[{ label: "Risk" }, { label: "Issue" }, { label: "Where" }, { label: "First seen" }]}
      empty={issues.items.length === 0}
    >
      {issues.items.map((issue) => (
        <tr key={issue.id}>
          <td>
            <span class={`tag risk-${issue.risk}`}>{issue.risk}</span>
          </td>
          <td>
            {issue.title}
            {issue.vuln_type && <div class="muted small">{issue.vuln_type}</div>}
          </td>
          <td class="mono small">
            {issue.method} {issue.host}
            {issue.path}
          </td>
          <td>
            <Time value={issue.first_seen} />
          </td>
        </tr>
      ))}
    </ReportListCard>
  );
}

function ScopeTable({ data }: { data: ReportData }) {
  const scope = data.scope_changes;
  return (
    <ReportListCard
      title="Scope changes"
      note={
        <>
          {scope.added} added, {scope.removed} removed
        </>
      }
      empty={scope.items.length === 0}
    >
      {scope.items.map((item) => (
        <tr key={item.id}>
          <td>
            <span class="tag">{item.change}</span>
          </td>
          <td>{item.object_type}</td>
          <td class="mono small">{item.value}</td>
          <td>
            <Time value={item.occurred_at} />
          </td>
        </tr>
      ))}
    </ReportListCard>
  );
}
