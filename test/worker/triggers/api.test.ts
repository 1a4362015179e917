import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, integrations, triggers } from "../../../worker/db/schema";
import { uuidv7 } from "../../../worker/lib/ids";
import { PREVIEW_LIMIT } from "../../../worker/routes/rule-collection";
import { MAX_TRIGGERS_PER_ACCOUNT } from "../../../worker/routes/triggers";
import { api, call, db, json, login } from "../helpers";
import { createNode, hit, integration, postEvents, tenant } from "../ingest/support";

async function auditActions(accountId: string, targetId: string) {
  const rows = await db()
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.accountId, accountId), eq(auditLog.targetId, targetId)))
    .orderBy(auditLog.createdAt);
  return rows.map((row) => ({ action: row.action, details: row.details as Record<string, unknown> }));
}

async function setup() {
  const acme = await tenant();
  const integrationId = await integration(acme.accountId, { hit: true });
  const threshold = {
    name: "SQLi burst on payments",
    condition: { kind: "threshold", count: 100, window_minutes: 5 },
    filters: { attack_types: ["sqli"], hosts: ["*.pay.example.com"] },
    group_by: ["host"],
    integration_ids: [integrationId],
  };
  return { acme, integrationId, threshold };
}

describe("triggers API", () => {
  it("an admin creates a trigger: defaults filled in, audited, readable by every role", async () => {
    const { acme, threshold } = await setup();
    const res = await api(acme.admin, "POST", "/api/triggers", threshold);
    expect(res.status).toBe(201);
    const { trigger } = await json(res);
    expect(trigger).toMatchObject({
      ...threshold,
      enabled: true,
      throttle_minutes: 5,
      created_by: acme.users.admin.email,
    });
    expect(await auditActions(acme.accountId, trigger.id)).toEqual([
      { action: "trigger.created", details: expect.objectContaining({ name: threshold.name }) },
    ]);
    for (const role of ["analyst", "read_only"] as const) {
      const session = await login(acme.users[role].email);
      const list = await json(await api(session, "GET", "/api/triggers"));
      expect(list.triggers).toEqual([trigger]);
      expect((await json(await api(session, "GET", `/api/triggers/${trigger.id}`))).trigger).toEqual(trigger);
    }
  });

  it("an analyst or read-only user cannot create, change, delete or preview", async () => {
    const { acme, threshold } = await setup();
    const { trigger } = await json(await api(acme.admin, "POST", "/api/triggers", threshold));
    for (const role of ["analyst", "read_only"] as const) {
      const session = await login(acme.users[role].email);
      expect((await api(session, "POST", "/api/triggers", threshold)).status).toBe(403);
      expect((await api(session, "POST", "/api/triggers/preview", threshold)).status).toBe(403);
      expect((await api(session, "PATCH", `/api/triggers/${trigger.id}`, { enabled: false })).status).toBe(403);
      expect((await api(session, "DELETE", `/api/triggers/${trigger.id}`)).status).toBe(403);
    }
    expect((await json(await api(acme.admin, "GET", `/api/triggers/${trigger.id}`))).trigger).toEqual(trigger);
  });

  it("API tokens follow their role: an admin token changes triggers, a read-only token only reads", async () => {
    const { acme, threshold } = await setup();
    const bearer = async (role: string) => {
      const { secret } = await json(await api(acme.admin, "POST", "/api/tokens", { name: role, role }));
      return (method: string, path: string, body?: unknown) =>
        call(path, {
          method,
          headers: { Authorization: `Bearer ${secret}`, "Content-Type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
    };
    const admin = await bearer("admin");
    const reader = await bearer("read_only");
    const created = await admin("POST", "/api/triggers", threshold);
    expect(created.status).toBe(201);
    const { trigger } = await json(created);
    expect(trigger.created_by).toBe("token:admin");
    expect((await reader("GET", "/api/triggers")).status).toBe(200);
    expect((await reader("PATCH", `/api/triggers/${trigger.id}`, { enabled: false })).status).toBe(403);
    expect(
      (
        await reader("POST", "/api/silences", {
          name: "x",
          starts_at: trigger.created_at,
          ends_at: "2100-01-01T00:00:00Z",
        })
      ).status,
    ).toBe(403);
  });

  it("refuses integrations and nodes of another account, naming the field", async () => {
    const { acme, threshold, integrationId } = await setup();
    const other = await tenant("Other");
    const foreignIntegration = await integration(other.accountId, { hit: true });
    const foreignNode = await createNode(other.admin);
    const ownNode = await createNode(acme.admin);
    const cases: [Record<string, unknown>, string][] = [
      [{ integration_ids: [integrationId, foreignIntegration] }, "integration_ids.1"],
      [{ filters: { node_ids: [ownNode.id, foreignNode.id] } }, "filters.node_ids.1"],
      [
        {
          condition: { kind: "node_silence", node_id: foreignNode.id, silence_minutes: 10 },
          filters: {},
          group_by: [],
        },
        "condition.node_id",
      ],
    ];
    for (const [change, field] of cases) {
      const res = await api(acme.admin, "POST", "/api/triggers", { ...threshold, ...change });
      expect(res.status, field).toBe(400);
      expect((await json(res)).error.details.map((d: { field: string }) => d.field)).toEqual([field]);
    }
    expect((await json(await api(acme.admin, "GET", "/api/triggers"))).triggers).toEqual([]);
  });

  it("validates the trigger, naming the field", async () => {
    const { acme, threshold } = await setup();
    const cases: [Record<string, unknown>, string][] = [
      [{ name: "" }, "name"],
      [{ condition: { kind: "threshold", count: 0, window_minutes: 5 } }, "condition.count"],
      [{ condition: { kind: "threshold", count: 5, window_minutes: 1441 } }, "condition.window_minutes"],
      [{ condition: { kind: "sometimes" } }, "condition.kind"],
      [{ condition: { kind: "node_silence", node_id: null, silence_minutes: 5 } }, "group_by"],
      [{ condition: { kind: "system_event", system_types: [] }, group_by: [] }, "filters"],
      [{ group_by: ["host", "host"] }, "group_by"],
      [
        {
          condition: { kind: "system_event", system_types: ["user_created", "coffee_break"] },
          filters: {},
          group_by: [],
        },
        "condition.system_types.1",
      ],
      [{ group_by: ["country"] }, "group_by.0"],
      [{ throttle_minutes: -1 }, "throttle_minutes"],
      [{ integration_ids: [] }, "integration_ids"],
      [{ filters: { source_ips: ["not-an-ip"] } }, "filters.source_ips.0"],
    ];
    for (const [change, field] of cases) {
      const res = await api(acme.admin, "POST", "/api/triggers", { ...threshold, ...change });
      expect(res.status, field).toBe(400);
      expect((await json(res)).error.details[0].field, JSON.stringify(change)).toBe(field);
    }
  });

  it("changes a trigger: the default throttle follows the window, audited with what changed", async () => {
    const { acme, threshold } = await setup();
    const { trigger } = await json(await api(acme.admin, "POST", "/api/triggers", threshold));
    const res = await api(acme.admin, "PATCH", `/api/triggers/${trigger.id}`, {
      condition: { kind: "threshold", count: 50, window_minutes: 15 },
    });
    expect(res.status).toBe(200);
    const updated = (await json(res)).trigger;
    expect(updated).toMatchObject({ condition: { count: 50, window_minutes: 15 }, throttle_minutes: 15 });
    expect(Date.parse(updated.updated_at)).toBeGreaterThan(Date.parse(trigger.updated_at));
    expect((await json(await api(acme.admin, "GET", `/api/triggers/${trigger.id}`))).trigger).toEqual(updated);
    // The merged trigger is checked: a node-silence condition cannot keep the group-by.
    const bad = await api(acme.admin, "PATCH", `/api/triggers/${trigger.id}`, {
      condition: { kind: "node_silence", node_id: null, silence_minutes: 5 },
    });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.details[0].field).toBe("group_by");
    const actions = await auditActions(acme.accountId, trigger.id);
    expect(actions.map((a) => a.action)).toEqual(["trigger.created", "trigger.updated"]);
    expect(actions[1]?.details.changed).toEqual(["condition"]);
  });

  it("deletes a trigger, audited; another account's trigger is not found", async () => {
    const { acme, threshold } = await setup();
    const { trigger } = await json(await api(acme.admin, "POST", "/api/triggers", threshold));
    const other = await tenant("Other");
    expect((await api(other.admin, "GET", `/api/triggers/${trigger.id}`)).status).toBe(404);
    expect((await api(other.admin, "DELETE", `/api/triggers/${trigger.id}`)).status).toBe(404);
    expect((await api(acme.admin, "DELETE", `/api/triggers/${trigger.id}`)).status).toBe(204);
    expect((await api(acme.admin, "GET", `/api/triggers/${trigger.id}`)).status).toBe(404);
    expect((await auditActions(acme.accountId, trigger.id)).map((a) => a.action)).toEqual([
      "trigger.created",
      "trigger.deleted",
    ]);
  });

  it("deleting a user takes their personal email out of the triggers that name it", async () => {
    const { acme, integrationId, threshold } = await setup();
    const added = await json(
      await api(acme.admin, "POST", "/api/users", { email: `leaver-${uuidv7()}@acme.test`, role: "analyst" }),
    );
    const [personal] = await db()
      .select({ id: integrations.id })
      .from(integrations)
      .where(and(eq(integrations.accountId, acme.accountId), eq(integrations.userId, added.user.id)));
    expect(personal).toBeDefined();
    const body = { ...threshold, integration_ids: [integrationId, personal!.id] };
    const { trigger } = await json(await api(acme.admin, "POST", "/api/triggers", body));
    expect(trigger.integration_ids).toEqual([integrationId, personal!.id]);

    expect((await api(acme.admin, "DELETE", `/api/users/${added.user.id}`)).status).toBe(204);
    const read = await json(await api(acme.admin, "GET", `/api/triggers/${trigger.id}`));
    expect(read.trigger.integration_ids).toEqual([integrationId]);
  });

  it("previews a trigger over the stored events of the last 24 hours, per group", async () => {
    const { acme, integrationId } = await setup();
    const node = await createNode(acme.admin);
    const minuteAgo = new Date(Date.now() - 60_000).toISOString();
    const from = (ip: string, extra: Record<string, unknown> = {}) =>
      hit({ remote_addr: ip, occurred_at: minuteAgo, ...extra });
    const events = [
      from("198.51.100.1"),
      from("198.51.100.1"),
      from("198.51.100.1"),
      from("198.51.100.2"),
      from("198.51.100.1", { attack_type: "xss" }),
      // Older than 24 hours: outside the preview.
      from("198.51.100.2", { occurred_at: new Date(Date.now() - 25 * 3_600_000).toISOString() }),
    ];
    expect((await postEvents(node.token, { events })).status).toBe(202);
    const res = await api(acme.admin, "POST", "/api/triggers/preview", {
      name: "preview",
      condition: { kind: "threshold", count: 2, window_minutes: 5 },
      filters: { attack_types: ["sqli"] },
      group_by: ["source_ip"],
      integration_ids: [integrationId],
    });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({
      window_hours: 24,
      // The five recent hits and the node_created system event.
      events_scanned: 6,
      truncated: false,
      would_fire: 1,
      groups: [{ key: "source_ip=198.51.100.1", fired: 1 }],
    });
    const each = await json(
      await api(acme.admin, "POST", "/api/triggers/preview", {
        name: "preview",
        condition: { kind: "each_event" },
        filters: { attack_types: ["sqli"] },
        integration_ids: [integrationId],
      }),
    );
    expect(each).toMatchObject({ would_fire: 4, groups: [{ key: "", fired: 4 }] });
    // Nothing was stored by the previews.
    expect((await json(await api(acme.admin, "GET", "/api/triggers"))).triggers).toEqual([]);
  });
});

describe("trigger limits", () => {
  it(`refuses a trigger past ${MAX_TRIGGERS_PER_ACCOUNT} per account with 409`, async () => {
    const { acme, threshold, integrationId } = await setup();
    const now = Date.now();
    const rows = Array.from({ length: MAX_TRIGGERS_PER_ACCOUNT }, (_, i) => ({
      id: uuidv7(now + i),
      accountId: acme.accountId,
      name: `t${i}`,
      enabled: true,
      condition: { kind: "each_event" },
      filters: {},
      groupBy: [],
      throttleMinutes: 0,
      integrationIds: [integrationId],
      createdAt: now,
      updatedAt: now,
      createdBy: "seed",
    }));
    // D1 binds at most 100 parameters per statement: 8 rows of 12 columns at a time.
    for (let i = 0; i < rows.length; i += 8)
      await db()
        .insert(triggers)
        .values(rows.slice(i, i + 8));
    const refused = await api(acme.admin, "POST", "/api/triggers", threshold);
    expect(refused.status).toBe(409);
    expect((await json(refused)).error.code).toBe("limit_reached");
  });

  it(`refuses previews past ${PREVIEW_LIMIT.max} an hour with 429`, async () => {
    const { acme, threshold } = await setup();
    for (let i = 0; i < PREVIEW_LIMIT.max; i++) {
      expect((await api(acme.admin, "POST", "/api/triggers/preview", threshold)).status).toBe(200);
    }
    const refused = await api(acme.admin, "POST", "/api/triggers/preview", threshold);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
  });
});

describe("triggers and silences in the OpenAPI document", () => {
  it("lists their paths and schemas", async () => {
    const doc = await json(await api(null, "GET", "/api/openapi.json"));
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/api/triggers",
        "/api/triggers/preview",
        "/api/triggers/{id}",
        "/api/silences",
        "/api/silences/preview",
        "/api/silences/{id}",
      ]),
    );
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(["Trigger", "CreateTriggerRequest", "TriggerPreview", "Silence", "SilencePreview"]),
    );
    const condition = doc.components.schemas.Trigger.properties.condition;
    expect(JSON.stringify(condition)).toContain("node_silence");
  });
});
