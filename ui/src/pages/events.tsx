import { LoadMore, usePagedList } from "../components/paged-list";
import { DataTable, EmptyState, ErrorBanner, Field, PageHeader, Spinner, Time } from "../components/ui";
import { call, client, type OkBody } from "../lib/api";
import { formatDateTime } from "../lib/format";
import { Link, navigate, setQuery, useLocation } from "../lib/router";
import { useResource } from "../lib/use-resource";

type HeraldEvent = OkBody<Awaited<ReturnType<typeof client.api.events.$get>>>["events"][number];
type ListQuery = NonNullable<Parameters<typeof client.api.events.$get>[0]>["query"];

const TYPES = [
  ["", "All types"],
  ["security_issue", "Security issues"],
  ["incident", "Incidents"],
  ["hit", "Hits"],
  ["scope_change", "Scope changes"],
  ["system", "System"],
] as const;
const RISK_OPTIONS = ["", "critical", "high", "medium", "low", "info"].map(
  (risk) => [risk, risk || "Any risk"] as const,
);

export const TYPE_LABELS: Record<string, string> = {
  security_issue: "Security issue",
  incident: "Incident",
  hit: "Hit",
  scope_change: "Scope change",
  system: "System",
};

/** A one-line description of any event, for lists. */
export function eventSummary(e: HeraldEvent): string {
  const d = e.data as Record<string, string | number | undefined>;
  switch (e.type) {
    case "security_issue":
      return String(d.title ?? `${d.vuln_type ?? "Issue"} on ${e.host ?? ""}${e.path ?? ""}`);
    case "hit":
    case "incident":
      return `${String(e.attack_type ?? "attack").toUpperCase()} ${d.method ?? ""} ${e.path ?? ""}`.replace(
        /\s+/g,
        " ",
      );
    case "scope_change":
      return `${d.change === "removed" ? "Removed" : "Added"} ${d.object_type ?? "object"} ${d.value ?? ""}`;
    default:
      return String(d.message ?? e.system_type ?? "System event");
  }
}

/** Local datetime-input value ("2026-11-29T10:00") → RFC 3339 in UTC for the API. */
function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export function EventsPage() {
  const { query } = useLocation();
  const filters = {
    type: query.get("type") ?? "",
    risk: query.get("risk") ?? "",
    attack_type: query.get("attack_type") ?? "",
    host: query.get("host") ?? "",
    from: query.get("from") ?? "",
    to: query.get("to") ?? "",
  };
  const apiQuery = (cursor?: string): ListQuery =>
    ({
      ...(filters.type ? { type: filters.type } : {}),
      ...(filters.risk ? { risk: filters.risk } : {}),
      ...(filters.attack_type ? { attack_type: filters.attack_type } : {}),
      ...(filters.host ? { host: filters.host } : {}),
      ...(toIso(filters.from) ? { from: toIso(filters.from) } : {}),
      ...(toIso(filters.to) ? { to: toIso(filters.to) } : {}),
      ...(cursor ? { cursor } : {}),
    }) as ListQuery;
  const key = JSON.stringify(filters);
  const list = usePagedList(
    (cursor?: string) => call(client.api.events.$get({ query: apiQuery(cursor) })),
    (page) => page.events,
    [key],
    key,
  );
  const { first, items: events } = list;
  const active = Object.values(filters).some(Boolean);

  return (
    <>
      <PageHeader
        title="Events"
        subtitle="What the detection nodes reported, and what Herald itself raised. Newest first."
      />
      <form class="filters card" onSubmit={(e) => e.preventDefault()} aria-label="Filter events">
        <SelectFilter id="f-type" label="Type" name="type" value={filters.type} options={TYPES} />
        <SelectFilter id="f-risk" label="Risk" name="risk" value={filters.risk} options={RISK_OPTIONS} />
        <TextFilter
          id="f-attack"
          label="Attack type"
          name="attack_type"
          value={filters.attack_type}
          placeholder="sqli"
        />
        <TextFilter id="f-host" label="Host" name="host" value={filters.host} placeholder="api.example.com" />
        <DateTimeFilter id="f-from" label="From" name="from" value={filters.from} />
        <DateTimeFilter id="f-to" label="To" name="to" value={filters.to} />
        {active && (
          <button type="button" class="btn" onClick={() => navigate("/events", { replace: true })}>
            Clear filters
          </button>
        )}
      </form>
      <ErrorBanner error={first.error ?? list.moreError} retry={first.reload} />
      {first.loading && !first.data ? (
        <Spinner label="Loading events…" />
      ) : events.length === 0 && first.data ? (
        <EmptyState title={active ? "No events match these filters" : "No events yet"}>
          <p>
            {active
              ? "Widen the time range or clear a filter."
              : "Events appear when a node posts them to /v1/events. Add a node under Nodes to get its token."}
          </p>
        </EmptyState>
      ) : (
        <DataTable
          columns={[{ label: "Time" }, { label: "Type" }, { label: "Event" }, { label: "Host" }, { label: "Source" }]}
          variant="table-clickable"
          footer={<LoadMore list={list} label="Show older events" />}
        >
          {events.map((e) => (
            <tr key={e.id}>
              <td class="nowrap">
                <Time value={e.occurred_at} />
              </td>
              <td>
                <span class="tag">{TYPE_LABELS[e.type] ?? e.type}</span>
                {e.risk && <span class={`tag risk-${e.risk}`}>{e.risk}</span>}
                {e.block_status && <span class="tag">{e.block_status}</span>}
              </td>
              <td class="cell-title">
                <Link href={eventHref(e)}>{eventSummary(e)}</Link>
              </td>
              <td class="mono small">{e.host ?? "—"}</td>
              <td class="small">
                {e.remote_addr ? (
                  <span class="mono">
                    {e.remote_addr}
                    {e.remote_country ? ` (${e.remote_country})` : ""}
                  </span>
                ) : (
                  (e.node_name ?? "Herald")
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </>
  );
}

/** A filter that applies as soon as it changes; an empty value removes it from the address. */
function SelectFilter({
  id,
  label,
  name,
  value,
  options,
}: {
  id: string;
  label: string;
  name: string;
  value: string;
  options: readonly (readonly [value: string, label: string])[];
}) {
  return (
    <Field id={id} label={label}>
      <select
        id={id}
        class="input"
        value={value}
        onChange={(e) => setQuery({ [name]: e.currentTarget.value || undefined })}
      >
        {options.map(([option, text]) => (
          <option key={option} value={option}>
            {text}
          </option>
        ))}
      </select>
    </Field>
  );
}

function DateTimeFilter({ id, label, name, value }: { id: string; label: string; name: string; value: string }) {
  return (
    <Field id={id} label={label}>
      <input
        id={id}
        class="input"
        type="datetime-local"
        value={value}
        onChange={(e) => setQuery({ [name]: e.currentTarget.value || undefined })}
      />
    </Field>
  );
}

/** Text filters apply on Enter or when the field loses focus, not on every keystroke. */
function TextFilter({
  id,
  label,
  name,
  value,
  placeholder,
}: {
  id: string;
  label: string;
  name: string;
  value: string;
  placeholder: string;
}) {
  const apply = (text: string) => setQuery({ [name]: text.trim() || undefined });
  return (
    <Field id={id} label={label}>
      <input
        id={id}
        class="input"
        type="search"
        placeholder={placeholder}
        defaultValue={value}
        onChange={(e) => apply(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter") apply(e.currentTarget.value);
        }}
      />
    </Field>
  );
}

/** With the time: hits nobody was notified of are found by (occurred_at, id), not by the id alone. */
function eventHref(e: HeraldEvent): string {
  return `/events/${e.id}?occurred_at=${encodeURIComponent(e.occurred_at)}`;
}

export function EventPage({ params }: { params: { id: string } }) {
  const occurredAt = useLocation().query.get("occurred_at") ?? undefined;
  const data = useResource(
    () =>
      call(
        client.api.events[":id"].$get({
          param: { id: params.id },
          query: occurredAt ? { occurred_at: occurredAt } : {},
        }),
      ),
    [params.id, occurredAt],
  );
  if (data.loading && !data.data) return <Spinner label="Loading the event…" />;
  if (!data.data) return <ErrorBanner error={data.error} retry={data.reload} />;
  const e = data.data.event;
  const facts: [string, string | null][] = [
    ["Occurred", formatDateTime(e.occurred_at)],
    ["Received", formatDateTime(e.received_at)],
    ["Node", e.node_name],
    ["Risk", e.risk],
    ["Attack type", e.attack_type],
    ["Host", e.host],
    ["Path", e.path],
    ["Source address", e.remote_addr ? `${e.remote_addr}${e.remote_country ? ` (${e.remote_country})` : ""}` : null],
    ["Block status", e.block_status],
    ["System event", e.system_type],
  ];
  return (
    <>
      <p class="breadcrumb">
        <Link href="/events">Events</Link> /
      </p>
      <PageHeader
        title={eventSummary(e)}
        subtitle={
          <>
            <span class="tag">{TYPE_LABELS[e.type] ?? e.type}</span>
            {e.risk && <span class={`tag risk-${e.risk}`}>{e.risk}</span>}
            <span class="muted small">
              {" "}
              <Time value={e.occurred_at} />
            </span>
          </>
        }
      />
      <div class="grid-2">
        <section class="card">
          <h2>Summary</h2>
          <dl class="facts">
            {facts
              .filter(([, value]) => value)
              .map(([label, value]) => (
                <>
                  <dt>{label}</dt>
                  <dd>{value}</dd>
                </>
              ))}
            <dt>Event id</dt>
            <dd class="mono small">{e.id}</dd>
          </dl>
        </section>
        <section class="card">
          <h2>As reported</h2>
          <pre class="payload">{JSON.stringify(e.data, null, 2)}</pre>
        </section>
      </div>
    </>
  );
}
