import { compileFilters, eventFields, type StoredEvent } from "../domain/event-filters";
import { type CompiledSilence, silencingIds } from "../domain/silences";
import { type GroupByField, groupKey, groupValue, type Trigger } from "../domain/triggers";
import { iso, MINUTE_MS } from "../lib/time";
import type { TriggerNotice } from "./notices";
import type { Tally, WindowState } from "./window-state";

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
  throttleMs: number;
  /** Triggers with the same group-by share an event's group key (computed once per event). */
  groupBySignature: string;
}

export function compileTrigger(trigger: Trigger): CompiledTrigger {
  return {
    trigger,
    matches: compileFilters(trigger.filters),
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

/** An event's tally is the same for every threshold trigger that counts it. */
const tallies = new WeakMap<StoredEvent, Tally>();

function tallyOf(event: StoredEvent): Tally {
  let tally = tallies.get(event);
  if (!tally) {
    tally = readTally(event);
    tallies.set(event, tally);
  }
  return tally;
}

function readTally(event: StoredEvent): Tally {
  const fields = eventFields(event) as Record<string, string | number | undefined> | null;
  const tally: Tally = {};
  if (typeof fields?.host === "string") tally.hosts = fields.host;
  const attack = fields?.attackType ?? fields?.vulnType;
  if (typeof attack === "string") tally.attackTypes = attack;
  if (typeof fields?.remoteAddr === "string") tally.sourceIps = fields.remoteAddr;
  if (typeof fields?.country === "string") tally.countries = fields.country;
  return tally;
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
  const keys = new Map<string, string>();
  for (const event of events) {
    const now = nowOf(event);
    keys.clear();
    const isSystem = event.data.type === "system";
    if (!isSystem) {
      const muting = silencingIds(silences, event, timeZone);
      if (muting.length > 0) {
        outcome.silenced++;
        outcome.silencedEventIds.push(event.id);
        for (const id of muting) outcome.silencedBySilence[id] = (outcome.silencedBySilence[id] ?? 0) + 1;
        continue;
      }
    }
    for (const compiled of triggers) {
      const { trigger } = compiled;
      if (!trigger.enabled) continue;
      // No allocation before a match: this loop runs once per event and trigger on the ingest path.
      const condition = trigger.condition;
      if (condition.kind === "system_event") {
        if (event.data.type !== "system") continue;
        if (condition.system_types.length > 0 && !condition.system_types.includes(event.data.system_type)) continue;
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
        continue;
      }
      if (isSystem || (condition.kind !== "each_event" && condition.kind !== "threshold")) continue;
      if (!compiled.matches(event)) continue;
      let key = keys.get(compiled.groupBySignature);
      if (key === undefined) {
        key = groupKey(trigger.group_by, event);
        keys.set(compiled.groupBySignature, key);
      }
      if (condition.kind === "each_event") {
        if (isThrottled(state, compiled, key, now)) continue;
        // Without a throttle nothing reads the mark: no write per event.
        if (compiled.throttleMs > 0) state.setFired(trigger.id, key, now);
        const group = groupOf(trigger.group_by, event);
        outcome.notices.push({
          kind: "trigger_event",
          ...noticeBase(trigger),
          groupKey: key,
          group,
          firedAt: now,
          event,
        });
        continue;
      }
      const minute = Math.floor(event.occurredAt / MINUTE_MS);
      if (event.occurredAt < now - MAX_WINDOW_MS) continue;
      state.add(trigger.id, key, minute, tallyOf(event));
      // The window ending at the group's latest minute when it still holds this event: a batch
      // listed newest first (or a late event) crosses the threshold there, not at its own minute.
      const newest = state.newestMinute(trigger.id, key) ?? minute;
      const endMinute = newest - minute < condition.window_minutes ? newest : minute;
      const fromMinute = endMinute - condition.window_minutes + 1;
      const count = state.count(trigger.id, key, fromMinute, endMinute);
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
        top: state.tops(trigger.id, key, fromMinute, endMinute),
        eventsQuery: eventsQuery(trigger, group, windowStart, windowEnd),
      });
      state.clear(trigger.id, key);
      state.setFired(trigger.id, key, now);
    }
  }
  return outcome;
}
