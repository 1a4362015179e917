import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, silences } from "../../../worker/db/schema";
import { uuidv7 } from "../../../worker/lib/ids";
import { MAX_LIVE_SILENCES_PER_ACCOUNT } from "../../../worker/routes/silences";
import { silenceExpiryStep } from "../../../worker/triggers/expiry";
import { loadLiveSilences, recordSilencedCounts } from "../../../worker/triggers/store";
import { api, db, json, login } from "../helpers";
import { createNode, hit, postEvents, tenant } from "../ingest/support";

const HOUR = 3_600_000;

async function actions(accountId: string, targetId: string) {
  const rows = await db()
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.accountId, accountId), eq(auditLog.targetId, targetId)))
    .orderBy(auditLog.createdAt);
  return rows.map((row) => row.action);
}

const pentest = (startsInMs: number, lastsMs: number) => ({
  name: "Pentest from the red team",
  comment: "Ticket SEC-42",
  filters: { source_ips: ["198.51.100.0/24"], hosts: ["*.staging.example.com"] },
  starts_at: new Date(Date.now() + startsInMs).toISOString(),
  ends_at: new Date(Date.now() + startsInMs + lastsMs).toISOString(),
  recurrence: { days: ["fri"], from: "18:00", to: "22:00" },
});

describe("silences API", () => {
  it("an admin creates a silence; every role reads it with its state and count; audited", async () => {
    const acme = await tenant();
    const body = pentest(HOUR, HOUR);
    const res = await api(acme.admin, "POST", "/api/silences", body);
    expect(res.status).toBe(201);
    const { silence } = await json(res);
    expect(silence).toMatchObject({ ...body, state: "scheduled", silenced_count: 0 });
    for (const role of ["analyst", "read_only"] as const) {
      const session = await login(acme.users[role].email);
      expect((await json(await api(session, "GET", "/api/silences"))).silences).toEqual([silence]);
      expect((await api(session, "POST", "/api/silences", pentest(0, HOUR))).status).toBe(403);
      expect((await api(session, "PATCH", `/api/silences/${silence.id}`, { name: "x" })).status).toBe(403);
      expect((await api(session, "DELETE", `/api/silences/${silence.id}`)).status).toBe(403);
      expect((await api(session, "POST", "/api/silences/preview", pentest(0, HOUR))).status).toBe(403);
    }
    const active = await json(await api(acme.admin, "POST", "/api/silences", pentest(-HOUR, 2 * HOUR)));
    expect(active.silence.state).toBe("active");
    expect(await actions(acme.accountId, silence.id)).toEqual(["silence.created"]);
  });

  it("validates, also the merged silence of a PATCH; nodes of another account are refused", async () => {
    const acme = await tenant();
    const other = await tenant("Other");
    const foreign = await createNode(other.admin);
    const backwards = { ...pentest(HOUR, HOUR), ends_at: new Date(Date.now()).toISOString() };
    const refused = await api(acme.admin, "POST", "/api/silences", backwards);
    expect(refused.status).toBe(400);
    expect((await json(refused)).error.details[0].field).toBe("ends_at");
    const foreignNode = await api(acme.admin, "POST", "/api/silences", {
      ...pentest(0, HOUR),
      filters: { node_ids: [foreign.id] },
    });
    expect((await json(foreignNode)).error.details[0].field).toBe("filters.node_ids.0");

    const { silence } = await json(await api(acme.admin, "POST", "/api/silences", pentest(HOUR, HOUR)));
    const patch = await api(acme.admin, "PATCH", `/api/silences/${silence.id}`, {
      ends_at: new Date(Date.now() + HOUR / 2).toISOString(),
    });
    expect(patch.status).toBe(400);
    expect((await json(patch)).error.details[0].field).toBe("ends_at");

    const moved = await api(acme.admin, "PATCH", `/api/silences/${silence.id}`, {
      starts_at: new Date(Date.now() - HOUR).toISOString(),
      recurrence: null,
    });
    expect(moved.status).toBe(200);
    expect((await json(moved)).silence).toMatchObject({ state: "active", recurrence: null, name: silence.name });
    expect((await api(other.admin, "PATCH", `/api/silences/${silence.id}`, { name: "x" })).status).toBe(404);
    expect((await api(acme.admin, "DELETE", `/api/silences/${silence.id}`)).status).toBe(204);
    expect(await actions(acme.accountId, silence.id)).toEqual([
      "silence.created",
      "silence.updated",
      "silence.deleted",
    ]);
  });

  it("previews how many stored events of the last 24 hours it would have muted", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const recent = new Date(Date.now() - 60_000).toISOString();
    const events = [
      hit({ remote_addr: "198.51.100.4", host: "a.staging.example.com", occurred_at: recent }),
      hit({ remote_addr: "198.51.100.5", host: "b.staging.example.com", occurred_at: recent }),
      hit({ remote_addr: "203.0.113.5", host: "a.staging.example.com", occurred_at: recent }),
      hit({ remote_addr: "198.51.100.4", host: "shop.example.com", occurred_at: recent }),
    ];
    expect((await postEvents(node.token, { events })).status).toBe(202);
    const body = { ...pentest(-2 * HOUR, 3 * HOUR), recurrence: null };
    const res = await api(acme.admin, "POST", "/api/silences/preview", body);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ window_hours: 24, events_scanned: 5, truncated: false, would_mute: 2 });
    expect((await json(await api(acme.admin, "GET", "/api/silences"))).silences).toEqual([]);
  });

  it(`refuses a silence past ${MAX_LIVE_SILENCES_PER_ACCOUNT} not yet ended with 409; ended ones do not count`, async () => {
    const acme = await tenant();
    const now = Date.now();
    const row = (i: number, endsAt: number) => ({
      id: uuidv7(now + i),
      accountId: acme.accountId,
      name: `s${i}`,
      filters: {},
      startsAt: now - 2 * HOUR,
      endsAt,
      createdAt: now,
      updatedAt: now,
      createdBy: "seed",
    });
    const rows = Array.from({ length: MAX_LIVE_SILENCES_PER_ACCOUNT - 1 }, (_, i) => row(i, now + HOUR));
    rows.push(row(1000, now - HOUR));
    // D1 binds at most 100 parameters per statement.
    for (let i = 0; i < rows.length; i += 7)
      await db()
        .insert(silences)
        .values(rows.slice(i, i + 7));
    expect((await api(acme.admin, "POST", "/api/silences", pentest(0, HOUR))).status).toBe(201);
    const refused = await api(acme.admin, "POST", "/api/silences", pentest(0, HOUR));
    expect(refused.status).toBe(409);
    expect((await json(refused)).error.code).toBe("limit_reached");
  });

  it("the ingest object's view: live silences, and muted counts copied back to the API", async () => {
    const acme = await tenant();
    const ended = await json(await api(acme.admin, "POST", "/api/silences", pentest(-2 * HOUR, HOUR)));
    const live = await json(await api(acme.admin, "POST", "/api/silences", pentest(-HOUR, 2 * HOUR)));
    const other = await tenant("Other");
    const foreign = await json(await api(other.admin, "POST", "/api/silences", pentest(-HOUR, 2 * HOUR)));
    expect((await loadLiveSilences(db(), acme.accountId)).map((s) => s.id)).toEqual([live.silence.id]);
    await recordSilencedCounts(db(), acme.accountId, { [live.silence.id]: 7, [foreign.silence.id]: 9 });
    await recordSilencedCounts(db(), acme.accountId, { [live.silence.id]: 7 });
    const listed = (await json(await api(acme.admin, "GET", "/api/silences"))).silences;
    expect(listed.map((s: { id: string; silenced_count: number }) => [s.id, s.silenced_count])).toEqual([
      [ended.silence.id, 0],
      [live.silence.id, 7],
    ]);
    // Another account's silence is not touched through this account.
    expect(
      (await json(await api(other.admin, "GET", `/api/silences/${foreign.silence.id}`))).silence.silenced_count,
    ).toBe(0);
  });

  it("the minute cron audits a silence's end once", async () => {
    const acme = await tenant();
    const { silence } = await json(await api(acme.admin, "POST", "/api/silences", pentest(-2 * HOUR, HOUR)));
    expect(silence.state).toBe("expired");
    const running = await json(await api(acme.admin, "POST", "/api/silences", pentest(-HOUR, 2 * HOUR)));
    await Promise.all([silenceExpiryStep(null, env), silenceExpiryStep(null, env)]);
    await silenceExpiryStep(null, env);
    expect(await actions(acme.accountId, silence.id)).toEqual(["silence.created", "silence.expired"]);
    expect(await actions(acme.accountId, running.silence.id)).toEqual(["silence.created"]);
    const [entry] = await db()
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, silence.id), eq(auditLog.action, "silence.expired")));
    expect(entry).toMatchObject({ actorType: "system", actorLabel: "Herald" });
    const row = await db().query.silences.findFirst({ where: eq(silences.id, silence.id) });
    expect(row?.expiryAuditedAt).not.toBeNull();
  });
});
