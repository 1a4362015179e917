import { LoadMore, usePagedList } from "../components/paged-list";
import { DataTable, EmptyState, ErrorBanner, PageHeader, Spinner, Time } from "../components/ui";
import { call, client } from "../lib/api";

/** Who changed what and when (secrets are redacted by the API). */
export function AuditPage() {
  const audit = usePagedList(
    (cursor?: string) => call(client.api.audit.$get({ query: cursor ? { cursor } : {} })),
    (page) => page.entries,
    [],
  );
  const { first, items: entries } = audit;

  return (
    <>
      <PageHeader
        title="Audit log"
        subtitle="Every change to users, nodes, integrations and reports, newest first. Secrets are never recorded."
      />
      <ErrorBanner error={first.error ?? audit.moreError} retry={first.reload} />
      {first.loading && !first.data ? (
        <Spinner />
      ) : entries.length === 0 ? (
        <EmptyState title="Nothing recorded yet" />
      ) : (
        <DataTable
          columns={[{ label: "Time" }, { label: "Who" }, { label: "Action" }, { label: "Details" }]}
          footer={<LoadMore list={audit} label="Show older entries" />}
        >
          {entries.map((entry) => (
            <tr key={entry.id}>
              <td class="nowrap">
                <Time value={entry.created_at} />
              </td>
              <td>
                {entry.actor.label}
                {entry.ip && <div class="muted small mono">{entry.ip}</div>}
              </td>
              <td>
                <code>{entry.action}</code>
              </td>
              <td class="small">
                <AuditDetails details={entry.details} />
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </>
  );
}

function AuditDetails({ details }: { details: unknown }) {
  if (!details || typeof details !== "object") return <span class="muted">—</span>;
  const entries = Object.entries(details as Record<string, unknown>);
  return (
    <span>
      {entries.map(([key, value], index) => (
        <span key={key}>
          {index > 0 && " · "}
          <span class="muted">{key.replace(/_/g, " ")}:</span>{" "}
          {typeof value === "object" ? JSON.stringify(value) : String(value)}
        </span>
      ))}
    </span>
  );
}
