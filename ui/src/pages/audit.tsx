import { useState } from "preact/hooks";
import { EmptyState, ErrorBanner, PageHeader, Spinner, Time } from "../components/ui";
import { call, client, type OkBody } from "../lib/api";
import { useResource } from "../lib/use-resource";

type Entry = OkBody<Awaited<ReturnType<typeof client.api.audit.$get>>>["entries"][number];

/** Who changed what and when (secrets are redacted by the API). */
export function AuditPage() {
  const first = useResource(() => call(client.api.audit.$get({ query: {} })), []);
  const [older, setOlder] = useState<{ entries: Entry[]; cursor: string | null }>({ entries: [], cursor: null });
  const [moreError, setMoreError] = useState<unknown>(null);
  const entries = [...(first.data?.entries ?? []), ...older.entries];
  const nextCursor = older.entries.length ? older.cursor : (first.data?.next_cursor ?? null);

  return (
    <>
      <PageHeader
        title="Audit log"
        subtitle="Every change to users, nodes, integrations and reports, newest first. Secrets are never recorded."
      />
      <ErrorBanner error={first.error ?? moreError} retry={first.reload} />
      {first.loading && !first.data ? (
        <Spinner />
      ) : entries.length === 0 ? (
        <EmptyState title="Nothing recorded yet" />
      ) : (
        <div class="table-wrap card card-flush">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
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
            </tbody>
          </table>
          {nextCursor && (
            <div class="pager">
              <button
                type="button"
                class="btn"
                onClick={async () => {
                  setMoreError(null);
                  try {
                    const page = await call(client.api.audit.$get({ query: { cursor: nextCursor } }));
                    setOlder({ entries: [...older.entries, ...page.entries], cursor: page.next_cursor });
                  } catch (e) {
                    setMoreError(e);
                  }
                }}
              >
                Show older entries
              </button>
            </div>
          )}
        </div>
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
