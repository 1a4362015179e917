import { RuleDetail, RuleListHeader, RuleStamp, TRIGGERS, useAccountChoices } from "../components/rule-page";
import { DataTable, EmptyState, ErrorBanner, Spinner, StatusPill } from "../components/ui";
import { call } from "../lib/api";
import { plural } from "../lib/format";
import { Link } from "../lib/router";
import { conditionText, filtersText, GROUP_BY_LABELS, type NameOf, throttleText } from "../lib/rule-text";
import { useSession } from "../lib/session";
import { rulesApi, type Trigger } from "../lib/triggers-api";
import { useResource } from "../lib/use-resource";

/** Integration names for admins; analysts may not read integrations, so they see how many. */
function integrationsText(trigger: Trigger, integrationName: NameOf): string {
  const names = trigger.integration_ids.map(integrationName);
  return names.every((name) => name !== undefined)
    ? names.join(", ")
    : plural(trigger.integration_ids.length, "integration");
}

/** Node silence and system events have no event filters or groups. */
const countsEvents = (trigger: Trigger) =>
  trigger.condition.kind === "each_event" || trigger.condition.kind === "threshold";

function EnabledPill({ enabled }: { enabled: boolean }) {
  return enabled ? <StatusPill status="ok">Enabled</StatusPill> : <StatusPill status="off">Disabled</StatusPill>;
}

/** Settings → Triggers: which events notify which integrations, when, and how often. */
export function TriggersPage() {
  const { isAdmin } = useSession();
  const triggers = useResource(() => call(rulesApi.triggers.$get()), []);
  const { resource: choices, settled, integrationName, nodeName } = useAccountChoices();
  const list = triggers.data?.triggers;

  return (
    <>
      <RuleListHeader
        title="Triggers"
        subtitle="Send the events that matter to the integrations you choose: each matching event, or a threshold within a window, grouped and throttled. Integrations' own subscriptions keep working beside them."
        newHref="/triggers/new"
        newLabel="New trigger"
      />
      <ErrorBanner error={triggers.error ?? choices.error} retry={triggers.error ? triggers.reload : choices.reload} />
      {(triggers.loading && !list) || !settled ? (
        <Spinner label="Loading triggers…" />
      ) : list && list.length === 0 ? (
        <EmptyState title="No triggers yet">
          <p>
            {isAdmin
              ? "Create one to route, group and throttle notifications."
              : "An administrator creates triggers to route notifications."}
          </p>
        </EmptyState>
      ) : list ? (
        <DataTable
          columns={[
            { label: "Trigger" },
            { label: "Condition" },
            { label: "Integrations" },
            { label: "Throttle" },
            { label: "State" },
            { label: "Actions", hidden: true },
          ]}
        >
          {list.map((trigger) => (
            <tr key={trigger.id} class={trigger.enabled ? "" : "row-muted"}>
              <td>
                <div class="cell-title">
                  <Link href={`/triggers/${trigger.id}`}>{trigger.name}</Link>
                </div>
                {countsEvents(trigger) && <div class="muted small">{filtersText(trigger.filters, nodeName)}</div>}
              </td>
              <td>{conditionText(trigger, nodeName)}</td>
              <td class="small">{integrationsText(trigger, integrationName)}</td>
              <td class="small">{throttleText(trigger)}</td>
              <td>
                <EnabledPill enabled={trigger.enabled} />
              </td>
              <td class="cell-actions">
                {isAdmin && (
                  <Link href={`/triggers/${trigger.id}/edit`} class="btn btn-small">
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

export function TriggerPage({ params }: { params: { id: string } }) {
  const id = params.id;
  const trigger = useResource(async () => (await call(rulesApi.triggers[":id"].$get({ param: { id } }))).trigger, [id]);
  const choices = useAccountChoices();
  const { integrationName, nodeName } = choices;

  return (
    <RuleDetail
      resource={trigger}
      choices={choices}
      collection={TRIGGERS}
      id={id}
      onDelete={async () => {
        await call(rulesApi.triggers[":id"].$delete({ param: { id } }));
      }}
      subtitle={(t) => (
        <>
          <EnabledPill enabled={t.enabled} /> <RuleStamp rule={t} />
        </>
      )}
    >
      {(t) => (
        <dl class="facts">
          <dt>Condition</dt>
          <dd>{conditionText(t, nodeName)}</dd>
          {countsEvents(t) && (
            <>
              <dt>Events</dt>
              <dd>{filtersText(t.filters, nodeName)}</dd>
              <dt>Grouped by</dt>
              <dd>{t.group_by.length ? t.group_by.map((g) => GROUP_BY_LABELS[g]).join(", ") : "Not grouped"}</dd>
            </>
          )}
          <dt>Throttle</dt>
          <dd>{throttleText(t)}</dd>
          <dt>Notifies</dt>
          <dd>{integrationsText(t, integrationName)}</dd>
        </dl>
      )}
    </RuleDetail>
  );
}
