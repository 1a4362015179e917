import { useState } from "preact/hooks";
import { describedBy, ErrorBanner, Field } from "../../components/ui";
import { ApiError, call, client } from "../../lib/api";
import type { CatalogType, Integration, Subscriptions, TestResults } from "./api-types";
import { FallbackField } from "./fallback-field";
import { initialValues, type JsonSchema, SchemaFields, type SettingsValue, toSettings } from "./schema-form";
import { cleanSubscriptions, defaultSubscriptions, SubscriptionFields } from "./subscriptions";
import { TestResultsView } from "./test-results";

export interface SavedResult {
  integration: Integration;
  signingSecret?: string;
}

/**
 * The add/edit form of one system, generated from its catalog entry. Errors from the API land
 * next to their fields; Test sends the unsaved form (new) or the saved settings (edit).
 */
export function IntegrationForm({
  type,
  existing,
  onSaved,
  onCancel,
}: {
  type: CatalogType;
  existing?: Integration;
  onSaved: (result: SavedResult) => void;
  onCancel: () => void;
}) {
  const schema = type.settings_schema as JsonSchema;
  const [name, setName] = useState(existing?.name ?? defaultName(type));
  const [values, setValues] = useState<SettingsValue>(() => initialValues(schema, existing?.settings));
  const [events, setEvents] = useState<Subscriptions>(existing?.events ?? defaultSubscriptions(type.categories));
  const [fallback, setFallback] = useState<string | null>(existing?.fallback_integration_id ?? null);
  const [busy, setBusy] = useState<"save" | "test" | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [testResults, setTestResults] = useState<TestResults["results"] | null>(null);

  const fieldErrors = error instanceof ApiError ? error.fieldErrors() : {};
  const settingsErrors = error instanceof ApiError ? error.fieldErrors("settings.") : {};
  const eventsError =
    fieldErrors.events ?? Object.entries(fieldErrors).find(([key]) => key.startsWith("events."))?.[1] ?? undefined;
  const unplaced =
    error instanceof ApiError
      ? error.details.filter(
          (d) =>
            !(
              d.field === "name" ||
              d.field === "fallback_integration_id" ||
              d.field.startsWith("settings.") ||
              d.field.startsWith("events")
            ),
        )
      : [];
  const showBanner = error && (!(error instanceof ApiError) || error.details.length === 0 || unplaced.length > 0);

  const body = () => ({
    type: type.type,
    name: name.trim(),
    settings: toSettings(schema, values),
    events: cleanSubscriptions(events),
    fallback_integration_id: fallback,
  });

  const save = async () => {
    setBusy("save");
    setError(null);
    try {
      if (existing) {
        const { type: _type, ...changes } = body();
        const answer = await call(client.api.integrations[":id"].$patch({ param: { id: existing.id }, json: changes }));
        onSaved({ integration: answer.integration });
      } else {
        const answer = await call(client.api.integrations.$post({ json: body() }));
        onSaved({ integration: answer.integration, signingSecret: answer.signing_secret });
      }
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  const test = async () => {
    setBusy("test");
    setError(null);
    setTestResults(null);
    try {
      const answer = existing
        ? await call(client.api.integrations[":id"].test.$post({ param: { id: existing.id } }))
        : await call(client.api.integrations.test.$post({ json: body() }));
      setTestResults(answer.results);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };

  return (
    <form
      class="card"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        void save();
      }}
    >
      {showBanner ? (
        <ErrorBanner
          error={
            unplaced.length
              ? new Error(
                  `${(error as ApiError).message} ${unplaced.map((d) => `${d.field}: ${d.message}`).join("; ")}`,
                )
              : error
          }
        />
      ) : null}
      <Field
        id="integration-name"
        label="Name"
        hint="Shown in lists and in system notifications."
        error={fieldErrors.name}
      >
        <input
          id="integration-name"
          class="input"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
          {...describedBy("integration-name", fieldErrors.name)}
        />
      </Field>
      <section class="form-section" aria-labelledby="settings-heading">
        <h2 id="settings-heading">Connection</h2>
        <SchemaFields
          type={type.type}
          schema={schema}
          values={values}
          onChange={setValues}
          errors={settingsErrors}
          saved={existing?.settings}
        />
      </section>
      <section class="form-section" aria-labelledby="events-heading">
        <h2 id="events-heading">Events</h2>
        <p class="field-hint">What this integration receives. Only what {type.title} supports is offered.</p>
        <SubscriptionFields categories={type.categories} value={events} onChange={setEvents} error={eventsError} />
      </section>
      <section class="form-section" aria-labelledby="fallback-heading">
        <h2 id="fallback-heading">When a delivery fails</h2>
        <FallbackField
          integrationId={existing?.id}
          value={fallback}
          onChange={setFallback}
          error={fieldErrors.fallback_integration_id}
        />
      </section>
      {testResults && <TestResultsView results={testResults} />}
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled={busy !== null}>
          {busy === "save" ? "Saving…" : existing ? "Save changes" : "Add integration"}
        </button>
        <button type="button" class="btn" disabled={busy !== null} onClick={() => void test()}>
          {busy === "test" ? "Sending test…" : "Test integration"}
        </button>
        {existing && <span class="muted small">Test uses the saved settings.</span>}
        <span class="spacer" />
        <button type="button" class="btn" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function defaultName(type: CatalogType): string {
  const count = type.counts.enabled + type.counts.disabled;
  return count === 0 ? type.title : `${type.title} ${count + 1}`;
}
