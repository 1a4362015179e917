import type { Env } from "../env";

/**
 * The one way to address an event shard's Durable Object (worker/events/shard-do.ts): one object
 * per shard, named by its shard name (worker/events/shard-names.ts, docs/data-plane.md).
 */
export function eventShardObject(env: Pick<Env, "EVENT_SHARD_DO">, name: string) {
  return env.EVENT_SHARD_DO.get(env.EVENT_SHARD_DO.idFromName(name));
}
