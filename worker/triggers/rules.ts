import {
  compileFieldFilters,
  type EventFields,
  eventFields,
  hasFilters,
  readEventFields,
  type StoredEvent,
} from "../domain/event-filters";
import { type CompiledSilence, silencingIds } from "../domain/silences";
import { type GroupByField, groupKey, groupKeyFromValues, groupValue, type Trigger } from "../domain/triggers";
import { iso, MINUTE_MS } from "../lib/time";
import { batchPlan, candidates } from "./batch-plan";
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
  /** False when the trigger sets no filter: it takes every node event without calling `matchesFields`. */
  filtered: boolean;
  throttleMs: number;
  /**
   * A small number per distinct group-by: triggers with the same group-by share an event's group
   * key (the batch's slot for it), and an interned tally keeps its group key for it there.
   */
  groupByNumber: number;
}

/** Group-by signature → its number (a handful of distinct ones: the subsets of the group-by fields). */
const groupByNumbers = new Map<string, number>();
const groupByNumber = (signature: string) => {
  let number = groupByNumbers.get(signature);
  if (number === undefined) {
    number = groupByNumbers.size;
    groupByNumbers.set(signature, number);
  }
  return number;
};

export function compileTrigger(trigger: Trigger): CompiledTrigger {
  const matchesFields = compileFieldFilters(trigger.filters);
  return {
    trigger,
    matches: (event) => matchesFields(eventFields(event), event),
    matchesFields,
    filtered: hasFilters(trigger.filters),
    throttleMs: trigger.throttle_minutes * MINUTE_MS,
    groupByNumber: groupByNumber(trigger.group_by.join(",")),
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

/**
 * The group key of an event from its interned tally, which holds the host, attack type and source
 * IP: built once per distinct combination and group-by, not per event (a group-by on the node
 * reads the event).
 */
function tallyGroupKey(tally: Tally, compiled: CompiledTrigger, event: StoredEvent, fields: EventFields): string {
  const { group_by: groupBy } = compiled.trigger;
  if (groupBy.length === 0) return "";
  if (groupBy.includes("node")) return groupKey(groupBy, event, fields);
  let key = tally.groupKeys[compiled.groupByNumber];
  if (key === undefined) {
    key = groupKeyFromValues(groupBy, (field) => tally.values[field === "host" ? 0 : field === "attack_type" ? 1 : 2]);
    tally.groupKeys[compiled.groupByNumber] = key;
  }
  return key;
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
  const plan = batchPlan(triggers);
  const { systemTriggers, eventTriggers } = plan;
  const slotCount = groupByNumbers.size;
  // Per group-by slot, the event's group key and its windows, valid while the stamp is the event's.
  const keys: string[] = new Array(slotCount).fill("");
  const keyStamps: number[] = new Array(slotCount).fill(-1);
  const windowStamps: number[] = new Array(slotCount).fill(-1);
  // Per group-by slot and group key, each threshold trigger's window (by its position): an event
  // looks its group up once per group-by, not once per trigger.
  const windowsByKey = Array.from({ length: slotCount }, () => new Map<string, (GroupWindow | undefined)[]>());
  const windows: (GroupWindow | undefined)[][] = new Array(slotCount);
  const gathered: number[] = [];
  /** The trigger positions of the current event's notices, when its candidates came out of order. */
  const noticePositions: number[] = [];
  let stamp = 0;
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
    if (fields === null) continue;
    const { positions, ordered } = candidates(plan, fields, event, gathered);
    if (positions.length === 0) continue;
    const outOfOrder = !ordered;
    stamp++;
    const firstNotice = outcome.notices.length;
    noticePositions.length = 0;
    let tally: Tally | undefined;
    const minute = Math.floor(event.occurredAt / MINUTE_MS);
    const countable = event.occurredAt >= now - MAX_WINDOW_MS;
    // No allocation before a match: this loop runs once per event and candidate trigger on the ingest path.
    for (const i of positions) {
      const compiled = eventTriggers[i] as CompiledTrigger;
      if (compiled.filtered && !compiled.matchesFields(fields, event)) continue;
      const { trigger } = compiled;
      const condition = trigger.condition;
      const slot = compiled.groupByNumber;
      if (condition.kind === "each_event") {
        const key = keyStamps[slot] === stamp ? (keys[slot] as string) : groupKey(trigger.group_by, event, fields);
        keys[slot] = key;
        keyStamps[slot] = stamp;
        if (isThrottled(state, compiled, key, now)) continue;
        // Without a throttle nothing reads the mark: no write per event.
        if (compiled.throttleMs > 0) state.setFired(trigger.id, key, now);
        if (outOfOrder) noticePositions.push(i);
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
      let key: string;
      if (keyStamps[slot] === stamp) key = keys[slot] as string;
      else {
        key = tallyGroupKey(tally, compiled, event, fields);
        keys[slot] = key;
        keyStamps[slot] = stamp;
      }
      let ofKey = windows[slot];
      if (windowStamps[slot] !== stamp || ofKey === undefined) {
        const bySlot = windowsByKey[slot] as Map<string, (GroupWindow | undefined)[]>;
        ofKey = bySlot.get(key);
        if (ofKey === undefined) {
          ofKey = [];
          bySlot.set(key, ofKey);
        }
        windows[slot] = ofKey;
        windowStamps[slot] = stamp;
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
      if (outOfOrder) noticePositions.push(i);
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
    // Candidates from several index lists: the event's notices back in the triggers' order.
    if (noticePositions.length > 1) inTriggerOrder(outcome.notices, firstNotice, noticePositions);
  }
  return outcome;
}

/** Sorts `notices` from `first` on by their triggers' positions (each trigger notifies an event once). */
function inTriggerOrder(notices: TriggerNotice[], first: number, positions: readonly number[]) {
  const sorted = notices
    .slice(first)
    .map((notice, k) => ({ notice, position: positions[k] as number }))
    .sort((a, b) => a.position - b.position);
  sorted.forEach(({ notice }, k) => {
    notices[first + k] = notice;
  });
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
