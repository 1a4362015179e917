/**
 * No accepted event is lost across a disable, whatever the timing (README, "Delivery"): an upload
 * that began before a disable (manual or automatic) and was stored after it is replayed on
 * enable; an event stored before a disable whose fan-out comes late (a node's re-send, a system
 * event published after its commit) is queued, paused, in the disabled integration's outbox.
 * Every one is then delivered exactly once.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { integrations } from "../../../worker/db/schema";
import { buildSystemEvent, systemEventOutboxInsert } from "../../../worker/domain/system-events";
import { publishSystemEvents } from "../../../worker/ingest/publish-system-events";
import { createIntegration } from "../delivery/fixtures";
import { api, call, db, json } from "../helpers";
import { bucketName, hubRequests, hubUrl, type RecordedRequest, script } from "../hub";
import {
  createNode,
  OUTBOX_TABLE,
  postEvents,
  queued,
  scopeChange,
  securityIssue,
  storedEvents,
  stub,
  type Tenant,
  tenant,
} from "../ingest/support";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A critical security issue with its own path: each one is a new issue, so each is notified. */
const issue = (title: string) =>
  securityIssue({ risk: "critical", title, path: `/race/${encodeURIComponent(title)}/${crypto.randomUUID()}` });

/**
 * POST /v1/events whose body arrives in two parts: the request begins (and takes its arrival
 * time) now, and is stored only once `finish()` sends the rest.
 */
function slowUpload(token: string, body: unknown) {
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  const half = Math.floor(bytes.length / 2);
  let rest!: () => void;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes.slice(0, half));
      rest = () => {
        controller.enqueue(bytes.slice(half));
        controller.close();
      };
    },
  });
  const response = call("/v1/events", {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: stream,
    duplex: "half",
  } as RequestInit);
  return {
    finish: async () => {
      rest();
      return response;
    },
  };
}

/** A webhook integration at a fresh hub bucket, subscribed to critical security issues (or `events`). */
async function webhook(t: Tenant, prefix: string, events: Record<string, unknown> = { security_issue: ["critical"] }) {
  const bucket = bucketName(prefix);
  const id = await createIntegration(t.accountId, { settings: { url: hubUrl(bucket, "/hook") }, events });
  return { id, bucket };
}

const notificationIds = (request: RecordedRequest) => (JSON.parse(request.body) as { id: string }[]).map((n) => n.id);

/** The notification ids the receiver accepted (2xx), waiting until `expected` of them arrived. */
async function acceptedIds(bucket: string, expected: number, answeredOk: (index: number) => boolean) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ids = (await hubRequests(bucket)).filter((_, i) => answeredOk(i)).flatMap(notificationIds);
    if (ids.length >= expected || Date.now() > deadline) {
      await sleep(200); // and nothing more arrives
      return (await hubRequests(bucket)).filter((_, i) => answeredOk(i)).flatMap(notificationIds);
    }
    await sleep(50);
  }
}

async function receivedAt(accountId: string, ids: string[]): Promise<number[]> {
  const wanted = new Set(ids);
  return (await storedEvents(accountId)).filter((e) => wanted.has(e.id)).map((e) => e.receivedAt);
}

async function waitForStatus(id: string, status: "enabled" | "disabled") {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const row = await db().query.integrations.findFirst({ where: eq(integrations.id, id) });
    if (row?.status === status) return row;
    if (Date.now() > deadline) throw new Error(`integration ${id} did not become ${status}`);
    await sleep(50);
  }
}

async function enableWithReplay(t: Tenant, id: string) {
  const res = await api(t.admin, "POST", `/api/integrations/${id}/enable`, { pending: "resume", replay_missed: true });
  expect(res.status).toBe(200);
  return json<{ resumed: number; replayed: number }>(res);
}

describe("an upload straddling a disable", () => {
  it("manual: stored after the disable, it is replayed on enable, and every event arrives once", async () => {
    const t = await tenant("Acme Straddle Manual");
    const node = await createNode(t.admin);
    const { id, bucket } = await webhook(t, "straddle-manual");
    // The node's first request caches the account's targets, this integration enabled.
    const before = issue("before");
    expect((await postEvents(node.token, { events: [before] })).status).toBe(202);

    const late = Array.from({ length: 20 }, (_, i) => issue(`late ${i}`));
    const upload = slowUpload(node.token, { events: late });
    await sleep(20);
    const disabled = await api(t.admin, "POST", `/api/integrations/${id}/disable`);
    expect(disabled.status).toBe(200);
    const disabledAt = Date.parse((await json(disabled)).integration.disabled_at);
    const answer = await upload.finish();
    expect(answer.status).toBe(202);
    expect(await json(answer)).toMatchObject({ accepted: 20 });
    // The premise: the upload began before the disable (its arrival time is earlier).
    const arrivals = await receivedAt(
      t.accountId,
      late.map((e) => String(e.id)),
    );
    expect(arrivals).toHaveLength(20);
    expect(Math.max(...arrivals)).toBeLessThan(disabledAt);

    expect(await enableWithReplay(t, id)).toMatchObject({ replayed: 20 });
    const delivered = await acceptedIds(bucket, 21, () => true);
    expect(delivered.sort()).toEqual([before, ...late].map((e) => String(e.id)).sort());
  });

  it("automatic: stored after a 410 disabled it, it is replayed on enable with the paused delivery, each once", async () => {
    const t = await tenant("Acme Straddle Auto");
    const node = await createNode(t.admin);
    const { id, bucket } = await webhook(t, "straddle-auto");
    await script(bucket, [{ status: 410 }]); // then 200
    // Caches the targets (this integration enabled) without sending it anything.
    expect((await postEvents(node.token, { events: [scopeChange()] })).status).toBe(202);

    const late = Array.from({ length: 20 }, (_, i) => issue(`late ${i}`));
    const upload = slowUpload(node.token, { events: late });
    await sleep(20);
    // Its delivery meets the 410: Herald disables the integration while the upload is under way.
    const gone = issue("answered 410");
    expect((await postEvents(node.token, { events: [gone] })).status).toBe(202);
    const row = await waitForStatus(id, "disabled");
    expect(row.disabledReason).toBe("destination_gone");
    const answer = await upload.finish();
    expect(answer.status).toBe(202);
    expect(await json(answer)).toMatchObject({ accepted: 20 });
    const arrivals = await receivedAt(
      t.accountId,
      late.map((e) => String(e.id)),
    );
    expect(Math.max(...arrivals)).toBeLessThan(row.disabledAt!);

    expect(await enableWithReplay(t, id)).toMatchObject({ resumed: 1, replayed: 20 });
    // The first request was answered 410; every other one 200.
    const delivered = await acceptedIds(bucket, 21, (i) => i > 0);
    expect(delivered.sort()).toEqual([gone, ...late].map((e) => String(e.id)).sort());
  });
});

describe("an event stored before a disable whose fan-out comes after it", () => {
  it("a node's re-send after a failed fan-out is queued, paused, and delivered on resume", async () => {
    const t = await tenant("Acme Late Resend");
    const node = await createNode(t.admin);
    const { id, bucket } = await webhook(t, "late-resend");
    // A first attempt whose fan-out failed (503): stored in its shard, unprocessed, never queued.
    const event = issue("re-sent");
    await stub(id).enqueue(id, []);
    const rename = (from: string, to: string) =>
      runInDurableObject(stub(id), async (_instance, state) => {
        state.storage.sql.exec(`ALTER TABLE ${from} RENAME TO ${to}`);
      });
    await rename(OUTBOX_TABLE, `${OUTBOX_TABLE}_broken`);
    expect((await postEvents(node.token, { events: [event] })).status).toBe(503);
    await rename(`${OUTBOX_TABLE}_broken`, OUTBOX_TABLE);
    expect((await api(t.admin, "POST", `/api/integrations/${id}/disable`)).status).toBe(200);

    const resend = await postEvents(node.token, { events: [event] });
    expect(resend.status).toBe(202);
    expect(await json(resend)).toEqual({ accepted: 0, duplicates: 1 });
    expect([...(await queued(id)).keys()]).toEqual([event.id]);
    await sleep(300);
    expect(await hubRequests(bucket)).toHaveLength(0);

    const res = await api(t.admin, "POST", `/api/integrations/${id}/enable`, { pending: "resume" });
    expect(await json(res)).toMatchObject({ resumed: 1, replayed: 0 });
    expect(await acceptedIds(bucket, 1, () => true)).toEqual([event.id]);
  });

  it("a system event published after the disable is queued, paused, and delivered on resume", async () => {
    const t = await tenant("Acme Late Notice");
    const { id, bucket } = await webhook(t, "late-notice", { system: true });
    const event = buildSystemEvent(t.accountId, "user_created", "test", "User x@acme.test was added.", {});
    await systemEventOutboxInsert(db(), event);
    expect((await api(t.admin, "POST", `/api/integrations/${id}/disable`)).status).toBe(200);
    expect(await publishSystemEvents(env, t.accountId, [event])).toBe(true);
    expect([...(await queued(id)).keys()]).toEqual([event.id]);

    const res = await api(t.admin, "POST", `/api/integrations/${id}/enable`, { pending: "resume" });
    expect(await json(res)).toMatchObject({ resumed: 1 });
    // Then the "enabled" notice itself, which it subscribes to.
    expect((await acceptedIds(bucket, 2, () => true)).filter((n) => n === event.id)).toEqual([event.id]);
  });
});
