import { describedBy, Field } from "../../components/ui";

/**
 * Settings forms generated from the catalog's JSON Schema (zod's input side): strings, enums,
 * numbers, booleans, string lists and lists of objects. Secrets (`writeOnly` / `x-secret`) are
 * password inputs that are never filled from the server; `readOnly` (generated) fields are skipped.
 */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  enum?: unknown[];
  default?: unknown;
  format?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  readOnly?: boolean;
  writeOnly?: boolean;
  "x-secret"?: boolean;
  anyOf?: JsonSchema[];
}

export type SettingsValue = Record<string, unknown>;
type Row = Record<string, string>;
/** Row keys holding a saved secret's mask, so the mask follows its row when rows are removed. */
const MASK = "__masked_";

const LABELS: Record<string, string> = {
  url: "URL",
  webhook_url: "Incoming webhook URL",
  bot_token: "Bot token",
  chat_id: "Chat ID",
  api_key: "API key",
  region: "Region",
  routing_key: "Integration (routing) key",
  token: "Token",
  index: "Index",
  source: "Source",
  sourcetype: "Source type",
  method: "HTTP method",
  headers: "Custom headers",
  format: "Body format",
  timeout_seconds: "Request timeout (seconds)",
  recipients: "Recipients",
  name: "Name",
  value: "Value",
};

/** Per system wording where the generic label would be vague. */
const TYPE_LABELS: Record<string, Record<string, { label?: string; hint?: string }>> = {
  splunk: {
    url: { label: "HEC URL", hint: "For example https://splunk.example.com:8088" },
    token: { label: "HEC token" },
  },
  sumologic: { url: { label: "HTTP source URL" } },
  insightconnect: { url: { label: "API trigger URL" } },
  webhook: { url: { hint: "Herald sends notifications here, signed with Standard Webhooks headers." } },
  telegram: { chat_id: { hint: "The chat, group or channel id, e.g. -1001234567890." } },
  pagerduty: { routing_key: { hint: "32 characters, from the service's Events API v2 integration." } },
  email: { recipients: { hint: "One address per line, up to 50." } },
};

const ENUM_LABELS: Record<string, string> = {
  json_array: "JSON array (one request, many notifications)",
  ndjson: "NDJSON (one notification per line)",
  us: "US (api.opsgenie.com)",
  eu: "EU (api.eu.opsgenie.com)",
};

/** The label a settings key has in this system's form. */
export function settingLabel(type: string, key: string): string {
  return TYPE_LABELS[type]?.[key]?.label ?? LABELS[key] ?? humanize(key);
}

function humanize(key: string): string {
  const text = key.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const isSecret = (s: JsonSchema | undefined) => !!s && (s.writeOnly === true || s["x-secret"] === true);
const typeOf = (s: JsonSchema): string | undefined =>
  Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;

/** The editable fields of a settings schema, in declaration order. */
export function editableFields(schema: JsonSchema): [string, JsonSchema][] {
  return Object.entries(schema.properties ?? {}).filter(([, s]) => !s.readOnly);
}

/** Initial form values: the saved settings (secrets blanked), else the schema's defaults. */
export function initialValues(schema: JsonSchema, saved?: SettingsValue): SettingsValue {
  const values: SettingsValue = {};
  for (const [key, s] of editableFields(schema)) {
    const current = saved?.[key] ?? s.default;
    if (isSecret(s)) values[key] = "";
    else if (typeOf(s) === "array" && s.items && typeOf(s.items) === "object") {
      const rows = Array.isArray(current) ? (current as Record<string, unknown>[]) : [];
      values[key] = rows.map((row) => {
        const out: Row = {};
        for (const [k, itemSchema] of Object.entries(s.items?.properties ?? {})) {
          out[k] = isSecret(itemSchema) ? "" : String(row[k] ?? "");
          if (isSecret(itemSchema) && typeof row[k] === "string") out[`${MASK}${k}`] = row[k] as string;
        }
        return out;
      });
    } else if (typeOf(s) === "array") values[key] = Array.isArray(current) ? (current as string[]).join("\n") : "";
    else if (typeOf(s) === "boolean") values[key] = current === true;
    else values[key] = current === undefined || current === null ? "" : String(current);
  }
  return values;
}

/**
 * Form values → the settings the API expects. Blank secrets are left out (the API keeps the
 * stored value); in lists of objects they are sent back masked, which the API also keeps.
 */
export function toSettings(schema: JsonSchema, values: SettingsValue): SettingsValue {
  const settings: SettingsValue = {};
  for (const [key, s] of editableFields(schema)) {
    const value = values[key];
    const kind = typeOf(s);
    if (kind === "array" && s.items && typeOf(s.items) === "object") {
      settings[key] = ((value as Row[]) ?? []).map((row) => {
        const out: Record<string, unknown> = {};
        for (const [k, itemSchema] of Object.entries(s.items?.properties ?? {})) {
          const cell = (row[k] ?? "").trim();
          const mask = row[`${MASK}${k}`];
          if (isSecret(itemSchema) && cell === "" && mask) out[k] = mask;
          else out[k] = cell;
        }
        return out;
      });
    } else if (kind === "array") {
      settings[key] = String(value ?? "")
        .split(/[\n,;]+/)
        .map((line) => line.trim())
        .filter(Boolean);
    } else if (kind === "boolean") {
      settings[key] = value === true;
    } else if (kind === "integer" || kind === "number") {
      const text = String(value ?? "").trim();
      if (text !== "") settings[key] = Number(text);
    } else {
      const text = String(value ?? "").trim();
      if (text !== "") settings[key] = text;
    }
  }
  return settings;
}

export function SchemaFields({
  type,
  schema,
  values,
  onChange,
  errors,
  saved,
}: {
  type: string;
  schema: JsonSchema;
  values: SettingsValue;
  onChange: (values: SettingsValue) => void;
  /** Field errors keyed by settings path ("url", "headers.0.value"). */
  errors: Record<string, string>;
  /** The saved integration's (masked) settings, for the "keep" placeholders of secrets. */
  saved?: SettingsValue;
}) {
  const required = new Set(schema.required ?? []);
  const set = (key: string, value: unknown) => onChange({ ...values, [key]: value });
  return (
    <>
      {editableFields(schema).map(([key, s]) => {
        const id = `setting-${key}`;
        const words = TYPE_LABELS[type]?.[key];
        const optional = !required.has(key) && s.default === undefined;
        const label = (
          <>
            {words?.label ?? s.title ?? LABELS[key] ?? humanize(key)}
            {optional && <span class="muted"> (optional)</span>}
          </>
        );
        const hint = words?.hint ?? s.description;
        const error = errors[key];
        const kind = typeOf(s);

        if (isSecret(s)) {
          const masked = typeof saved?.[key] === "string" ? (saved[key] as string) : null;
          return (
            <Field
              key={key}
              id={id}
              label={label}
              error={error}
              hint={
                masked
                  ? `Stored as ${masked}. Leave blank to keep it.`
                  : (hint ?? "Stored encrypted; never shown again.")
              }
            >
              <input
                id={id}
                class="input mono"
                type="password"
                autoComplete="off"
                placeholder={masked ? `${masked} (unchanged)` : ""}
                value={String(values[key] ?? "")}
                onInput={(e) => set(key, e.currentTarget.value)}
                {...describedBy(id, error)}
              />
            </Field>
          );
        }
        if (s.enum) {
          return (
            <Field key={key} id={id} label={label} hint={hint} error={error}>
              <select
                id={id}
                class="input"
                value={String(values[key] ?? "")}
                onChange={(e) => set(key, e.currentTarget.value)}
                {...describedBy(id, error)}
              >
                {s.enum.map((option) => (
                  <option key={String(option)} value={String(option)}>
                    {ENUM_LABELS[String(option)] ?? String(option)}
                  </option>
                ))}
              </select>
            </Field>
          );
        }
        if (kind === "boolean") {
          return (
            <div class="field" key={key}>
              <label class="check" for={id}>
                <input
                  id={id}
                  type="checkbox"
                  checked={values[key] === true}
                  onChange={(e) => set(key, e.currentTarget.checked)}
                />
                {label}
              </label>
              {error && <p class="field-error">{error}</p>}
            </div>
          );
        }
        if (kind === "array" && s.items && typeOf(s.items) === "object") {
          return (
            <ObjectList
              key={key}
              fieldKey={key}
              label={label}
              hint={hint}
              itemSchema={s.items}
              rows={(values[key] as Row[]) ?? []}
              onChange={(rows) => set(key, rows)}
              errors={errors}
            />
          );
        }
        if (kind === "array") {
          const itemError = Object.entries(errors).find(([k]) => k.startsWith(`${key}.`))?.[1];
          return (
            <Field key={key} id={id} label={label} hint={hint ?? "One per line."} error={error ?? itemError}>
              <textarea
                id={id}
                class="input"
                rows={3}
                value={String(values[key] ?? "")}
                onInput={(e) => set(key, e.currentTarget.value)}
                {...describedBy(id, error ?? itemError)}
              />
            </Field>
          );
        }
        return (
          <Field key={key} id={id} label={label} hint={hint} error={error}>
            <input
              id={id}
              class={`input${kind === "string" && (s.format === "uri" || key.endsWith("url")) ? " mono" : ""}`}
              // Preact 11 types <input> by a literal `type`; a computed one needs the widening cast.
              type={
                (kind === "integer" || kind === "number" ? "number" : key.endsWith("url") ? "url" : "text") as "text"
              }
              min={s.minimum}
              max={s.maximum}
              inputMode={kind === "integer" ? "numeric" : undefined}
              placeholder={key.endsWith("url") ? "https://" : undefined}
              value={String(values[key] ?? "")}
              onInput={(e) => set(key, e.currentTarget.value)}
              {...describedBy(id, error)}
            />
          </Field>
        );
      })}
    </>
  );
}

function ObjectList({
  fieldKey,
  label,
  hint,
  itemSchema,
  rows,
  onChange,
  errors,
}: {
  fieldKey: string;
  label: preact.ComponentChildren;
  hint?: string;
  itemSchema: JsonSchema;
  rows: Row[];
  onChange: (rows: Row[]) => void;
  errors: Record<string, string>;
}) {
  const columns = Object.entries(itemSchema.properties ?? {});
  const listError = errors[fieldKey];
  return (
    <fieldset class="field">
      <legend class="fieldset-legend">{label}</legend>
      {rows.length === 0 && <p class="field-hint">None.</p>}
      {rows.map((row, index) => (
        <div class="repeat-row" key={index}>
          {columns.map(([column, s]) => {
            const id = `setting-${fieldKey}-${index}-${column}`;
            const error = errors[`${fieldKey}.${index}.${column}`];
            const masked = isSecret(s) ? row[`${MASK}${column}`] : undefined;
            return (
              <div key={column} class={error ? "field-invalid" : ""}>
                <label class="sr-only" for={id}>
                  {`${LABELS[column] ?? humanize(column)} of header ${index + 1}`}
                </label>
                <input
                  id={id}
                  class={`input${isSecret(s) ? " mono" : ""}`}
                  type={(isSecret(s) ? "password" : "text") as "text"}
                  autoComplete="off"
                  placeholder={masked ? `${masked} (unchanged)` : (LABELS[column] ?? humanize(column))}
                  value={row[column] ?? ""}
                  onInput={(e) =>
                    onChange(rows.map((r, i) => (i === index ? { ...r, [column]: e.currentTarget.value } : r)))
                  }
                  {...describedBy(id, error)}
                />
                {error && (
                  <p class="field-error" id={`${id}-error`}>
                    {error}
                  </p>
                )}
              </div>
            );
          })}
          <button
            type="button"
            class="btn btn-danger-ghost"
            onClick={() => onChange(rows.filter((_, i) => i !== index))}
          >
            Remove
          </button>
        </div>
      ))}
      <button
        type="button"
        class="btn btn-small"
        onClick={() => onChange([...rows, Object.fromEntries(columns.map(([c]) => [c, ""]))])}
      >
        Add header
      </button>
      {hint && <p class="field-hint">{hint}</p>}
      {listError && <p class="field-error">{listError}</p>}
    </fieldset>
  );
}
