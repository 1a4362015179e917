import { useState } from "preact/hooks";
import type { SystemEventType } from "../../../worker/domain/system-events";
import { draftOf, EventFilterFields, type FilterDraft, toFilters } from "../components/event-filters";
import { CheckboxGroup, errorAt, FormError, InputField } from "../components/form";
import { RuleEditPage, RuleFormActions, RuleNewPage, TRIGGERS, useRuleForm } from "../components/rule-page";
import { describedBy, Field } from "../components/ui";
import { call } from "../lib/api";
import { plural } from "../lib/format";
import { Link } from "../lib/router";
import { GROUP_BY_LABELS, SYSTEM_TYPE_LABELS } from "../lib/rule-text";
import {
  type AccountChoices,
  type ConditionKind,
  GROUP_BY,
  type GroupBy,
  rulesApi,
  type Trigger,
  type TriggerInput,
  type TriggerPreview,
} from "../lib/triggers-api";

const KINDS: { kind: ConditionKind; label: string; hint: string }[] = [
  { kind: "each_event", label: "Each matching event", hint: "Notify at once, for every event that matches." },
  { kind: "threshold", label: "Threshold", hint: "At least a number of matching events within a window." },
  {
    kind: "node_silence",
    label: "Node silence",
    hint: "A node sent nothing for a while; a notice follows when it is back.",
  },
  { kind: "system_event", label: "System events", hint: "Users, integrations, nodes and reports changing." },
];

/** A whole number from a text input; anything else is sent as null, for the API to name the field. */
const whole = (text: string) => (/^\d+$/.test(text.trim()) ? Number(text) : Number.NaN);

export function TriggerNewPage() {
  return <RuleNewPage collection={TRIGGERS} form={(choices) => <TriggerForm choices={choices} />} />;
}

export function TriggerEditPage({ params }: { params: { id: string } }) {
  return (
    <RuleEditPage
      collection={TRIGGERS}
      id={params.id}
      load={async (id) => (await call(rulesApi.triggers[":id"].$get({ param: { id } }))).trigger}
      form={(choices, existing) => <TriggerForm choices={choices} existing={existing} />}
    />
  );
}

function TriggerForm({ choices, existing }: { choices: AccountChoices; existing?: Trigger }) {
  const condition = existing?.condition;
  const [name, setName] = useState(existing?.name ?? "");
  const [enabled, setEnabled] = useState(existing?.enabled ?? true);
  const [kind, setKind] = useState<ConditionKind>(condition?.kind ?? "threshold");
  const [count, setCount] = useState(condition?.kind === "threshold" ? String(condition.count) : "100");
  const [windowMinutes, setWindowMinutes] = useState(
    condition?.kind === "threshold" ? String(condition.window_minutes) : "5",
  );
  const [nodeId, setNodeId] = useState(condition?.kind === "node_silence" ? (condition.node_id ?? "") : "");
  const [silenceMinutes, setSilenceMinutes] = useState(
    condition?.kind === "node_silence" ? String(condition.silence_minutes) : "15",
  );
  const [systemTypes, setSystemTypes] = useState<SystemEventType[]>(
    condition?.kind === "system_event" ? condition.system_types : [],
  );
  const [filters, setFilters] = useState<FilterDraft>(() => draftOf(existing?.filters));
  const [groupBy, setGroupBy] = useState<GroupBy[]>(existing?.group_by ?? []);
  const [throttle, setThrottle] = useState(String(existing?.throttle_minutes ?? 30));
  const [integrationIds, setIntegrationIds] = useState<string[]>(existing?.integration_ids ?? []);
  // Filters and grouping apply to events; node silence and system events have neither.
  const eventKind = kind === "each_event" || kind === "threshold";

  const body = (): TriggerInput => ({
    name: name.trim(),
    enabled,
    condition:
      kind === "threshold"
        ? { kind, count: whole(count), window_minutes: whole(windowMinutes) }
        : kind === "node_silence"
          ? { kind, node_id: nodeId || null, silence_minutes: whole(silenceMinutes) }
          : kind === "system_event"
            ? { kind, system_types: systemTypes }
            : { kind },
    filters: eventKind ? toFilters(filters) : {},
    group_by: eventKind ? groupBy : [],
    throttle_minutes: whole(throttle),
    integration_ids: integrationIds,
  });

  const submissions = useRuleForm(
    TRIGGERS,
    async () =>
      (existing
        ? await call(rulesApi.triggers[":id"].$patch({ param: { id: existing.id }, json: body() }))
        : await call(rulesApi.triggers.$post({ json: body() }))
      ).trigger,
    () => call(rulesApi.triggers.preview.$post({ json: body() })),
  );
  const { save, shown, previewAnswer: preview } = submissions;
  const errors = shown.fields;

  return (
    <form class="card" noValidate onSubmit={save.submit}>
      <FormError submission={shown} />
      <InputField id="trigger-name" label="Name" error={errors.name} value={name} onValue={setName} />
      <label class="check">
        <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
        Enabled
      </label>

      <section class="form-section" aria-labelledby="condition-heading">
        <h2 id="condition-heading">Condition</h2>
        <div class="field">
          <fieldset>
            <legend class="sr-only">Condition kind</legend>
            {KINDS.map((option) => (
              <label class="check check-top" key={option.kind}>
                <input
                  type="radio"
                  name="condition-kind"
                  value={option.kind}
                  checked={kind === option.kind}
                  onChange={() => setKind(option.kind)}
                />
                <span>
                  {option.label}
                  <span class="check-hint">{option.hint}</span>
                </span>
              </label>
            ))}
          </fieldset>
        </div>
        {kind === "threshold" && (
          <div class="grid-2">
            <InputField
              id="threshold-count"
              label="At least (events)"
              type="number"
              error={errorAt(errors, "condition.count")}
              value={count}
              onValue={setCount}
            />
            <InputField
              id="threshold-window"
              label="Within (minutes)"
              hint="1 minute to 24 hours (1440)."
              type="number"
              error={errorAt(errors, "condition.window_minutes")}
              value={windowMinutes}
              onValue={setWindowMinutes}
            />
          </div>
        )}
        {kind === "node_silence" && (
          <div class="grid-2">
            <Field id="silence-node" label="Node" error={errorAt(errors, "condition.node_id")}>
              <select
                id="silence-node"
                class="input"
                value={nodeId}
                onChange={(e) => setNodeId(e.currentTarget.value)}
                {...describedBy("silence-node", errorAt(errors, "condition.node_id"))}
              >
                <option value="">Every node</option>
                {choices.nodes
                  .filter((node) => !node.revoked || node.id === nodeId)
                  .map((node) => (
                    <option key={node.id} value={node.id}>
                      {node.name}
                    </option>
                  ))}
              </select>
            </Field>
            <InputField
              id="silence-minutes"
              label="Silent for (minutes)"
              hint="Up to a week (10080)."
              type="number"
              error={errorAt(errors, "condition.silence_minutes")}
              value={silenceMinutes}
              onValue={setSilenceMinutes}
            />
          </div>
        )}
        {kind === "system_event" && (
          <div class="field">
            <CheckboxGroup
              legend="System events"
              hint="None ticked: every system event."
              name="system-types"
              options={Object.entries(SYSTEM_TYPE_LABELS).map(([type, label]) => ({ value: type, label }))}
              checked={systemTypes}
              onChange={(types) => setSystemTypes(types as SystemEventType[])}
              error={errorAt(errors, "condition.system_types")}
            />
          </div>
        )}
      </section>

      {eventKind && (
        <section class="form-section" aria-labelledby="filters-heading">
          <h2 id="filters-heading">Which events</h2>
          <p class="field-hint">Every filter is optional; an event must match all that are set.</p>
          <EventFilterFields value={filters} onChange={setFilters} errors={errors} nodes={choices.nodes} />
          <div class="field">
            <CheckboxGroup
              legend="Group by"
              hint="Each group counts, fires and is throttled on its own."
              name="group-by"
              options={GROUP_BY.map((g) => ({ value: g, label: GROUP_BY_LABELS[g] }))}
              checked={groupBy}
              onChange={setGroupBy}
              error={errorAt(errors, "group_by")}
            />
          </div>
        </section>
      )}

      <section class="form-section" aria-labelledby="notify-heading">
        <h2 id="notify-heading">Notify</h2>
        {choices.integrations.length === 0 && (
          <p class="field-hint">
            The account has no integrations yet: <Link href="/integrations/new">add one</Link> first.
          </p>
        )}
        <div class="field">
          <CheckboxGroup
            legend="Integrations"
            hint="1 to 20. An event that a trigger and an integration's own subscription both send arrives once."
            name="integrations"
            options={choices.integrations.map((i) => ({
              value: i.id,
              label: `${i.name}${i.status === "enabled" ? "" : " (disabled)"}`,
            }))}
            checked={integrationIds}
            onChange={setIntegrationIds}
            error={errorAt(errors, "integration_ids")}
          />
        </div>
        <InputField
          id="trigger-throttle"
          label="Throttle (minutes)"
          hint="At most one notification per trigger and group in this time; 0: no throttle."
          type="number"
          error={errors.throttle_minutes}
          value={throttle}
          onValue={setThrottle}
        />
      </section>

      <RuleFormActions
        collection={TRIGGERS}
        existingId={existing?.id}
        submissions={submissions}
        previewText={preview && <PreviewText preview={preview} />}
      />
    </form>
  );
}

function PreviewText({ preview }: { preview: TriggerPreview }) {
  const groups = preview.groups.filter((g) => g.fired > 0);
  return (
    <>
      Would have fired {plural(preview.would_fire, "time")} in the last {preview.window_hours} h
      {groups.length > 0 && ` (groups: ${groups.map((g) => `${g.key} ×${g.fired}`).join(", ")})`}.{" "}
      <span class="muted small">{plural(preview.events_scanned, "stored event")} scanned.</span>
    </>
  );
}
