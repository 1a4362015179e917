import { DataTable } from "../../components/ui";
import { formatMs } from "../../lib/format";
import type { TestResults } from "./api-types";

const CATEGORY_LABELS: Record<string, string> = {
  system: "System event",
  security_issue: "Security issue",
  scope_change: "Scope change",
  incident: "Incident",
  hit: "Hit",
  reports: "Report",
};

/** What the receiver answered to each [Test message], shown right after the test. */
export function TestResultsView({ results }: { results: TestResults["results"] }) {
  const failed = results.filter((r) => !r.ok).length;
  return (
    <div class="test-results" aria-live="polite">
      <div class={`banner ${failed ? "banner-error" : "banner-success"}`} role="status">
        {results.length === 0
          ? "Nothing was sent: subscribe to at least one category."
          : failed
            ? `${failed} of ${results.length} test messages failed. Check the settings and the receiver.`
            : `The receiver accepted all ${results.length} test messages.`}
      </div>
      {results.length > 0 && (
        <DataTable
          columns={[{ label: "Test message" }, { label: "Answer" }, { label: "Latency", numeric: true }]}
          card={false}
        >
          {results.map((r) => (
            <tr key={r.category}>
              <td>{CATEGORY_LABELS[r.category] ?? r.category}</td>
              <td>
                <span class={`pill ${r.ok ? "pill-ok" : "pill-bad"}`}>
                  {r.status !== null ? `HTTP ${r.status}` : r.ok ? "Sent" : "No answer"}
                </span>
                {r.error && <div class="small muted">{r.error}</div>}
              </td>
              <td class="num">{formatMs(r.latency_ms)}</td>
            </tr>
          ))}
        </DataTable>
      )}
    </div>
  );
}
