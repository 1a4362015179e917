import { describedBy, Field } from "../../components/ui";
import { call, client } from "../../lib/api";
import { useResource } from "../../lib/use-resource";

const FIELD_ID = "integration-fallback";

/**
 * Chooses the integration that receives this one's dead deliveries (docs/delivery.md#fallback).
 * Offers the account's other integrations that name no fallback themselves (fallbacks do not
 * cascade); an integration that is already some integration's fallback cannot name one.
 */
export function FallbackField({
  integrationId,
  value,
  onChange,
  error,
}: {
  /** The integration being edited; undefined while adding one. */
  integrationId?: string;
  value: string | null;
  onChange: (value: string | null) => void;
  error?: string;
}) {
  const list = useResource(() => call(client.api.integrations.$get({ query: {} })), []);
  const all = list.data?.integrations ?? [];
  const choices = all.filter((i) => i.id !== integrationId && !i.fallback_integration_id);
  const fallbackFor = integrationId ? all.filter((i) => i.fallback_integration_id === integrationId) : [];
  const hint =
    fallbackFor.length > 0
      ? `This integration is the fallback of ${fallbackFor.map((i) => `"${i.name}"`).join(", ")}, so it cannot have one itself.`
      : "When a delivery fails after its last retry, its notifications are sent to this integration instead, in that system's format. They are not passed on again if they fail there too.";
  return (
    <Field id={FIELD_ID} label="Fallback integration" hint={hint} error={error}>
      <select
        id={FIELD_ID}
        class="input"
        value={value ?? ""}
        disabled={fallbackFor.length > 0 && !value}
        onChange={(e) => onChange(e.currentTarget.value || null)}
        {...describedBy(FIELD_ID, error)}
      >
        <option value="">None</option>
        {choices.map((i) => (
          <option key={i.id} value={i.id}>
            {i.name}
            {i.status === "disabled" ? " (disabled)" : ""}
          </option>
        ))}
        {value && !choices.some((i) => i.id === value) && <option value={value}>{value}</option>}
      </select>
    </Field>
  );
}
