/**
 * The account's events for the API: the list across shards (newest first, filtered, cursor-paged)
 * and one event by id and time, or where the account object linked it (docs/data-plane.md, "Reading
 * events"). Shards are found in the D1 directory; another account's events are never reached, since
 * every shard name and directory row is the account's own.
 */
import type { Env } from "../env";
import { shardsOverlapping } from "./directory";
import { type EventKey, pageAcrossPeriods } from "./merge-pages";
import { eventShardObject } from "./objects";
import { shardName, subShardOf } from "./shard-names";
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
 * One event of the account by id and time (how the list links every event): the shard follows from
 * the time's period, its fanout in the directory and the id.
 */
export async function findEventAt(
  env: Env,
  accountId: string,
  id: string,
  occurredAt: number,
): Promise<StoredShardEvent | null> {
  // The directory row of the period holding that instant gives the fanout, hence the sub-shard.
  const shards = await shardsOverlapping(env.DB, accountId, occurredAt, occurredAt + 1);
  const period = shards[0];
  if (!period) return null;
  const name = shardName(accountId, period.periodStart, subShardOf(id, period.fanout));
  // A sub-shard nothing was written to has no row: never wake an empty object for it.
  if (!shards.some((shard) => shard.name === name)) return null;
  return eventShardObject(env, name).get({ id, occurredAt });
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
