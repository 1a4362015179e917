import type { EventFields, EventFilters, StoredEvent } from "../domain/event-filters";
import type { CompiledTrigger } from "./rules";

/**
 * What a batch of events needs to know about its triggers, prepared once per list of compiled
 * triggers (the live evaluator passes the same list until a control change): the triggers sorted
 * by kind and an index of the event triggers by one of their exact-valued
 * filters, so an event meets only the triggers whose filters can take it (docs/triggers.md#evaluation).
 */

type IndexedValue = string | number;
type Fields = Record<string, IndexedValue | undefined>;

interface IndexableFilter {
  /** The filter's values, when it is set and matches by exact value only. */
  values: (filters: EventFilters) => readonly IndexedValue[] | undefined;
  /** The event's value, compared with `===` as the filter's own test does (worker/domain/event-filters.ts). */
  read: (fields: Fields, event: StoredEvent) => IndexedValue | null | undefined;
}

const list = (values: readonly IndexedValue[] | undefined) => (values?.length ? values : undefined);

/**
 * The filters an event trigger can be indexed by, in the order one is chosen when it sets several
 * (the likely most selective first; any of them gives the same matches).
 */
const INDEXABLE: readonly IndexableFilter[] = [
  {
    // Only exact hosts: a `*.` pattern matches by suffix.
    values: (f) => (f.hosts?.some((host) => host.startsWith("*.")) ? undefined : list(f.hosts)),
    read: (fields) => fields.host,
  },
  { values: (f) => list(f.node_ids), read: (_fields, event) => event.nodeId },
  { values: (f) => list(f.applications), read: (fields) => fields.application },
  { values: (f) => list(f.countries), read: (fields) => fields.country },
  { values: (f) => list(f.vuln_types), read: (fields) => fields.vulnType },
  { values: (f) => list(f.attack_types), read: (fields) => fields.attackType },
  { values: (f) => list(f.response_statuses), read: (fields) => fields.responseStatus },
  { values: (f) => list(f.block_statuses), read: (fields) => fields.blockStatus },
  { values: (f) => list(f.event_types), read: (fields) => fields.type },
];

export interface FieldIndex {
  read: IndexableFilter["read"];
  /** Value → positions in `eventTriggers` (ascending, each once) of the triggers whose filter lists it. */
  positions: Map<IndexedValue, number[]>;
}

export interface BatchPlan {
  systemTriggers: CompiledTrigger[];
  /** each_event and threshold triggers, in the triggers' order (so the notices keep it). */
  eventTriggers: CompiledTrigger[];
  /** Positions of the event triggers with no indexable filter: every node event meets them. */
  unindexed: number[];
  indexes: FieldIndex[];
}

const plans = new WeakMap<readonly CompiledTrigger[], BatchPlan>();

export function batchPlan(triggers: readonly CompiledTrigger[]): BatchPlan {
  let plan = plans.get(triggers);
  if (!plan) {
    plan = buildPlan(triggers);
    plans.set(triggers, plan);
  }
  return plan;
}

function buildPlan(triggers: readonly CompiledTrigger[]): BatchPlan {
  const plan: BatchPlan = {
    systemTriggers: [],
    eventTriggers: [],
    unindexed: [],
    indexes: [],
  };
  const indexes = new Map<IndexableFilter, FieldIndex>();
  for (const compiled of triggers) {
    const { trigger } = compiled;
    if (!trigger.enabled) continue;
    const kind = trigger.condition.kind;
    if (kind === "system_event") {
      plan.systemTriggers.push(compiled);
      continue;
    }
    if (kind !== "each_event" && kind !== "threshold") continue;
    const position = plan.eventTriggers.length;
    plan.eventTriggers.push(compiled);
    const filter = INDEXABLE.find((candidate) => candidate.values(trigger.filters) !== undefined);
    if (!filter) {
      plan.unindexed.push(position);
      continue;
    }
    let index = indexes.get(filter);
    if (!index) {
      index = { read: filter.read, positions: new Map() };
      indexes.set(filter, index);
    }
    // Each value once: a value listed twice must not visit the trigger twice.
    for (const value of new Set(filter.values(trigger.filters))) {
      const positions = index.positions.get(value);
      if (positions) positions.push(position);
      else index.positions.set(value, [position]);
    }
  }
  plan.indexes = [...indexes.values()];
  return plan;
}

/**
 * The positions of the event triggers that may match this event: one of the plan's own lists when
 * they come from one (not to be changed), else gathered into `into`; `ordered` is false when they
 * came from several lists (then not in ascending order).
 */
export function candidates(
  plan: BatchPlan,
  fields: EventFields,
  event: StoredEvent,
  into: number[],
): { positions: readonly number[]; ordered: boolean } {
  let only: readonly number[] | null = plan.unindexed.length > 0 ? plan.unindexed : null;
  let sources = only ? 1 : 0;
  for (const index of plan.indexes) {
    const value = index.read(fields as Fields, event);
    if (value === undefined || value === null) continue;
    const positions = index.positions.get(value);
    if (!positions) continue;
    if (sources === 0) only = positions;
    else {
      // A second list: copy the first one before adding to it (the plan's lists stay as they are).
      if (sources === 1) into.splice(0, into.length, ...(only as readonly number[]));
      for (const position of positions) into.push(position);
    }
    sources++;
  }
  if (sources <= 1) return { positions: only ?? NONE, ordered: true };
  return { positions: into, ordered: false };
}

const NONE: readonly number[] = [];
