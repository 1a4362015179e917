import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, gte, lt, type SQL } from "drizzle-orm";
import type { Context } from "hono";
import { EVENT_TYPES, events, findableById, nodes } from "../db/schema";
import { RISKS } from "../domain/subscriptions";
import { afterCursor, decodeCursor, keysetPage } from "../lib/cursor";
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

const selection = {
  event: events,
  nodeName: nodes.name,
};
type EventWithNode = { event: typeof events.$inferSelect; nodeName: string | null };

function toEvent({ event: e, nodeName }: EventWithNode): z.infer<typeof EventSchema> {
  return {
    id: e.id,
    type: e.type,
    occurred_at: iso(e.occurredAt),
    received_at: iso(e.receivedAt),
    node_id: e.nodeId,
    node_name: nodeName,
    risk: e.risk,
    attack_type: e.attackType,
    host: e.host,
    path: e.path,
    remote_addr: e.remoteAddr,
    remote_country: e.remoteCountry,
    block_status: e.blockStatus,
    system_type: e.systemType,
    data: (e.data ?? {}) as Record<string, unknown>,
  };
}

/**
 * By the id alone through events_lookup_id_idx, or by the full key when the caller knows the time. The same id at two times (a node
 * reusing an id) gives the latest.
 */
async function findEvent(c: Context<AppEnv>, id: string, occurredAt?: string): Promise<EventWithNode> {
  const key = occurredAt === undefined ? findableById : eq(events.occurredAt, Date.parse(occurredAt));
  const [row] = await c
    .get("db")
    .select(selection)
    .from(events)
    .leftJoin(nodes, eq(nodes.id, events.nodeId))
    .where(and(eq(events.accountId, c.get("principal").accountId), eq(events.id, id), key))
    .orderBy(desc(events.occurredAt))
    .limit(1);
  if (!row) throw notFound("event");
  return row;
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
      const query = c.req.valid("query");
      const conditions: SQL[] = [eq(events.accountId, c.get("principal").accountId)];
      if (query.type) conditions.push(eq(events.type, query.type));
      if (query.risk) conditions.push(eq(events.risk, query.risk));
      if (query.attack_type) conditions.push(eq(events.attackType, query.attack_type));
      if (query.host) conditions.push(eq(events.host, query.host));
      if (query.from) conditions.push(gte(events.occurredAt, Date.parse(query.from)));
      if (query.to) conditions.push(lt(events.occurredAt, Date.parse(query.to)));
      if (query.cursor) conditions.push(afterCursor(events.occurredAt, events.id, decodeCursor(query.cursor)));
      const rows = await c
        .get("db")
        .select(selection)
        .from(events)
        .leftJoin(nodes, eq(nodes.id, events.nodeId))
        .where(and(...conditions))
        .orderBy(desc(events.occurredAt), desc(events.id))
        .limit(query.limit + 1);
      const { page, nextCursor } = keysetPage(rows, query.limit, (row) => [row.event.occurredAt, row.event.id]);
      return c.json({ events: page.map(toEvent), next_cursor: nextCursor }, 200);
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
    async (c) =>
      c.json({ event: toEvent(await findEvent(c, c.req.valid("param").id, c.req.valid("query").occurred_at)) }, 200),
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
  return c.json({ event: toEvent(await findEvent(c, params.data.id)) }, 200);
});

export default routes;
