import { useState } from "preact/hooks";
import { draftOf, EventFilterFields, type FilterDraft, toFilters } from "../components/event-filters";
import { CheckboxGroup, errorAt, FormError, InputField } from "../components/form";
import { RuleEditPage, RuleFormActions, RuleNewPage, SILENCES, useRuleForm } from "../components/rule-page";
import { call } from "../lib/api";
import { plural } from "../lib/format";
import { WEEKDAY_LABELS } from "../lib/rule-text";
import { useSession } from "../lib/session";
import {
  type AccountChoices,
  rulesApi,
  type Silence,
  type SilenceInput,
  WEEKDAYS,
  type Weekday,
} from "../lib/triggers-api";
import { isoToZonedInput, zonedInputToIso } from "../lib/zoned-time";

const HOUR = 3_600_000;

export function SilenceNewPage() {
  return <RuleNewPage collection={SILENCES} form={(choices) => <SilenceForm choices={choices} />} />;
}

export function SilenceEditPage({ params }: { params: { id: string } }) {
  return (
    <RuleEditPage
      collection={SILENCES}
      id={params.id}
      load={async (id) => (await call(rulesApi.silences[":id"].$get({ param: { id } }))).silence}
      form={(choices, existing) => <SilenceForm choices={choices} existing={existing} />}
    />
  );
}

function SilenceForm({ choices, existing }: { choices: AccountChoices; existing?: Silence }) {
  const timeZone = useSession().me.account.time_zone;
  // A new silence starts at the next full hour and lasts two hours.
  const [defaultStart] = useState(() => Math.ceil(Date.now() / HOUR) * HOUR);
  const [name, setName] = useState(existing?.name ?? "");
  const [comment, setComment] = useState(existing?.comment ?? "");
  const [startsAt, setStartsAt] = useState(
    isoToZonedInput(existing?.starts_at ?? new Date(defaultStart).toISOString(), timeZone),
  );
  const [endsAt, setEndsAt] = useState(
    isoToZonedInput(existing?.ends_at ?? new Date(defaultStart + 2 * HOUR).toISOString(), timeZone),
  );
  const [recurs, setRecurs] = useState(existing?.recurrence != null);
  const [days, setDays] = useState<Weekday[]>(existing?.recurrence?.days ?? []);
  const [from, setFrom] = useState(existing?.recurrence?.from ?? "18:00");
  const [to, setTo] = useState(existing?.recurrence?.to ?? "22:00");
  const [filters, setFilters] = useState<FilterDraft>(() => draftOf(existing?.filters));

  // An unreadable time is sent as typed, for the API to name the field.
  const body = (): SilenceInput => ({
    name: name.trim(),
    // Sent empty only to clear a saved comment.
    ...(comment.trim() || existing?.comment ? { comment: comment.trim() } : {}),
    filters: toFilters(filters),
    starts_at: zonedInputToIso(startsAt, timeZone) ?? startsAt,
    ends_at: zonedInputToIso(endsAt, timeZone) ?? endsAt,
    recurrence: recurs ? { days: WEEKDAYS.filter((d) => days.includes(d)), from, to } : null,
  });

  const submissions = useRuleForm(
    SILENCES,
    async () =>
      (existing
        ? await call(rulesApi.silences[":id"].$patch({ param: { id: existing.id }, json: body() }))
        : await call(rulesApi.silences.$post({ json: body() }))
      ).silence,
    () => call(rulesApi.silences.preview.$post({ json: body() })),
  );
  const { save, shown, previewAnswer: preview } = submissions;
  const errors = shown.fields;

  return (
    <form class="card" noValidate onSubmit={save.submit}>
      <FormError submission={shown} />
      <InputField id="silence-name" label="Name" error={errors.name} value={name} onValue={setName} />
      <InputField
        id="silence-comment"
        label="Comment"
        hint="Optional: why, and who asked for it."
        error={errors.comment}
        value={comment}
        onValue={setComment}
      />

      <section class="form-section" aria-labelledby="when-heading">
        <h2 id="when-heading">When</h2>
        <p class="field-hint">In the account's time zone, {timeZone}.</p>
        <div class="grid-2">
          <InputField
            id="silence-starts"
            label="Starts"
            type="datetime-local"
            error={errors.starts_at}
            value={startsAt}
            onValue={setStartsAt}
          />
          <InputField
            id="silence-ends"
            label="Ends"
            type="datetime-local"
            error={errors.ends_at}
            value={endsAt}
            onValue={setEndsAt}
          />
        </div>
        <label class="check">
          <input type="checkbox" checked={recurs} onChange={(e) => setRecurs(e.currentTarget.checked)} />
          Repeat weekly between the start and the end
        </label>
        {recurs && (
          <>
            <div class="field">
              <CheckboxGroup
                legend="Days"
                name="recurrence-days"
                options={WEEKDAYS.map((day) => ({ value: day, label: WEEKDAY_LABELS[day] }))}
                checked={days}
                onChange={setDays}
                error={errorAt(errors, "recurrence.days")}
              />
            </div>
            <div class="grid-2">
              <InputField
                id="recurrence-from"
                label="From"
                type="time"
                error={errorAt(errors, "recurrence.from")}
                value={from}
                onValue={setFrom}
              />
              <InputField
                id="recurrence-to"
                label="To"
                hint="At or before From: the window runs into the next day."
                type="time"
                error={errorAt(errors, "recurrence.to") ?? errors.recurrence}
                value={to}
                onValue={setTo}
              />
            </div>
          </>
        )}
      </section>

      <section class="form-section" aria-labelledby="filters-heading">
        <h2 id="filters-heading">Which events</h2>
        <p class="field-hint">Every filter is optional; an event must match all that are set.</p>
        <EventFilterFields value={filters} onChange={setFilters} errors={errors} nodes={choices.nodes} />
      </section>

      <RuleFormActions
        collection={SILENCES}
        existingId={existing?.id}
        submissions={submissions}
        previewText={
          preview && (
            <>
              Would have muted {plural(preview.would_mute, "event")} in the last {preview.window_hours} h.{" "}
              <span class="muted small">{plural(preview.events_scanned, "stored event")} scanned.</span>
            </>
          )
        }
      />
    </form>
  );
}
