import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, nodes } from "../../worker/db/schema";
import { sha256Hex } from "../../worker/security/hashing";
import { api, db, json, login } from "./helpers";
import { createNode, hit, postEvents, storedEvents, tenant } from "./ingest/support";

describe("nodes API", () => {
  it("creates a node: token shown once, stored only as its SHA-256, prefix kept; audited; system event", async () => {
    const acme = await tenant();
    const res = await api(acme.admin, "POST", "/api/nodes", { name: "  waf-eu-1  " });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body.token).toMatch(/^hnode_[A-Za-z0-9_-]{43}$/);
    expect(body.node).toMatchObject({
      name: "waf-eu-1",
      token_prefix: body.token.slice(0, 12),
      last_seen_at: null,
      events_count: 0,
      revoked: false,
    });

    const row = await db().query.nodes.findFirst({ where: eq(nodes.id, body.node.id) });
    expect(row?.tokenHash).toBe(await sha256Hex(body.token));
    expect(JSON.stringify(row)).not.toContain(body.token);

    const list = await json(await api(acme.admin, "GET", "/api/nodes"));
    expect(JSON.stringify(list)).not.toContain(body.token);
    expect(list.nodes.map((n: { id: string }) => n.id)).toEqual([body.node.id]);

    const audit = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.accountId, acme.accountId), eq(auditLog.action, "node.created")));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ targetId: body.node.id, actorLabel: acme.users.admin.email });
    expect(JSON.stringify(audit[0]?.details)).not.toContain(body.token);

    const [systemEvent] = (await storedEvents(acme.accountId)).filter((e) => e.systemType === "node_created");
    expect(JSON.parse(String(systemEvent?.data))).toMatchObject({
      subject: { node_id: body.node.id, node_name: "waf-eu-1" },
    });
  });

  it("validates the name", async () => {
    const acme = await tenant();
    for (const name of ["", "   ", "x".repeat(101), "tab\there"]) {
      const res = await api(acme.admin, "POST", "/api/nodes", { name });
      expect(res.status).toBe(400);
      expect((await json(res)).error.details[0].field).toBe("name");
    }
    expect((await api(acme.admin, "POST", "/api/nodes", {})).status).toBe(400);
  });

  it("lists last seen time and event counts", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    await postEvents(node.token, { events: [hit(), hit(), hit()] });
    const [listed] = (await json(await api(acme.admin, "GET", "/api/nodes"))).nodes;
    expect(listed.events_count).toBe(3);
    expect(Date.parse(listed.last_seen_at)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("revokes at once, keeps the node listed as revoked, audits, and refuses a second revoke", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    expect((await api(acme.admin, "DELETE", `/api/nodes/${node.id}`)).status).toBe(204);
    expect((await postEvents(node.token, { events: [hit()] })).status).toBe(401);
    const [listed] = (await json(await api(acme.admin, "GET", "/api/nodes"))).nodes;
    expect(listed).toMatchObject({ id: node.id, revoked: true });
    expect(listed.revoked_at).toBeTruthy();
    expect((await api(acme.admin, "DELETE", `/api/nodes/${node.id}`)).status).toBe(404);
    const audit = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.accountId, acme.accountId), eq(auditLog.action, "node.revoked")));
    expect(audit).toHaveLength(1);
    const revokedEvents = (await storedEvents(acme.accountId)).filter((e) => e.systemType === "node_revoked");
    expect(revokedEvents).toHaveLength(1);
  });

  it("is for admins only", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    for (const role of ["analyst", "read_only"] as const) {
      const session = await login(acme.users[role].email);
      expect((await api(session, "GET", "/api/nodes")).status).toBe(403);
      expect((await api(session, "POST", "/api/nodes", { name: "sneaky" })).status).toBe(403);
      expect((await api(session, "DELETE", `/api/nodes/${node.id}`)).status).toBe(403);
    }
    expect((await api(null, "GET", "/api/nodes")).status).toBe(401);
    expect((await postEvents(node.token, { events: [hit()] })).status).toBe(202);
  });

  it("never shows or revokes another account's node (404)", async () => {
    const acme = await tenant("Acme");
    const globex = await tenant("Globex");
    const node = await createNode(acme.admin);
    expect((await json(await api(globex.admin, "GET", "/api/nodes"))).nodes).toEqual([]);
    expect((await api(globex.admin, "DELETE", `/api/nodes/${node.id}`)).status).toBe(404);
    expect((await postEvents(node.token, { events: [hit()] })).status).toBe(202);
  });
});
