import { useState } from "preact/hooks";
import { LoadMore, usePagedList } from "../components/paged-list";
import { ConfirmDialog, DataTable, EmptyState, ErrorBanner, PageHeader, Spinner, Tabs, Time } from "../components/ui";
import { call, client, type OkBody } from "../lib/api";
import { Link } from "../lib/router";
import { useSession } from "../lib/session";

type Issue = OkBody<Awaited<ReturnType<(typeof client.api)["security-issues"]["$get"]>>>["issues"][number];
type StatusTab = "open" | "closed" | "all";

const TABS: readonly { id: StatusTab; label: string }[] = [
  { id: "open", label: "Open" },
  { id: "closed", label: "Closed" },
  { id: "all", label: "All" },
];

/**
 * Vulnerabilities the nodes reported, one row per distinct issue. Admins close an issue once it is
 * fixed; a node reporting it again after that reopens it (and it is notified again).
 */
export function SecurityIssuesPage() {
  const { isAdmin } = useSession();
  const [status, setStatus] = useState<StatusTab>("open");
  const [changing, setChanging] = useState<Issue | null>(null);
  const list = usePagedList(
    (cursor?: string) => call(client.api["security-issues"].$get({ query: { status, ...(cursor ? { cursor } : {}) } })),
    (page) => page.issues,
    [status],
    status,
  );
  const { first, items: issues } = list;
  const closing = changing?.status === "open";

  return (
    <>
      <PageHeader
        title="Security issues"
        subtitle="Each distinct vulnerability the nodes reported, most recently seen first. Close an issue once it is fixed: if a node reports it again, it reopens and is notified again."
      />
      <Tabs label="Issue status" tabs={TABS} selected={status} onSelect={setStatus} />
      <ErrorBanner error={first.error ?? list.moreError} retry={first.reload} />
      {first.loading && !first.data ? (
        <Spinner label="Loading security issues…" />
      ) : issues.length === 0 && first.data ? (
        <EmptyState title={status === "closed" ? "No closed issues" : "No security issues"}>
          <p>Issues appear when a node posts a security_issue event.</p>
        </EmptyState>
      ) : (
        <DataTable
          columns={[
            { label: "Risk" },
            { label: "Issue" },
            { label: "Where" },
            { label: "Seen" },
            { label: "Actions", hidden: true },
          ]}
          footer={<LoadMore list={list} label="Show older issues" />}
        >
          {issues.map((issue) => (
            <tr key={issue.id} class={issue.status === "closed" ? "row-muted" : ""}>
              <td>
                <span class={`tag risk-${issue.risk}`}>{issue.risk}</span>
              </td>
              <td>
                <div class="cell-title">
                  <Link href={`/events/${issue.last_event_id}`}>{issue.title}</Link>
                </div>
                <div class="muted small">
                  {issue.vuln_type}
                  {issue.status === "closed" && (
                    <>
                      {" "}
                      · closed <Time value={issue.closed_at} /> by {issue.closed_by}
                    </>
                  )}
                </div>
              </td>
              <td class="small">
                <div>{issue.host}</div>
                <code>{issue.path}</code>
              </td>
              <td class="small nowrap">
                <div>
                  Last <Time value={issue.last_seen} relative />
                </div>
                <div class="muted">
                  First <Time value={issue.first_seen} />
                </div>
              </td>
              <td class="cell-actions">
                {isAdmin && (
                  <button type="button" class="btn btn-small" onClick={() => setChanging(issue)}>
                    {issue.status === "open" ? "Close" : "Reopen"}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      <ConfirmDialog
        open={changing !== null}
        title={closing ? "Close this issue as fixed?" : "Reopen this issue?"}
        body={
          <p>
            <strong>{changing?.title}</strong>{" "}
            {closing
              ? "leaves the open issues and the reports' open counts. If a node reports it again, it reopens and is notified again."
              : "counts as open again."}
          </p>
        }
        confirmLabel={closing ? "Close issue" : "Reopen issue"}
        onClose={() => setChanging(null)}
        onConfirm={async () => {
          if (!changing) return;
          await call(
            client.api["security-issues"][":id"].$patch({
              param: { id: changing.id },
              json: { status: closing ? "closed" : "open" },
            }),
          );
          list.reset();
          await first.reload();
        }}
      />
    </>
  );
}
