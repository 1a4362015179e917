import { CheckboxGroup } from "../../components/form";
import type { Subscriptions } from "./api-types";

const RISKS = ["critical", "high", "medium", "low", "info"] as const;
const FREQUENCIES = ["daily", "weekly", "monthly"] as const;

type Flag = "incident" | "scope_change" | "hit" | "system";
const FLAGS: { key: Flag; label: string; hint: string }[] = [
  { key: "incident", label: "Incidents", hint: "An attack hit a known active vulnerability." },
  { key: "scope_change", label: "Scope changes", hint: "Hosts, IPs, ports, domains or services added or removed." },
  { key: "hit", label: "Every attack (hits)", hint: "High volume: one notification per detected attack request." },
  { key: "system", label: "System events", hint: "Users, integrations and nodes added, changed or removed." },
];

/** Sensible starting subscriptions for a new integration, limited to what its type allows. */
export function defaultSubscriptions(categories: readonly string[]): Subscriptions {
  const events: Subscriptions = {};
  if (categories.includes("security_issue")) events.security_issue = ["critical", "high"];
  if (categories.includes("incident")) events.incident = true;
  if (categories.includes("system")) events.system = true;
  if (categories.includes("reports") && !categories.includes("security_issue")) events.reports = ["weekly"];
  return events;
}

/** Grouped checkboxes: risk levels under security issues, frequencies under reports. */
export function SubscriptionFields({
  categories,
  value,
  onChange,
  error,
}: {
  categories: readonly string[];
  value: Subscriptions;
  onChange: (value: Subscriptions) => void;
  error?: string;
}) {
  const risks = value.security_issue ?? [];
  const reports = value.reports ?? [];
  const allows = (c: string) => categories.includes(c);

  return (
    <div class="subscriptions">
      {allows("security_issue") && (
        <CheckboxGroup
          legend="Security issues"
          hint="New vulnerabilities, by risk level."
          name="security_issue"
          options={RISKS.map((risk) => ({ value: risk, label: <span class={`tag risk-${risk}`}>{risk}</span> }))}
          checked={risks}
          onChange={(security_issue) => onChange({ ...value, security_issue })}
        />
      )}
      {FLAGS.some((f) => allows(f.key)) && (
        <fieldset class="subscription-group">
          <legend class="fieldset-legend">Other notifications</legend>
          {FLAGS.filter((f) => allows(f.key)).map((flag) => (
            <label class="check check-top" key={flag.key}>
              <input
                type="checkbox"
                name={flag.key}
                checked={value[flag.key] === true}
                onChange={(e) => onChange({ ...value, [flag.key]: e.currentTarget.checked })}
              />
              <span>
                {flag.label}
                <span class="check-hint">{flag.hint}</span>
              </span>
            </label>
          ))}
        </fieldset>
      )}
      {allows("reports") && (
        <CheckboxGroup
          legend="Security reports"
          hint="Scheduled in the account's time zone."
          name="reports"
          options={FREQUENCIES.map((frequency) => ({
            value: frequency,
            label: <span>{frequency.charAt(0).toUpperCase() + frequency.slice(1)}</span>,
          }))}
          checked={reports}
          onChange={(reports) => onChange({ ...value, reports })}
        />
      )}
      {error && <p class="field-error">{error}</p>}
    </div>
  );
}

/** Drops unchecked keys so the API stores exactly what is on. */
export function cleanSubscriptions(value: Subscriptions): Subscriptions {
  const out: Subscriptions = {};
  if (value.security_issue?.length) out.security_issue = value.security_issue;
  if (value.reports?.length) out.reports = value.reports;
  for (const flag of ["incident", "scope_change", "hit", "system"] as const) if (value[flag]) out[flag] = true;
  return out;
}
