import type { StoredEvent } from "../domain/event-filters";
import { compileSilences, isSilenced, type Silence } from "../domain/silences";
import type { Trigger } from "../domain/triggers";
import { MINUTE_MS } from "../lib/time";
import { compileTrigger, evaluateBatch } from "./rules";
import { WindowStore } from "./window-state";

/**
 * What a candidate trigger or silence would have done over past events (docs/triggers.md#preview):
 * pure functions over an event list in time order, with a fresh in-memory state, so a preview
 * has no side effects and follows the live evaluator's rules (worker/triggers/rules.ts).
 */

export interface TriggerPreview {
  wouldFire: number;
  groups: { key: string; fired: number }[];
}

/** The most groups a preview lists (the busiest first); `wouldFire` still counts them all. */
export const MAX_PREVIEW_GROUPS = 50;

export class TriggerPreviewer {
  private readonly state = new WindowStore(null);
  private readonly compiled;
  private readonly fired = new Map<string, number>();
  /** node-silence: per node, the last event seen so far. */
  private readonly lastSeen = new Map<string, number>();

  constructor(
    private readonly trigger: Trigger,
    private readonly timeZone: string,
  ) {
    // One list for every batch: the batch plan is prepared once (worker/triggers/batch-plan.ts).
    this.compiled = [compileTrigger(trigger)];
  }

  /** Feed events in time order, batch by batch. */
  add(events: readonly StoredEvent[]) {
    const condition = this.trigger.condition;
    if (condition.kind === "node_silence") {
      // A gap of at least D minutes between two posts of a node is one silence episode.
      for (const event of events) {
        if (event.nodeId === null || (condition.node_id !== null && condition.node_id !== event.nodeId)) continue;
        const last = this.lastSeen.get(event.nodeId);
        if (last !== undefined && event.occurredAt - last >= condition.silence_minutes * MINUTE_MS) {
          this.count(`node=${event.nodeId}`);
        }
        this.lastSeen.set(event.nodeId, event.occurredAt);
      }
      return;
    }
    const outcome = evaluateBatch(this.state, this.compiled, [], this.timeZone, events, (e) => e.occurredAt);
    for (const notice of outcome.notices) this.count(notice.groupKey);
  }

  /** The answer; `now` closes the trailing gaps of node-silence previews. */
  result(now: number): TriggerPreview {
    const condition = this.trigger.condition;
    if (condition.kind === "node_silence") {
      for (const [nodeId, last] of this.lastSeen) {
        if (now - last >= condition.silence_minutes * MINUTE_MS) this.count(`node=${nodeId}`);
      }
      this.lastSeen.clear();
    }
    const groups = [...this.fired]
      .map(([key, fired]) => ({ key, fired }))
      .sort((a, b) => b.fired - a.fired || a.key.localeCompare(b.key));
    return {
      wouldFire: groups.reduce((sum, g) => sum + g.fired, 0),
      groups: groups.slice(0, MAX_PREVIEW_GROUPS),
    };
  }

  private count(key: string) {
    this.fired.set(key, (this.fired.get(key) ?? 0) + 1);
  }
}

/** How many of these events a candidate silence would have muted. */
export function countMuted(
  silence: Pick<Silence, "filters" | "starts_at" | "ends_at" | "recurrence">,
  timeZone: string,
  events: readonly StoredEvent[],
): number {
  const compiled = compileSilences([{ id: "preview", ...silence }]);
  return events.filter((event) => isSilenced(compiled, event, timeZone)).length;
}
