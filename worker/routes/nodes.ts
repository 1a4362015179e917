import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, isNull } from "drizzle-orm";
import { nodes } from "../db/schema";
import { buildSystemEvent, systemEventOutboxInsert } from "../domain/system-events";
import { announceControlChange } from "../ingest/control-change";
import { NODE_TOKEN_PREFIX } from "../ingest/node-auth";
import { publishSystemEvents } from "../ingest/publish-system-events";
import { notFound } from "../lib/errors";
import { randomToken, uuidv7 } from "../lib/ids";
import { createRouter, errorResponses, jsonBody, jsonContent } from "../lib/router";
import { iso, isoOrNull } from "../lib/time";
import { requireAdmin, requireAuth } from "../security/auth";
import { sha256Hex } from "../security/hashing";
import { auditByCaller } from "./caller-audit";

/** Characters of the token kept in clear ("hnode_" + 6), enough to recognise it in a node's config. */
const TOKEN_PREFIX_LENGTH = 12;

const NodeSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    token_prefix: z.string(),
    created_at: z.string(),
    last_seen_at: z.string().nullable(),
    events_count: z.number().int(),
    revoked: z.boolean(),
    revoked_at: z.string().nullable(),
  })
  .openapi("Node");

const CreateNodeBody = z
  .object({
    name: z
      .string()
      .trim()
      .min(1, "Give the node a name.")
      .max(100, "At most 100 characters.")
      .regex(/^[^\p{Cc}]*$/u, "Must not contain control characters."),
  })
  .openapi("CreateNodeRequest");

function toNode(n: typeof nodes.$inferSelect): z.infer<typeof NodeSchema> {
  return {
    id: n.id,
    name: n.name,
    token_prefix: n.tokenPrefix,
    created_at: iso(n.createdAt),
    last_seen_at: isoOrNull(n.lastSeenAt),
    events_count: n.eventsCount,
    revoked: n.revokedAt !== null,
    revoked_at: isoOrNull(n.revokedAt),
  };
}

const router = createRouter();
router.use("*", requireAuth, requireAdmin);

const routes = router
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags: ["Nodes"],
      summary: "Detection nodes of the account, revoked ones included (admin)",
      responses: { 200: jsonContent(z.object({ nodes: z.array(NodeSchema) }), "The nodes"), ...errorResponses },
    }),
    async (c) => {
      const rows = await c
        .get("db")
        .select()
        .from(nodes)
        .where(eq(nodes.accountId, c.get("principal").accountId))
        .orderBy(desc(nodes.createdAt));
      return c.json({ nodes: rows.map(toNode) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags: ["Nodes"],
      summary: "Add a node; its token (hnode_…) is in this answer only",
      request: { body: jsonBody(CreateNodeBody) },
      responses: {
        201: jsonContent(z.object({ node: NodeSchema, token: z.string() }), "Created; configure the node with `token`"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const db = c.get("db");
      const principal = c.get("principal");
      const { name } = c.req.valid("json");
      const token = randomToken(NODE_TOKEN_PREFIX);
      const now = Date.now();
      const row = {
        id: uuidv7(now),
        accountId: principal.accountId,
        name,
        tokenHash: await sha256Hex(token),
        tokenPrefix: token.slice(0, TOKEN_PREFIX_LENGTH),
        createdAt: now,
        revokedAt: null,
        lastSeenAt: null,
        eventsCount: 0,
      };
      const event = buildSystemEvent(
        principal.accountId,
        "node_created",
        principal.label,
        `Node ${name} was added by ${principal.label}.`,
        { node_id: row.id, node_name: name, token_prefix: row.tokenPrefix },
        now,
      );
      await db.batch([
        db.insert(nodes).values(row),
        systemEventOutboxInsert(db, event),
        auditByCaller(c, {
          action: "node.created",
          targetType: "node",
          targetId: row.id,
          details: { name, token_prefix: row.tokenPrefix },
        }),
      ]);
      await announceControlChange(c.env, principal.accountId);
      await publishSystemEvents(c.env, principal.accountId, [event]);
      return c.json({ node: toNode(row), token }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags: ["Nodes"],
      summary: "Revoke a node: its token stops working at once (admin)",
      request: { params: z.object({ id: z.string().min(1).max(64) }) },
      responses: { 204: { description: "Revoked" }, ...errorResponses },
    }),
    async (c) => {
      const db = c.get("db");
      const principal = c.get("principal");
      const { id } = c.req.valid("param");
      const node = await db.query.nodes.findFirst({
        where: and(eq(nodes.id, id), eq(nodes.accountId, principal.accountId), isNull(nodes.revokedAt)),
      });
      if (!node) throw notFound("node");
      const now = Date.now();
      const event = buildSystemEvent(
        principal.accountId,
        "node_revoked",
        principal.label,
        `Node ${node.name} was revoked by ${principal.label}.`,
        { node_id: node.id, node_name: node.name, token_prefix: node.tokenPrefix },
        now,
      );
      // Re-checked in the update: a second revoke racing this one answers 404 (it may still leave its
      // audit row and system event behind, which only repeat what happened).
      const [revoked] = await db.batch([
        db
          .update(nodes)
          .set({ revokedAt: now })
          .where(and(eq(nodes.id, id), eq(nodes.accountId, principal.accountId), isNull(nodes.revokedAt)))
          .returning({ id: nodes.id }),
        systemEventOutboxInsert(db, event),
        auditByCaller(c, {
          action: "node.revoked",
          targetType: "node",
          targetId: node.id,
          details: { name: node.name },
        }),
      ]);
      if (revoked.length === 0) throw notFound("node");
      // The token stops working at the account object's next request.
      await announceControlChange(c.env, principal.accountId);
      await publishSystemEvents(c.env, principal.accountId, [event]);
      return c.body(null, 204);
    },
  );

export default routes;
