import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = ReturnType<typeof newClient>;

const clients = new WeakMap<D1Database, ReturnType<typeof newClient>>();

const newClient = (d1: D1Database) => drizzle(d1, { schema });

/** The drizzle client of a D1 binding, made once per binding object (building one walks the schema). */
export function createDb(d1: D1Database) {
  let client = clients.get(d1);
  if (!client) {
    client = newClient(d1);
    clients.set(d1, client);
  }
  return client;
}
