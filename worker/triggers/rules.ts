import {
  compileFieldFilters,
  type EventFields,
  eventFields,
  readEventFields,
  type StoredEvent,
} from "../domain/event-filters";
import { type CompiledSilence, silencingIds } from "../domain/silences";
import { type GroupByField, groupKey, groupValue, type Trigger } from "../domain/triggers";
import { iso, MINUTE_MS } from "../lib/time";
import type { TriggerNotice } from "./notices";
import { internTally, type Tally } from "./tallies";
import type { GroupWindow, WindowState } from "./window-state";

/**
 * The rules of each_event, threshold and system_event triggers over a batch of events
 * (docs/triggers.md), shared by the live evaluator and the preview so both answer the same.
 */

/** Events whose minute is this far behind the clock can no longer be in any window. */
export const MAX_WINDOW_MS = 1440 * MINUTE_MS;

/** A trigger prepared for many events: filters compiled once. */
export interface CompiledTrigger {
  trigger: Trigger;
  matches: (event: StoredEvent) => boolean;
  /** `matches` over the event's fields read once per event (`eventFields`): the batch loop's test. */
  matchesFields: (fields: EventFields, event: StoredEvent) => boolean;
  throttleMs: number;
  /** Triggers with the same group-by share an event's group key (computed once per event). */
  groupBySignature: string;
}

export function compileTrigger(trigger: Trigger): CompiledTrigger {
  const matchesFields = compileFieldFilters(trigger.filters);
  return {
    trigger,
    matches: (event) => matchesFields(eventFields(event), event),
    matchesFields,
    throttleMs: trigger.throttle_minutes * MINUTE_MS,
    groupBySignature: trigger.group_by.join(","),
  };
}

export interface BatchOutcome {
  notices: TriggerNotice[];
  /** Node events muted by a silence (each counted once, whatever the number of silences). */
  silenced: number;
  /** Per silence id: the events it muted (an event two silences match counts for both). */
  silencedBySilence: Record<string, number>;
  /** The muted events: ingest leaves them out of plain integration subscriptions too. */
  silencedEventIds: string[];
}

const text = (value: unknown) => (typeof value === "string" ? value : undefined);

/** An event's tally is the same for every threshold trigger that counts it (read once per event). */
function readTally(fields: EventFields): Tally {
  const f = fields as Record<string, string | number | undefined> | null;
  return internTally(text(f?.host), text(f?.attackType ?? f?.vulnType), text(f?.remoteAddr), text(f?.country));
}

function groupOf(groupBy: readonly GroupByField[], event: StoredEvent) {
  return Object.fromEntries(groupBy.map((field) => [field, groupValue(field, event)]));
}

/** The events list showing a threshold window: the group, and the filters the list can express exactly. */
function eventsQuery(trigger: Trigger, group: Record<string, string>, fromMs: number, toMs: number) {
  const query: Record<string, string> = { from: iso(fromMs), to: iso(toMs) };
  const { filters } = trigger;
  if (filters.event_types?.length === 1) query.type = filters.event_types[0] as string;
  // The list filters on one exact risk: only a minimum of "critical" is one.
  if (filters.min_risk === "critical") query.risk = "critical";
  const attack = group.attack_type ?? (filters.attack_types?.length === 1 ? filters.attack_types[0] : undefined);
  if (attack && attack !== "-") query.attack_type = attack;
  const exactHost = filters.hosts?.length === 1 && !filters.hosts[0]?.startsWith("*.") ? filters.hosts[0] : undefined;
  const host = group.host ?? exactHost;
  if (host && host !== "-") query.host = host;
  return query;
}

function noticeBase(trigger: Trigger) {
  return { triggerId: trigger.id, triggerName: trigger.name, integrationIds: trigger.integration_ids };
}

function isThrottled(state: WindowState, compiled: CompiledTrigger, group: string, now: number): boolean {
  if (compiled.throttleMs === 0) return false;
  const last = state.lastFired(compiled.trigger.id, group);
  return last !== null && now - last < compiled.throttleMs;
}

/**
 * Runs one batch. `nowOf(event)` is the clock throttles read: the live evaluator's now, or the
 * event's own time in the preview (which replays the past).
 */
export function evaluateBatch(
  state: WindowState,
  triggers: readonly CompiledTrigger[],
  silences: readonly CompiledSilence[],
  timeZone: string,
  events: readonly StoredEvent[],
  nowOf: (event: StoredEvent) => number,
): BatchOutcome {
  const outcome: BatchOutcome = { notices: [], silenced: 0, silencedBySilence: {}, silencedEventIds: [] };
  // Sorted once per batch: a system event meets only system_event triggers, a node event only
  // each_event and threshold ones (each list keeps the triggers' order, so the notices' too).
  const systemTriggers: CompiledTrigger[] = [];
  const eventTriggers: CompiledTrigger[] = [];
  /** Per event trigger, the slot of its group-by in `keys`: one group key per group-by and event. */
  const keySlots: number[] = [];
  const slots = new Map<string, number>();
  for (const compiled of triggers) {
    const { trigger } = compiled;
    if (!trigger.enabled) continue;
    const kind = trigger.condition.kind;
    if (kind === "system_event") systemTriggers.push(compiled);
    else if (kind === "each_event" || kind === "threshold") {
      eventTriggers.push(compiled);
      let slot = slots.get(compiled.groupBySignature);
      if (slot === undefined) {
        slot = slots.size;
        slots.set(compiled.groupBySignature, slot);
      }
      keySlots.push(slot);
    }
  }
  const keys: (string | undefined)[] = new Array(slots.size);
  // Per group-by slot and group key, each threshold trigger's window (by its index): an event
  // looks its group up once per group-by, not once per trigger.
  const windowsByKey = Array.from({ length: slots.size }, () => new Map<string, (GroupWindow | undefined)[]>());
  const windows: ((GroupWindow | undefined)[] | undefined)[] = new Array(slots.size);
  for (const event of events) {
    const now = nowOf(event);
    if (event.data.type === "system") {
      systemEvent(state, systemTriggers, event, now, outcome);
      continue;
    }
    if (silences.length > 0) {
      const muting = silencingIds(silences, event, timeZone);
      if (muting.length > 0) {
        outcome.silenced++;
        outcome.silencedEventIds.push(event.id);
        for (const id of muting) outcome.silencedBySilence[id] = (outcome.silencedBySilence[id] ?? 0) + 1;
        continue;
      }
    }
    if (eventTriggers.length === 0) continue;
    const fields = readEventFields(event);
    keys.fill(undefined);
    windows.fill(undefined);
    let tally: Tally | undefined;
    const minute = Math.floor(event.occurredAt / MINUTE_MS);
    const countable = event.occurredAt >= now - MAX_WINDOW_MS;
    // No allocation before a match: this loop runs once per event and trigger on the ingest path.
    for (let i = 0; i < eventTriggers.length; i++) {
      const compiled = eventTriggers[i] as CompiledTrigger;
      if (!compiled.matchesFields(fields, event)) continue;
      const { trigger } = compiled;
      const condition = trigger.condition;
      const slot = keySlots[i] as number;
      let key = keys[slot];
      if (key === undefined) {
        key = groupKey(trigger.group_by, event, fields);
        keys[slot] = key;
      }
      if (condition.kind === "each_event") {
        if (isThrottled(state, compiled, key, now)) continue;
        // Without a throttle nothing reads the mark: no write per event.
        if (compiled.throttleMs > 0) state.setFired(trigger.id, key, now);
        outcome.notices.push({
          kind: "trigger_event",
          ...noticeBase(trigger),
          groupKey: key,
          group: groupOf(trigger.group_by, event),
          firedAt: now,
          event,
        });
        continue;
      }
      if (condition.kind !== "threshold" || !countable) continue;
      tally ??= readTally(fields);
      let ofKey = windows[slot];
      if (ofKey === undefined) {
        const bySlot = windowsByKey[slot] as Map<string, (GroupWindow | undefined)[]>;
        ofKey = bySlot.get(key);
        if (ofKey === undefined) {
          ofKey = [];
          bySlot.set(key, ofKey);
        }
        windows[slot] = ofKey;
      }
      let counts = ofKey[i];
      if (counts === undefined) {
        counts = state.window(trigger.id, key);
        ofKey[i] = counts;
      }
      state.add(counts, minute, tally);
      // The window ending at the group's latest minute when it still holds this event: a batch
      // listed newest first (or a late event) crosses the threshold there, not at its own minute.
      const newest = state.newestMinute(counts) ?? minute;
      const endMinute = newest - minute < condition.window_minutes ? newest : minute;
      const fromMinute = endMinute - condition.window_minutes + 1;
      const count = state.count(counts, fromMinute, endMinute);
      if (count < condition.count || isThrottled(state, compiled, key, now)) continue;
      const group = groupOf(trigger.group_by, event);
      const windowStart = fromMinute * MINUTE_MS;
      const windowEnd = (endMinute + 1) * MINUTE_MS;
      outcome.notices.push({
        kind: "trigger_threshold",
        ...noticeBase(trigger),
        groupKey: key,
        group,
        firedAt: now,
        count,
        threshold: condition.count,
        windowMinutes: condition.window_minutes,
        windowStart,
        windowEnd,
        top: state.tops(counts, fromMinute, endMinute),
        eventsQuery: eventsQuery(trigger, group, windowStart, windowEnd),
      });
      state.clear(counts);
      state.setFired(trigger.id, key, now);
    }
  }
  return outcome;
}

/** A system event through the system_event triggers (never muted, no filters). */
function systemEvent(
  state: WindowState,
  triggers: readonly CompiledTrigger[],
  event: StoredEvent,
  now: number,
  outcome: BatchOutcome,
) {
  if (event.data.type !== "system") return;
  const systemType = event.data.system_type;
  for (const compiled of triggers) {
    const { trigger } = compiled;
    const condition = trigger.condition;
    if (condition.kind !== "system_event") continue;
    if (condition.system_types.length > 0 && !condition.system_types.includes(systemType)) continue;
    if (isThrottled(state, compiled, "", now)) continue;
    if (compiled.throttleMs > 0) state.setFired(trigger.id, "", now);
    outcome.notices.push({
      kind: "trigger_event",
      ...noticeBase(trigger),
      groupKey: "",
      group: {},
      firedAt: now,
      event,
    });
  }
}
