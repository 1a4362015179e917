import type { ClientResponse } from "hono/client";
import { call, client } from "./api";
import type { Silence, SilenceInput, SilencePreview, Trigger, TriggerInput, TriggerPreview } from "./rule-shapes";

export * from "./rule-shapes";

/**
 * The triggers and silences API through the same `hc` client as the rest of the UI, its types
 * written by hand (rule-shapes.ts) until those routes are on the Worker's AppType: once merged,
 * `rulesApi` becomes `client.api` (one line), and the shapes can be taken from the routes the way
 * pages/integrations/api-types.ts does.
 */
type Answer<T, Status extends number = 200> = Promise<ClientResponse<T, Status, "json">>;
type ById = { param: { id: string } };

/** One admin-managed collection: list, create, preview, read, change, delete. */
interface RuleRoutes<Item, Input, One extends string, Many extends string, Preview> {
  $get(): Answer<Record<Many, Item[]>>;
  $post(args: { json: Input }): Answer<Record<One, Item>, 201>;
  preview: { $post(args: { json: Input }): Answer<Preview> };
  ":id": {
    $get(args: ById): Answer<Record<One, Item>>;
    $patch(args: ById & { json: Partial<Input> }): Answer<Record<One, Item>>;
    $delete(args: ById): Answer<null, 204>;
  };
}

interface RulesClient {
  triggers: RuleRoutes<Trigger, TriggerInput, "trigger", "triggers", TriggerPreview>;
  silences: RuleRoutes<Silence, SilenceInput, "silence", "silences", SilencePreview>;
}

// hc builds each request from the property path at run time, so only the types are stood in for.
export const rulesApi = client.api as unknown as RulesClient;

/** What the forms offer and the lists name: an admin's integrations and nodes (analysts may read neither). */
export interface AccountChoices {
  integrations: { id: string; name: string; type: string; status: string }[];
  nodes: { id: string; name: string; revoked: boolean }[];
}

export async function loadAccountChoices(isAdmin: boolean): Promise<AccountChoices | null> {
  if (!isAdmin) return null;
  const [integrations, nodes] = await Promise.all([
    call(client.api.integrations.$get({ query: { status: "all" } })),
    call(client.api.nodes.$get()),
  ]);
  return {
    integrations: integrations.integrations.map(({ id, name, type, status }) => ({ id, name, type, status })),
    nodes: nodes.nodes.map(({ id, name, revoked }) => ({ id, name, revoked })),
  };
}
