/**
 * The one reader of an account's stored events over a time range, oldest first, for the trigger
 * and silence previews (docs/data-plane.md, "Reading events"). Shards list newest first, so the
 * range is cut into slices small enough to hold one page: a slice whose page comes back full is
 * halved (the older half first), one that fits is handed out reversed. Memory stays at one page
 * whatever the range holds, and every read is one index range per shard.
 */
import type { NodeEventInput } from "../domain/events";
import type { SystemEventData } from "../domain/system-events";
import type { Env } from "../env";
import { shardsOverlapping } from "./directory";
import { pageAcrossPeriods } from "./merge-pages";
import { eventShardObject } from "./objects";
import type { StoredShardEvent } from "./shard-types";

export const SCAN_PAGE_SIZE = 1000;

/** An event as the scan hands it out: the node's validated event (or the system event) in `data`. */
export interface ScannedEvent {
  id: string;
  /** The node that posted it; null for Herald's system events. */
  nodeId: string | null;
  occurredAt: number;
  data: NodeEventInput | SystemEventData;
}

export interface ScanResult {
  scanned: number;
  /** True when `limit` stopped the scan before the end of the range. */
  truncated: boolean;
}

const scanned = (e: StoredShardEvent): ScannedEvent => ({
  id: e.id,
  nodeId: e.nodeId,
  occurredAt: e.occurredAt,
  data: JSON.parse(e.data) as ScannedEvent["data"],
});

/**
 * Calls `onBatch` with the events that occurred in [fromMs, toMs), oldest first (by occurred_at,
 * then id), in batches of at most `pageSize`, at most `limit` in all (default 200,000).
 */
export async function scanAccountEvents(
  env: Env,
  accountId: string,
  fromMs: number,
  toMs: number,
  onBatch: (batch: ScannedEvent[]) => void | Promise<void>,
  limit = 200_000,
  pageSize = SCAN_PAGE_SIZE,
): Promise<ScanResult> {
  let count = 0;
  // Oldest period first; a period's sub-shards are read together.
  const periods = new Map<number, { names: string[]; end: number }>();
  for (const shard of (await shardsOverlapping(env.DB, accountId, fromMs, toMs)).reverse()) {
    const period = periods.get(shard.periodStart) ?? { names: [], end: shard.periodEnd };
    period.names.push(shard.name);
    periods.set(shard.periodStart, period);
  }
  /** The newest `want` events of [from, to) in these shards, newest first. */
  const newest = (names: string[], from: number, to: number, want: number, before?: StoredShardEvent) =>
    pageAcrossPeriods([names], want, async (name, n) => {
      const page = await eventShardObject(env, name).list({
        filters: { from, to },
        before: before && { occurredAt: before.occurredAt, id: before.id },
        limit: n,
      });
      return page.events;
    });
  const emit = async (rows: StoredShardEvent[]): Promise<boolean> => {
    const room = limit - count;
    const taken = rows.slice(0, room);
    if (taken.length > 0) {
      count += taken.length;
      await onBatch(taken.map(scanned));
    }
    return rows.length > room;
  };

  for (const [periodStart, { names, end }] of periods) {
    // Slices still to read, the oldest last (a stack).
    const slices: [number, number][] = [[Math.max(fromMs, periodStart), Math.min(toMs, end)]];
    for (let slice = slices.pop(); slice; slice = slices.pop()) {
      const [from, to] = slice;
      if (to <= from) continue;
      const page = await newest(names, from, to, pageSize);
      if (!page.more) {
        if (await emit(page.rows.reverse())) return { scanned: count, truncated: true };
        continue;
      }
      if (to - from > 1) {
        const middle = from + Math.floor((to - from) / 2);
        slices.push([middle, to], [from, middle]);
        continue;
      }
      // More than a page at one millisecond: gather that instant newest first, then hand it out.
      const instant = [...page.rows];
      for (let more = true; more; ) {
        const next = await newest(names, from, to, pageSize, instant[instant.length - 1]);
        instant.push(...next.rows);
        more = next.more;
      }
      for (let i = instant.length; i > 0; i -= pageSize) {
        if (await emit(instant.slice(Math.max(0, i - pageSize), i).reverse())) {
          return { scanned: count, truncated: true };
        }
      }
    }
  }
  return { scanned: count, truncated: false };
}
