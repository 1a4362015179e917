import type { client, OkBody } from "../../lib/api";

/** Shapes of the integrations API, taken from the Worker's route types. */
export type Catalog = OkBody<Awaited<ReturnType<(typeof client.api)["integration-types"]["$get"]>>>;
export type CatalogType = Catalog["blocks"][number]["types"][number];
export type Integration = OkBody<Awaited<ReturnType<typeof client.api.integrations.$get>>>["integrations"][number];
export type Subscriptions = Integration["events"];
export type TestResults = OkBody<Awaited<ReturnType<typeof client.api.integrations.test.$post>>>;

/** Why it is disabled: the Worker's DISABLE_REASONS (worker/db/schema.ts), through the API's types. */
export type DisableReason = NonNullable<Integration["disabled_reason"]>;

export const DISABLED_REASONS: Record<DisableReason, string> = {
  manual: "Disabled by an administrator",
  auto_failure_ratio: "Disabled automatically: too many failed requests",
  destination_gone: "Disabled automatically: the receiver answered 410 Gone",
};
