/**
 * The account's events for the API: the list across shards (newest first, filtered, cursor-paged)
 * and one event by id and time, or where the account object linked it (docs/data-plane.md, "Reading
 * events"). Shards are found in the D1 directory; another account's events are never reached, since
 * every shard name and directory row is the account's own.
 */
import type { Env } from "../env";
import { locateEvent, shardsOverlapping } from "./directory";
import { type EventKey, pageAcrossPeriods } from "./merge-pages";
import { eventShardObject } from "./objects";
import type { ShardListFilters, StoredShardEvent } from "./shard-types";

export interface EventPage {
  events: StoredShardEvent[];
  /** The last event of the page when more follow (the next page's cursor). */
  next: EventKey | null;
}

/**
 * One page of the account's events in `occurred_at DESC, id DESC` order, after `cursor`. Only the
 * periods that can hold a matching event are asked: those overlapping the filter's [from, to)
 * and starting no later than the cursor.
 */
export async function listAccountEvents(
  env: Env,
  accountId: string,
  filters: ShardListFilters,
  cursor: EventKey | undefined,
  limit: number,
): Promise<EventPage> {
  const from = filters.from ?? 0;
  const to = Math.min(filters.to ?? Number.MAX_SAFE_INTEGER, cursor ? cursor.occurredAt + 1 : Number.MAX_SAFE_INTEGER);
  if (to <= from) return { events: [], next: null };
  const periods: string[][] = [];
  let periodStart: number | undefined;
  for (const shard of await shardsOverlapping(env.DB, accountId, from, to)) {
    if (shard.periodStart !== periodStart) periods.push([]);
    periodStart = shard.periodStart;
    periods[periods.length - 1]?.push(shard.name);
  }
  const { rows, more } = await pageAcrossPeriods(periods, limit, async (name, want) => {
    const page = await eventShardObject(env, name).list({ filters, before: cursor, limit: want });
    return page.events;
  });
  const last = rows[rows.length - 1];
  return { events: rows, next: more && last ? { occurredAt: last.occurredAt, id: last.id } : null };
}

/**
 * One event of the account by id and time (how the list links every event): the one shard that can
 * hold that key (`locateEvent`: the time's period, its fanout, the id's sub-shard).
 */
export async function findEventAt(
  env: Env,
  accountId: string,
  id: string,
  occurredAt: number,
): Promise<StoredShardEvent | null> {
  // A sub-shard nothing was written to has no row: never wake an empty object for it.
  const shard = await locateEvent(env.DB, accountId, { id, occurredAt });
  return shard ? eventShardObject(env, shard.name).get({ id, occurredAt }) : null;
}

/**
 * One event a notification links to, where the account object recorded it (`findLinked`: its shard
 * and time); null when nothing was recorded.
 */
export async function findLinkedEvent(
  env: Env,
  id: string,
  linked: { shard: string; occurredAt: number } | null,
): Promise<StoredShardEvent | null> {
  return linked ? eventShardObject(env, linked.shard).get({ id, occurredAt: linked.occurredAt }) : null;
}
