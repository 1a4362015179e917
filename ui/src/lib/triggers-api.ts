import { call, client, type OkBody } from "./api";
import type * as Shapes from "./rule-shapes";

export * from "./rule-shapes";

/**
 * The triggers and silences API through the same `hc` client as the rest of the UI, typed by the
 * Worker's routes. The records are the routes' own types; rule-shapes.ts keeps the inputs and the
 * option lists the forms offer (the Worker's schema types, for rule-text.ts), checked against the
 * routes below so the two cannot drift apart.
 */
export const rulesApi = client.api;

export type Trigger = OkBody<Awaited<ReturnType<typeof rulesApi.triggers.$get>>>["triggers"][number];
export type Silence = OkBody<Awaited<ReturnType<typeof rulesApi.silences.$get>>>["silences"][number];
export type TriggerPreview = OkBody<Awaited<ReturnType<typeof rulesApi.triggers.preview.$post>>>;
export type SilencePreview = OkBody<Awaited<ReturnType<typeof rulesApi.silences.preview.$post>>>;

// The schema types the rule texts read must accept what the routes answer.
type Accepts<Hand, Route extends Hand> = Route;
export type _TriggerFits = Accepts<Shapes.Trigger, Trigger>;
export type _SilenceFits = Accepts<Shapes.Silence, Silence>;

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
