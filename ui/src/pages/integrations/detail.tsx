import { useState } from "preact/hooks";
import { FormDialog, useSubmission } from "../../components/form";
import {
  ConfirmDialog,
  ErrorBanner,
  Notice,
  OneTimeSecretDialog,
  Spinner,
  StatusPill,
  Time,
} from "../../components/ui";
import { call, client } from "../../lib/api";
import { formatPercent } from "../../lib/format";
import { Link, navigate } from "../../lib/router";
import { useInterval, useResource } from "../../lib/use-resource";
import { DISABLED_REASONS, type Integration, type TestResults } from "./api-types";
import { DeliveryLog } from "./delivery-log";
import { HealthPanel } from "./health-panel";
import { settingLabel } from "./schema-form";
import { SystemIcon } from "./system-icon";
import { TestResultsView } from "./test-results";

export function IntegrationDetailPage({ params }: { params: { id: string } }) {
  const id = params.id;
  const data = useResource(() => call(client.api.integrations[":id"].$get({ param: { id } })), [id]);
  const [dialog, setDialog] = useState<"enable" | "disable" | "delete" | "rotate" | null>(null);
  const [testing, setTesting] = useState(false);
  const [testResults, setTestResults] = useState<TestResults["results"] | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [rotated, setRotated] = useState<string | null>(null);
  // One counter bumps the health panel and the log together after an action.
  const [refreshKey, setRefreshKey] = useState(0);
  useInterval(() => void data.reload(), 10_000);

  if (data.loading && !data.data) return <Spinner label="Loading the integration…" />;
  if (!data.data) return <ErrorBanner error={data.error} retry={data.reload} />;
  const integration = data.data.integration;
  const enabled = integration.status === "enabled";

  const after = async (message: string | null) => {
    setNotice(message);
    await data.reload();
    setRefreshKey((k) => k + 1);
  };

  return (
    <>
      <p class="breadcrumb">
        <Link href="/integrations">Integrations</Link> /
      </p>
      <header class="page-header">
        <div class="detail-head">
          <SystemIcon type={integration.type} />
          <div>
            <h1>{integration.name}</h1>
            <p class="page-subtitle">
              {enabled ? <StatusPill status="ok">Active</StatusPill> : <DisabledPill integration={integration} />}{" "}
              <span class="muted small">
                Added <Time value={integration.created_at} /> · updated <Time value={integration.updated_at} />
              </span>
            </p>
          </div>
        </div>
        <div class="page-actions">
          <button
            type="button"
            class="btn"
            disabled={testing}
            onClick={async () => {
              setTesting(true);
              setActionError(null);
              setTestResults(null);
              try {
                setTestResults((await call(client.api.integrations[":id"].test.$post({ param: { id } }))).results);
              } catch (e) {
                setActionError(e);
              } finally {
                setTesting(false);
              }
            }}
          >
            {testing ? "Sending test…" : "Test integration"}
          </button>
          <Link href={`/integrations/${id}/edit`} class="btn">
            Edit
          </Link>
          {enabled ? (
            <button type="button" class="btn" onClick={() => setDialog("disable")}>
              Disable
            </button>
          ) : (
            <button type="button" class="btn btn-primary" onClick={() => setDialog("enable")}>
              Enable
            </button>
          )}
          <button type="button" class="btn btn-danger-ghost" onClick={() => setDialog("delete")}>
            Delete
          </button>
        </div>
      </header>

      {notice && <Notice kind="success">{notice}</Notice>}
      <ErrorBanner error={actionError ?? data.error} />
      {!enabled && <DisabledExplanation integration={integration} />}
      {integration.secrets_status === "needs_reentry" && (
        <Notice kind="warning">
          The stored secrets cannot be read (the encryption key changed).{" "}
          <Link href={`/integrations/${id}/edit`}>Enter them again</Link> before it can send.
        </Notice>
      )}
      {testResults && (
        <section class="card">
          <h2>Test result</h2>
          <TestResultsView results={testResults} />
        </section>
      )}

      <HealthPanel integrationId={id} refreshKey={refreshKey} />
      <DeliveryLog integrationId={id} refreshKey={refreshKey} disabled={!enabled} />
      <SettingsSummary
        integration={integration}
        onRotate={integration.type === "webhook" ? () => setDialog("rotate") : undefined}
      />

      <EnableDialog
        open={dialog === "enable"}
        integration={integration}
        onClose={() => setDialog(null)}
        onDone={(message) => void after(message)}
      />
      <ConfirmDialog
        open={dialog === "disable"}
        title="Disable integration?"
        danger={false}
        body={
          <p>Herald stops sending to {integration.name}. Its settings are kept; deliveries still pending are paused.</p>
        }
        confirmLabel="Disable"
        onClose={() => setDialog(null)}
        onConfirm={async () => {
          await call(client.api.integrations[":id"].disable.$post({ param: { id } }));
          await after("Disabled. New events are not sent to it until you enable it again.");
        }}
      />
      <ConfirmDialog
        open={dialog === "delete"}
        title="Delete integration?"
        body={
          <p>
            <strong>{integration.name}</strong> and its delivery log are deleted for good. Pending deliveries are
            dropped. This cannot be undone.
          </p>
        }
        confirmLabel="Delete integration"
        onClose={() => setDialog(null)}
        onConfirm={async () => {
          await call(client.api.integrations[":id"].$delete({ param: { id } }));
          navigate("/integrations");
        }}
      />
      <ConfirmDialog
        open={dialog === "rotate"}
        title="Rotate the signing secret?"
        danger={false}
        body={
          <p>Herald generates a new secret. For 24 hours requests carry signatures with both the old and new secret.</p>
        }
        confirmLabel="Rotate secret"
        onClose={() => setDialog(null)}
        onConfirm={async () => {
          const answer = await call(client.api.integrations[":id"]["rotate-secret"].$post({ param: { id } }));
          setRotated(answer.signing_secret ?? null);
          await data.reload();
        }}
      />
      <OneTimeSecretDialog
        title="New signing secret"
        label="Signing secret"
        value={rotated}
        doneLabel="I have copied it"
        onClose={() => setRotated(null)}
      />
    </>
  );
}

function DisabledPill({ integration }: { integration: Integration }) {
  return integration.disabled_reason === "manual" ? (
    <StatusPill status="off">Disabled</StatusPill>
  ) : (
    <StatusPill status="bad">Auto-disabled</StatusPill>
  );
}

type Figures = {
  requests?: number;
  failed?: number;
  failure_ratio?: number;
  window_seconds?: number;
  threshold_ratio?: number;
};

function DisabledExplanation({ integration }: { integration: Integration }) {
  const reason = integration.disabled_reason ?? "manual";
  const figures = (integration.disabled_details ?? {}) as Figures;
  return (
    <div class={`banner ${reason === "manual" ? "banner-info" : "banner-warning"}`} role="status">
      <div>
        <strong>{DISABLED_REASONS[reason] ?? `Disabled (${reason})`}</strong>
        {integration.disabled_at && (
          <>
            {" "}
            on <Time value={integration.disabled_at} />
          </>
        )}
        .{" "}
        {reason === "auto_failure_ratio" && figures.requests !== undefined && (
          <span>
            {figures.failed} of {figures.requests} requests ({formatPercent(figures.failure_ratio)}) failed in the last{" "}
            {Math.round((figures.window_seconds ?? 43_200) / 3600)} hours; the limit is{" "}
            {formatPercent(figures.threshold_ratio ?? 0.6, 0)}.{" "}
          </span>
        )}
        Pending deliveries are paused. Fix the receiver, test it, then enable the integration.
      </div>
    </div>
  );
}

function EnableDialog({
  open,
  integration,
  onClose,
  onDone,
}: {
  open: boolean;
  integration: Integration;
  onClose: () => void;
  onDone: (message: string) => void;
}) {
  const [pending, setPending] = useState<"resume" | "drop">("resume");
  const [replayMissed, setReplayMissed] = useState(false);
  const [replayDead, setReplayDead] = useState(false);
  const enable = useSubmission(async () => {
    const answer = await call(
      client.api.integrations[":id"].enable.$post({
        param: { id: integration.id },
        json: { pending, replay_missed: replayMissed, replay_dead: replayDead },
      }),
    );
    onClose();
    onDone(
      `Enabled. ${answer.resumed} paused notifications resumed, ${answer.dropped} dropped, ${answer.replayed} missed events queued, ${answer.replayed_dead} dead deliveries replayed.` +
        (answer.replay_truncated ? " More events were missed than one replay takes: only the oldest were queued." : ""),
    );
  });
  return (
    <FormDialog
      open={open}
      title={`Enable ${integration.name}`}
      onClose={onClose}
      submission={enable}
      submitLabel="Enable"
      busyLabel="Enabling…"
    >
      <fieldset class="field">
        <legend class="fieldset-legend">Deliveries paused while it was disabled</legend>
        <label class="check">
          <input type="radio" name="pending" checked={pending === "resume"} onChange={() => setPending("resume")} />
          Resume them: send them in order, as they were
        </label>
        <label class="check">
          <input type="radio" name="pending" checked={pending === "drop"} onChange={() => setPending("drop")} />
          Drop them: they are kept in the log as dropped
        </label>
      </fieldset>
      <label class="check">
        <input type="checkbox" checked={replayMissed} onChange={(e) => setReplayMissed(e.currentTarget.checked)} />
        Also send the events that arrived while it was disabled
      </label>
      <label class="check">
        <input type="checkbox" checked={replayDead} onChange={(e) => setReplayDead(e.currentTarget.checked)} />
        Also replay the deliveries that died (every retry failed) since it was disabled or in the failure window before
        (12 hours by default)
      </label>
      {/* The choices cannot be invalid as picked here, so any error is one banner below them. */}
      <ErrorBanner error={enable.error} />
    </FormDialog>
  );
}

function SettingsSummary({ integration, onRotate }: { integration: Integration; onRotate?: () => void }) {
  const events = integration.events;
  const subscribed = [
    events.security_issue?.length ? `Security issues (${events.security_issue.join(", ")})` : null,
    events.incident ? "Incidents" : null,
    events.scope_change ? "Scope changes" : null,
    events.hit ? "Hits" : null,
    events.system ? "System events" : null,
    events.reports?.length ? `Reports (${events.reports.join(", ")})` : null,
  ].filter(Boolean);
  return (
    <section class="card">
      <div class="card-header">
        <h2>Settings</h2>
        {onRotate && (
          <button type="button" class="btn btn-small" onClick={onRotate}>
            Rotate signing secret
          </button>
        )}
      </div>
      <dl class="facts">
        {Object.entries(integration.settings)
          .filter(([key]) => !key.startsWith("previous_"))
          .map(([key, value]) => (
            <SettingFact key={key} name={settingLabel(integration.type, key)} value={value} />
          ))}
        <dt>Events</dt>
        <dd>
          {subscribed.length ? (
            subscribed.join(" · ")
          ) : (
            <span class="muted">Nothing: it receives no notifications.</span>
          )}
        </dd>
      </dl>
    </section>
  );
}

function SettingFact({ name, value }: { name: string; value: unknown }) {
  const text =
    value === null
      ? "needs re-entry"
      : Array.isArray(value)
        ? value.map((v) => (typeof v === "object" && v ? Object.values(v).join(": ") : String(v))).join(", ") || "none"
        : String(value);
  return (
    <>
      <dt>{name}</dt>
      <dd class="mono">{text}</dd>
    </>
  );
}
