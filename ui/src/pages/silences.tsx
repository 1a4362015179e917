import { RuleDetail, RuleListHeader, RuleStamp, SILENCES, useAccountChoices } from "../components/rule-page";
import { DataTable, EmptyState, ErrorBanner, Spinner, StatusPill } from "../components/ui";
import { call } from "../lib/api";
import { formatNumber } from "../lib/format";
import { Link } from "../lib/router";
import { filtersText, recurrenceText } from "../lib/rule-text";
import { useSession } from "../lib/session";
import { rulesApi, type Silence, type SilenceState } from "../lib/triggers-api";
import { useResource } from "../lib/use-resource";
import { formatInZone } from "../lib/zoned-time";

const STATES: Record<SilenceState, { status: "ok" | "warn" | "off"; label: string }> = {
  active: { status: "ok", label: "Active" },
  scheduled: { status: "warn", label: "Scheduled" },
  expired: { status: "off", label: "Expired" },
};

function StatePill({ state }: { state: SilenceState }) {
  return <StatusPill status={STATES[state].status}>{STATES[state].label}</StatusPill>;
}

/** Its start and end in the account's time zone, and the weekly hours when it recurs. */
function SilenceWindow({ silence, timeZone }: { silence: Silence; timeZone: string }) {
  return (
    <>
      <div>
        {formatInZone(silence.starts_at, timeZone)} → {formatInZone(silence.ends_at, timeZone)}
      </div>
      {silence.recurrence && <div>{recurrenceText(silence.recurrence)}</div>}
    </>
  );
}

/** Settings → Silences: matching events are stored and counted, but not notified, for a while. */
export function SilencesPage() {
  const { me, isAdmin } = useSession();
  const timeZone = me.account.time_zone;
  const silences = useResource(() => call(rulesApi.silences.$get()), []);
  const { resource: choices, settled, nodeName } = useAccountChoices();
  const list = silences.data?.silences;

  return (
    <>
      <RuleListHeader
        title="Silences"
        subtitle={`Mute notifications of matching events for a while, e.g. a planned pentest. Muted events are still stored and counted in reports. Times are in the account's time zone (${timeZone}).`}
        newHref="/silences/new"
        newLabel="New silence"
      />
      <ErrorBanner error={silences.error ?? choices.error} retry={silences.error ? silences.reload : choices.reload} />
      {(silences.loading && !list) || !settled ? (
        <Spinner label="Loading silences…" />
      ) : list && list.length === 0 ? (
        <EmptyState title="No silences">
          <p>{isAdmin ? "Create one before a planned test or maintenance." : "An administrator creates silences."}</p>
        </EmptyState>
      ) : list ? (
        <DataTable
          columns={[
            { label: "Silence" },
            { label: "State" },
            { label: `When (${timeZone})` },
            { label: "Silenced", numeric: true },
            { label: "Actions", hidden: true },
          ]}
        >
          {list.map((silence) => (
            <tr key={silence.id} class={silence.state === "expired" ? "row-muted" : ""}>
              <td>
                <div class="cell-title">
                  <Link href={`/silences/${silence.id}`}>{silence.name}</Link>
                </div>
                <div class="muted small">{filtersText(silence.filters, nodeName)}</div>
              </td>
              <td>
                <StatePill state={silence.state} />
              </td>
              <td class="small">
                <SilenceWindow silence={silence} timeZone={timeZone} />
              </td>
              <td class="num">{formatNumber(silence.silenced_count)}</td>
              <td class="cell-actions">
                {isAdmin && (
                  <Link href={`/silences/${silence.id}/edit`} class="btn btn-small">
                    Edit
                  </Link>
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
    </>
  );
}

export function SilencePage({ params }: { params: { id: string } }) {
  const id = params.id;
  const { me } = useSession();
  const silence = useResource(async () => (await call(rulesApi.silences[":id"].$get({ param: { id } }))).silence, [id]);
  const choices = useAccountChoices();
  const { nodeName } = choices;

  return (
    <RuleDetail
      resource={silence}
      choices={choices}
      collection={SILENCES}
      id={id}
      onDelete={async () => {
        await call(rulesApi.silences[":id"].$delete({ param: { id } }));
      }}
      subtitle={(s) => (
        <>
          <StatePill state={s.state} /> <RuleStamp rule={s} />
        </>
      )}
    >
      {(s) => (
        <dl class="facts">
          <dt>When ({me.account.time_zone})</dt>
          <dd>
            <SilenceWindow silence={s} timeZone={me.account.time_zone} />
          </dd>
          <dt>Events</dt>
          <dd>{filtersText(s.filters, nodeName)}</dd>
          <dt>Silenced so far</dt>
          <dd>{formatNumber(s.silenced_count)}</dd>
          {s.comment && (
            <>
              <dt>Comment</dt>
              <dd>{s.comment}</dd>
            </>
          )}
        </dl>
      )}
    </RuleDetail>
  );
}
