import { EVENT_TYPE_LABELS } from "../lib/rule-text";
import {
  BLOCK_STATUSES,
  type BlockStatus,
  EVENT_TYPES,
  type EventFilters,
  type EventType,
  RISKS,
  type Risk,
} from "../lib/triggers-api";
import { CheckboxGroup, errorAt, InputField } from "./form";
import { describedBy, Field } from "./ui";

/** The filters of a trigger or silence as the form holds them: lists as comma-separated text. */
export interface FilterDraft {
  event_types: EventType[];
  min_risk: Risk | "";
  attack_types: string;
  vuln_types: string;
  hosts: string;
  path_prefixes: string;
  applications: string;
  node_ids: string[];
  source_ips: string;
  countries: string;
  block_statuses: BlockStatus[];
  response_statuses: string;
}

type TextKey = "attack_types" | "vuln_types" | "hosts" | "path_prefixes" | "applications" | "source_ips" | "countries";

const TEXT_FIELDS: { key: TextKey; label: string; hint: string }[] = [
  { key: "attack_types", label: "Attack types", hint: "For example sqli, xss, rce." },
  { key: "vuln_types", label: "Vulnerability types", hint: "For example sqli, ssrf." },
  { key: "hosts", label: "Hosts", hint: "An exact host, or *.example.com for any subdomain (not the domain itself)." },
  { key: "path_prefixes", label: "Path prefixes", hint: "For example /api/payments." },
  { key: "applications", label: "Applications", hint: "Application names as the nodes report them." },
  { key: "source_ips", label: "Source IPs", hint: "IPv4 or IPv6 addresses or CIDR ranges, e.g. 198.51.100.0/24." },
  { key: "countries", label: "Countries", hint: "Two-letter codes (ISO 3166), e.g. DE, US." },
];

const splitList = (text: string) =>
  text
    .split(/[,\n]/)
    .map((part) => part.trim())
    .filter(Boolean);

export function draftOf(filters: EventFilters = {}): FilterDraft {
  const text = (values: readonly (string | number)[] | undefined) => (values ?? []).join(", ");
  return {
    event_types: filters.event_types ?? [],
    min_risk: filters.min_risk ?? "",
    attack_types: text(filters.attack_types),
    vuln_types: text(filters.vuln_types),
    hosts: text(filters.hosts),
    path_prefixes: text(filters.path_prefixes),
    applications: text(filters.applications),
    node_ids: filters.node_ids ?? [],
    source_ips: text(filters.source_ips),
    countries: text(filters.countries),
    block_statuses: filters.block_statuses ?? [],
    response_statuses: text(filters.response_statuses),
  };
}

/**
 * The filters to send, without the empty ones. A status that is not a number is sent as null so
 * the API names the field rather than the form dropping it.
 */
export function toFilters(draft: FilterDraft): EventFilters {
  const filters: EventFilters = {};
  if (draft.event_types.length) filters.event_types = draft.event_types;
  if (draft.min_risk) filters.min_risk = draft.min_risk;
  for (const { key } of TEXT_FIELDS) {
    const values = splitList(draft[key]);
    if (values.length) filters[key] = key === "countries" ? values.map((c) => c.toUpperCase()) : values;
  }
  if (draft.node_ids.length) filters.node_ids = draft.node_ids;
  if (draft.block_statuses.length) filters.block_statuses = draft.block_statuses;
  const statuses = splitList(draft.response_statuses);
  if (statuses.length) filters.response_statuses = statuses.map((s) => (/^\d+$/.test(s) ? Number(s) : Number.NaN));
  return filters;
}

/** Every filter, all optional; `errors` are the API's field errors of the whole form. */
export function EventFilterFields({
  value,
  onChange,
  errors,
  nodes,
}: {
  value: FilterDraft;
  onChange: (value: FilterDraft) => void;
  errors: Record<string, string>;
  nodes: readonly { id: string; name: string }[];
}) {
  const set = <K extends keyof FilterDraft>(key: K, next: FilterDraft[K]) => onChange({ ...value, [key]: next });
  const riskError = errorAt(errors, "filters.min_risk");
  return (
    <>
      <div class="subscriptions">
        <CheckboxGroup
          legend="Event types"
          hint="None ticked: every type."
          name="filter-event-types"
          options={EVENT_TYPES.map((type) => ({ value: type, label: EVENT_TYPE_LABELS[type] }))}
          checked={value.event_types}
          onChange={(types) => set("event_types", types)}
          error={errorAt(errors, "filters.event_types")}
        />
        <CheckboxGroup
          legend="Block status"
          hint="None ticked: both."
          name="filter-block-statuses"
          options={BLOCK_STATUSES.map((status) => ({ value: status, label: status }))}
          checked={value.block_statuses}
          onChange={(statuses) => set("block_statuses", statuses)}
          error={errorAt(errors, "filters.block_statuses")}
        />
        {nodes.length > 0 && (
          <CheckboxGroup
            legend="Nodes"
            hint="None ticked: every node."
            name="filter-nodes"
            options={nodes.map((node) => ({ value: node.id, label: node.name }))}
            checked={value.node_ids}
            onChange={(ids) => set("node_ids", ids)}
            error={errorAt(errors, "filters.node_ids")}
          />
        )}
      </div>
      <Field id="filter-min-risk" label="Minimum risk" hint="Security issues only." error={riskError}>
        <select
          id="filter-min-risk"
          class="input"
          value={value.min_risk}
          onChange={(e) => set("min_risk", e.currentTarget.value as Risk | "")}
          {...describedBy("filter-min-risk", riskError)}
        >
          <option value="">Any risk</option>
          {RISKS.map((risk) => (
            <option key={risk} value={risk}>
              {risk} or higher
            </option>
          ))}
        </select>
      </Field>
      {TEXT_FIELDS.map((field) => (
        <InputField
          key={field.key}
          id={`filter-${field.key.replace(/_/g, "-")}`}
          label={field.label}
          hint={`${field.hint} Comma-separated; empty: any.`}
          error={errorAt(errors, `filters.${field.key}`)}
          value={value[field.key]}
          onValue={(text) => set(field.key, text)}
        />
      ))}
      <InputField
        id="filter-response-statuses"
        label="Response statuses"
        hint="HTTP statuses the application answered, e.g. 200, 500. Comma-separated; empty: any."
        error={errorAt(errors, "filters.response_statuses")}
        value={value.response_statuses}
        onValue={(text) => set("response_statuses", text)}
      />
    </>
  );
}
