import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, inArray } from "drizzle-orm";
import type { Context } from "hono";
import { EVENT_TYPES, nodes } from "../db/schema";
import { RISKS } from "../domain/subscriptions";
import { findEventAt, findLinkedEvent, listAccountEvents } from "../events/query";
import type { StoredShardEvent } from "../events/shard-types";
import { accountIngestObject } from "../ingest/account-object";
import { decodeCursor, encodeCursor } from "../lib/cursor";
import { notFound } from "../lib/errors";
import { type AppEnv, createRouter, errorResponses, jsonContent } from "../lib/router";
import { iso } from "../lib/time";
import { requireAuth } from "../security/auth";

const EventSchema = z
  .object({
    id: z.string(),
    type: z.enum(EVENT_TYPES),
    occurred_at: z.string(),
    received_at: z.string(),
    node_id: z.string().nullable(),
    node_name: z.string().nullable(),
    risk: z.string().nullable(),
    attack_type: z.string().nullable(),
    host: z.string().nullable(),
    path: z.string().nullable(),
    remote_addr: z.string().nullable(),
    remote_country: z.string().nullable(),
    block_status: z.string().nullable(),
    system_type: z.string().nullable(),
    /** The event as the node sent it (validated), or the system event's details. */
    data: z.record(z.string(), z.unknown()),
  })
  .openapi("Event");

const ListQuery = z.object({
  type: z.enum(EVENT_TYPES).optional(),
  risk: z.enum(RISKS).optional(),
  attack_type: z.string().trim().toLowerCase().min(1).max(64).optional(),
  host: z.string().trim().min(1).max(255).optional(),
  from: z.iso.datetime({ offset: true, message: "Must be an RFC 3339 time." }).optional(),
  to: z.iso.datetime({ offset: true, message: "Must be an RFC 3339 time." }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

const IdParam = z.object({ id: z.string().min(1).max(64) });
const OneQuery = z.object({
  occurred_at: z.iso
    .datetime({ offset: true, message: "Must be an RFC 3339 time." })
    .optional()
    .openapi({
      description:
        "The event's occurred_at, as the event list gives it. Needed only for hits that no integration " +
        "was subscribed to when they arrived (they are never the target of a notification link).",
    }),
});

function toEvent(e: StoredShardEvent, nodeNames: Map<string, string>): z.infer<typeof EventSchema> {
  return {
    id: e.id,
    type: e.type,
    occurred_at: iso(e.occurredAt),
    received_at: iso(e.receivedAt),
    node_id: e.nodeId,
    node_name: e.nodeId ? (nodeNames.get(e.nodeId) ?? null) : null,
    risk: e.risk,
    attack_type: e.attackType,
    host: e.host,
    path: e.path,
    remote_addr: e.remoteAddr,
    remote_country: e.remoteCountry,
    block_status: e.blockStatus,
    system_type: e.systemType,
    data: (JSON.parse(e.data) ?? {}) as Record<string, unknown>,
  };
}

/** D1 binds at most 100 parameters per statement: node ids are looked up this many at a time. */
const NODE_IDS_PER_QUERY = 90;
/**
 * Node names by `accountId/nodeId`, kept by the isolate: a node's name never changes after it is
 * created (worker/routes/nodes.ts), so a warm isolate names a page without asking D1.
 */
const nodeNameCache = new Map<string, string>();
const NODE_NAME_CACHE_SIZE = 10_000;

/** The names of the account's nodes that sent these events (at most one D1 round trip per page). */
async function nodeNamesOf(c: Context<AppEnv>, list: StoredShardEvent[]): Promise<Map<string, string>> {
  const accountId = c.get("principal").accountId;
  const names = new Map<string, string>();
  const missing: string[] = [];
  for (const id of new Set(list.flatMap((e) => (e.nodeId ? [e.nodeId] : [])))) {
    const name = nodeNameCache.get(`${accountId}/${id}`);
    if (name === undefined) missing.push(id);
    else names.set(id, name);
  }
  const db = c.get("db");
  const queries = [];
  for (let i = 0; i < missing.length; i += NODE_IDS_PER_QUERY) {
    queries.push(
      db
        .select({ id: nodes.id, name: nodes.name })
        .from(nodes)
        .where(and(eq(nodes.accountId, accountId), inArray(nodes.id, missing.slice(i, i + NODE_IDS_PER_QUERY)))),
    );
  }
  const [first, ...rest] = queries;
  if (!first) return names;
  if (nodeNameCache.size > NODE_NAME_CACHE_SIZE) nodeNameCache.clear();
  for (const row of (await db.batch([first, ...rest])).flat()) {
    names.set(row.id, row.name);
    nodeNameCache.set(`${accountId}/${row.id}`, row.name);
  }
  return names;
}

/**
 * By the id alone where the account object linked it (every event a notification links to), or by
 * the full key when the caller knows the time (worker/events/query.ts).
 */
async function findEvent(c: Context<AppEnv>, id: string, occurredAt?: string) {
  const accountId = c.get("principal").accountId;
  const event =
    occurredAt === undefined
      ? await findLinkedEvent(c.env, id, await accountIngestObject(c.env, accountId).findLinked(id))
      : await findEventAt(c.env, accountId, id, Date.parse(occurredAt));
  if (!event) throw notFound("event");
  return toEvent(event, await nodeNamesOf(c, [event]));
}

const router = createRouter();
router.use("*", requireAuth);

const routes = router
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["Events"],
      summary: "Events of the account, newest first, filtered; every role",
      request: { query: ListQuery },
      responses: {
        200: jsonContent(
          z.object({ events: z.array(EventSchema), next_cursor: z.string().nullable() }),
          "One page; pass next_cursor as cursor for the next",
        ),
        ...errorResponses,
      },
    }),
    async (c) => {
      const started = performance.now();
      const query = c.req.valid("query");
      const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
      const page = await listAccountEvents(
        c.env,
        c.get("principal").accountId,
        {
          type: query.type,
          risk: query.risk,
          attackType: query.attack_type,
          host: query.host,
          from: query.from === undefined ? undefined : Date.parse(query.from),
          to: query.to === undefined ? undefined : Date.parse(query.to),
        },
        cursor && { occurredAt: cursor.time, id: cursor.key },
        query.limit,
      );
      const names = await nodeNamesOf(c, page.events);
      c.header("Server-Timing", `list;dur=${(performance.now() - started).toFixed(1)}`);
      return c.json(
        {
          events: page.events.map((e) => toEvent(e, names)),
          next_cursor: page.next ? encodeCursor(page.next.occurredAt, page.next.id) : null,
        },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags: ["Events"],
      summary: "One event (the target of notification links); every role",
      request: { params: IdParam, query: OneQuery },
      responses: { 200: jsonContent(z.object({ event: EventSchema }), "The event"), ...errorResponses },
    }),
    async (c) => c.json({ event: await findEvent(c, c.req.valid("param").id, c.req.valid("query").occurred_at) }, 200),
  );

/**
 * Notification links point at `${PUBLIC_URL}/events/<id>` (this router is mounted at /events). A
 * browser gets the UI (which shows the event); anything else gets the event as JSON, with the same
 * authentication as the API.
 */
export const eventLinks = createRouter();
eventLinks.get("/:id", async (c, next) => {
  if (c.req.header("Accept")?.includes("text/html") && c.env.ASSETS) {
    const page = await c.env.ASSETS.fetch(new Request(new URL("/", c.req.url), { headers: { Accept: "text/html" } }));
    // A fresh Response: asset responses have immutable headers, and the app adds its own.
    return new Response(page.body, page);
  }
  return requireAuth(c, next);
});
eventLinks.get("/:id", async (c) => {
  const params = IdParam.safeParse({ id: c.req.param("id") });
  if (!params.success) throw notFound("event");
  return c.json({ event: await findEvent(c, params.data.id) }, 200);
});

export default routes;
