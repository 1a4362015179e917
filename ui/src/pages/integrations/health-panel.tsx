import { useMemo } from "preact/hooks";
import { TimeChart } from "../../components/chart";
import { ErrorBanner, Spinner, Time } from "../../components/ui";
import { call, client } from "../../lib/api";
import { formatMs, formatPercent } from "../../lib/format";
import { useInterval, useResource } from "../../lib/use-resource";

/** Success rate over the failure window (12 h), latency, last error, pending and dead counts. */
export function HealthPanel({ integrationId, refreshKey }: { integrationId: string; refreshKey: number }) {
  const health = useResource(
    () => call(client.api.integrations[":id"].health.$get({ param: { id: integrationId } })),
    [integrationId, refreshKey],
  );
  useInterval(() => void health.reload(), 5_000);
  const h = health.data;
  const chart = useMemo(() => {
    if (!h) return null;
    const points = h.success_rate_series;
    return {
      times: points.map((p) => Math.floor(new Date(p.start).getTime() / 1000)),
      series: [
        {
          label: "Success rate",
          values: points.map((p) => p.success_rate),
          color: "#1d7a46",
          percent: true,
          fill: true,
        },
      ],
    };
  }, [h]);

  if (health.loading && !h) return <Spinner label="Loading delivery health…" />;
  if (!h) return <ErrorBanner error={health.error} retry={health.reload} />;
  const hours = Math.round(h.window.seconds / 3600);
  const successRate = h.window.requests ? 1 - h.window.failure_ratio : null;
  const nearLimit = h.window.requests > 0 && h.window.failure_ratio >= h.window.threshold_ratio * 0.5;

  return (
    <section class="card" aria-labelledby="health-heading">
      <div class="card-header">
        <h2 id="health-heading">Delivery health, last {hours} hours</h2>
        <span class="muted small">
          Auto-disables at {formatPercent(h.window.threshold_ratio, 0)} failed once {h.window.min_requests} requests are
          made
        </span>
      </div>
      <div class="stats">
        <Stat
          label="Success rate"
          value={formatPercent(successRate)}
          note={`${h.window.requests - h.window.failed} of ${h.window.requests} requests`}
          warn={nearLimit}
        />
        <Stat
          label="Latency p50 / p95"
          value={`${formatMs(h.latency_ms.p50)}`}
          note={`p95 ${formatMs(h.latency_ms.p95)}`}
        />
        <Stat
          label="Pending"
          value={String(h.pending_notifications)}
          note={`${h.pending_deliveries} deliveries${h.paused ? ", paused" : ""}`}
        />
        <Stat
          label="Dead"
          value={String(h.dead_deliveries)}
          note="Retries exhausted; replayable"
          warn={h.dead_deliveries > 0}
        />
      </div>
      {chart && h.window.requests > 0 ? (
        <TimeChart
          label={`Success rate per interval over the last ${hours} hours`}
          times={chart.times}
          series={chart.series}
          yMax={1}
          height={180}
        />
      ) : (
        <p class="chart-empty">No requests in the last {hours} hours.</p>
      )}
      <dl class="facts health-facts">
        <dt>Last success</dt>
        <dd>
          <Time value={h.last_success_at} />
        </dd>
        <dt>Last error</dt>
        <dd>
          {h.last_error ? (
            <>
              <Time value={h.last_error.at} /> — {withStatus(h.last_error.status, h.last_error.error)}
            </>
          ) : (
            <span class="muted">None</span>
          )}
        </dd>
      </dl>
    </section>
  );
}

function Stat({ label, value, note, warn = false }: { label: string; value: string; note?: string; warn?: boolean }) {
  return (
    <div class={`stat${warn ? " stat-warn" : ""}`}>
      <p class="stat-label">{label}</p>
      <p class="stat-value">{value}</p>
      {note && <p class="stat-note">{note}</p>}
    </div>
  );
}

/** "HTTP 500: receiver down", without repeating the status when the error already names it. */
export function withStatus(status: number | null, error: string): string {
  if (status === null || error.startsWith(`HTTP ${status}`)) return error;
  return `HTTP ${status}: ${error}`;
}
