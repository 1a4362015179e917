import { useEffect, useState } from "preact/hooks";
import { LoadMore, usePagedList } from "../../components/paged-list";
import {
  ConfirmDialog,
  DataTable,
  EmptyState,
  ErrorBanner,
  Notice,
  Spinner,
  StatusPill,
  Tabs,
  Time,
} from "../../components/ui";
import { call, client, type OkBody } from "../../lib/api";
import { formatMs } from "../../lib/format";
import { Link, useLocation } from "../../lib/router";
import { useInterval } from "../../lib/use-resource";

type Page = OkBody<Awaited<ReturnType<(typeof client.api.integrations)[":id"]["deliveries"]["$get"]>>>;
type Delivery = Page["deliveries"][number];
type StateFilter = "" | "pending" | "delivered" | "dead" | "dropped";

const FILTERS: { id: StateFilter; label: string }[] = [
  { id: "", label: "All" },
  { id: "pending", label: "Pending" },
  { id: "delivered", label: "Delivered" },
  { id: "dead", label: "Dead" },
  { id: "dropped", label: "Dropped" },
];

/** Every delivery with its attempts (30 days), replay of one or of all dead ones. */
export function DeliveryLog({
  integrationId,
  refreshKey,
  disabled,
}: {
  integrationId: string;
  refreshKey: number;
  disabled: boolean;
}) {
  // A delivery_dead notice links here with ?delivery=<id>: open on the dead ones, that one unfolded.
  const linked = useLocation().query.get("delivery");
  const [state, setState] = useState<StateFilter>(linked ? "dead" : "");
  const [notice, setNotice] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [confirmDead, setConfirmDead] = useState(false);
  const log = usePagedList(
    (cursor?: string) =>
      call(
        client.api.integrations[":id"].deliveries.$get({
          param: { id: integrationId },
          query: { ...(state ? { state } : {}), ...(cursor ? { cursor } : {}) },
        }),
      ),
    (page) => page.deliveries,
    [integrationId, state, refreshKey],
  );
  const { first, items: deliveries } = log;
  useInterval(() => void first.reload(), 4_000);

  const deadShown = deliveries.some((d) => d.state === "dead");
  const linkedShown = deliveries.some((d) => d.id === linked);
  useEffect(() => {
    if (linkedShown) document.getElementById(`delivery-${linked}`)?.scrollIntoView({ block: "center" });
  }, [linkedShown, linked]);

  const replay = async (delivery: Delivery) => {
    setActionError(null);
    try {
      const answer = await call(
        client.api.integrations[":id"].deliveries[":deliveryId"].replay.$post({
          param: { id: integrationId, deliveryId: delivery.id },
        }),
      );
      setNotice(answer.paused ? "Replay queued. It is sent when the integration is enabled." : "Replay queued.");
      await first.reload();
    } catch (e) {
      setActionError(e);
    }
  };

  return (
    <section class="card card-flush" aria-labelledby="log-heading">
      <div class="card-header log-header">
        <h2 id="log-heading">Delivery log</h2>
        <div class="log-tools">
          <Tabs
            label="Filter deliveries by state"
            tabs={FILTERS}
            selected={state}
            onSelect={(id) => {
              setState(id);
              log.reset();
            }}
          />
          {(deadShown || state === "dead") && (
            <button type="button" class="btn btn-small" onClick={() => setConfirmDead(true)}>
              Replay all dead
            </button>
          )}
        </div>
      </div>
      <div class="log-body">
        {notice && <Notice kind="success">{notice}</Notice>}
        <ErrorBanner error={actionError ?? log.moreError ?? first.error} />
        {first.data?.paused && (
          <Notice kind="warning">
            Sending is paused{disabled ? " while the integration is disabled" : ""}.
            {first.data.queued_notifications > 0 && ` ${first.data.queued_notifications} notifications are waiting.`}
          </Notice>
        )}
      </div>
      {first.loading && !first.data ? (
        <Spinner label="Loading deliveries…" />
      ) : deliveries.length === 0 ? (
        <div class="log-body">
          <EmptyState title={state ? `No ${state} deliveries` : "No deliveries yet"}>
            <p>Deliveries appear here as events arrive that this integration subscribes to.</p>
          </EmptyState>
        </div>
      ) : (
        <DataTable
          columns={[
            { label: "Created" },
            { label: "Notifications" },
            { label: "State" },
            { label: "Last attempt" },
            { label: "Actions", hidden: true },
          ]}
          variant="delivery-table"
          card={false}
          footer={<LoadMore list={log} label="Show older deliveries" />}
        >
          {deliveries.map((d) => (
            <DeliveryRow key={d.id} delivery={d} linked={d.id === linked} onReplay={() => void replay(d)} />
          ))}
        </DataTable>
      )}
      <ConfirmDialog
        open={confirmDead}
        title="Replay all dead deliveries?"
        danger={false}
        body={<p>Each dead delivery is sent again as a new delivery, in order, with fresh retries.</p>}
        confirmLabel="Replay all dead"
        onClose={() => setConfirmDead(false)}
        onConfirm={async () => {
          const answer = await call(
            client.api.integrations[":id"].deliveries["replay-dead"].$post({ param: { id: integrationId } }),
          );
          setNotice(
            `${answer.delivery_ids.length} dead deliveries queued again${answer.paused ? "; they are sent when the integration is enabled" : ""}.`,
          );
          await first.reload();
        }}
      />
    </section>
  );
}

const STATE_PILL: Record<string, "ok" | "warn" | "bad" | "off"> = {
  delivered: "ok",
  pending: "warn",
  dead: "bad",
  dropped: "off",
};

function DeliveryRow({ delivery, linked, onReplay }: { delivery: Delivery; linked: boolean; onReplay: () => void }) {
  const last = delivery.attempts[delivery.attempts.length - 1];
  const [first, ...rest] = delivery.notifications;
  return (
    <tr id={`delivery-${delivery.id}`} class={linked ? "row-linked" : undefined}>
      <td>
        <Time value={delivery.created_at} />
        {delivery.replay_of && <div class="muted small">Replay</div>}
      </td>
      <td class="cell-wide">
        <div>
          {first?.event_id ? <Link href={`/events/${first.event_id}`}>{first.summary}</Link> : (first?.summary ?? "—")}
          {rest.length > 0 && <span class="muted small"> and {rest.length} more</span>}
        </div>
        <details class="attempts-details" open={linked}>
          <summary>
            {delivery.requests} request{delivery.requests === 1 ? "" : "s"}
          </summary>
          <ol class="attempts">
            {delivery.attempts.map((a) => (
              <li key={a.number}>
                #{a.number} <Time value={a.at} /> —{" "}
                <span class={a.ok ? "text-ok" : "text-bad"}>
                  {a.status !== null ? `HTTP ${a.status}` : (a.error_kind ?? "error")}
                </span>{" "}
                in {formatMs(a.latency_ms)}
                {a.error && <span class="muted"> · {a.error.replace(/^HTTP \d+:\s*/, "")}</span>}
                {a.retry_after_seconds !== null && <span class="muted"> · Retry-After {a.retry_after_seconds} s</span>}
              </li>
            ))}
          </ol>
          {last && <pre class="payload">{prettyBody(last.request_body)}</pre>}
        </details>
      </td>
      <td>
        <StatusPill status={STATE_PILL[delivery.state] ?? "off"}>{delivery.state}</StatusPill>
        {delivery.state === "pending" && delivery.next_attempt_at && (
          <div class="muted small">
            next <Time value={delivery.next_attempt_at} />
          </div>
        )}
      </td>
      <td>
        {last ? (
          <>
            {last.status !== null ? `HTTP ${last.status}` : (last.error_kind ?? "—")}
            <div class="muted small">{formatMs(last.latency_ms)}</div>
          </>
        ) : (
          <span class="muted">Not sent yet</span>
        )}
      </td>
      <td class="cell-actions">
        {delivery.state !== "pending" && (
          <button
            type="button"
            class="btn btn-small"
            onClick={onReplay}
            aria-label={`Replay delivery from ${delivery.created_at}`}
          >
            Replay
          </button>
        )}
      </td>
    </tr>
  );
}

function prettyBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}
