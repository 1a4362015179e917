/**
 * Stored but never notified: when fan-out fails the node gets 503 and should re-send; a node that
 * gives up leaves its events stored with `notified_at` NULL. The sweep (every minute) queues them
 * once they are a minute old, exactly once, and holds back those too old by then (NOTIFY_MAX_AGE).
 */
import { createExecutionContext, createScheduledController, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { events, heldBackNotices } from "../../../worker/db/schema";
import { sweepUnnotifiedEvents } from "../../../worker/delivery/sweep";
import { runScheduled, SWEEP_CRON } from "../../../worker/scheduled";
import { createIntegration } from "../delivery/fixtures";
import { db } from "../helpers";
import { bucketName, hubRequests, hubUrl, waitForRequests } from "../hub";
import { createNode, hit, OUTBOX_TABLE, postEvents, queued, stub, tenant } from "./support";

/** Breaks (or repairs) the DO's outbox so that enqueue fails the way a storage fault would. */
async function breakOutbox(integrationId: string, broken: boolean) {
  if (broken) await stub(integrationId).enqueue(integrationId, []); // builds the tables
  const [from, to] = broken ? [OUTBOX_TABLE, `${OUTBOX_TABLE}_broken`] : [`${OUTBOX_TABLE}_broken`, OUTBOX_TABLE];
  await runInDurableObject(stub(integrationId), async (_instance, state) => {
    state.storage.sql.exec(`ALTER TABLE ${from} RENAME TO ${to}`);
  });
}

async function notifiedAt(accountId: string): Promise<Map<string, number | null>> {
  const rows = await db()
    .select({ id: events.id, notifiedAt: events.notifiedAt, type: events.type })
    .from(events)
    .where(eq(events.accountId, accountId));
  return new Map(rows.filter((r) => r.type !== "system").map((r) => [r.id, r.notifiedAt]));
}

const ids = (list: Record<string, unknown>[]) => list.map((e) => String(e.id)).sort();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the sweep of events never notified", () => {
  it("queues the events of a failed fan-out that was never re-sent, once they are a minute old, exactly once", async () => {
    const acme = await tenant("Acme Sweep");
    const node = await createNode(acme.admin);
    const bucket = bucketName("sweep");
    const hook = await createIntegration(acme.accountId, { settings: { url: hubUrl(bucket) }, events: { hit: true } });
    await breakOutbox(hook, true);

    const batch = [hit(), hit(), hit()];
    expect((await postEvents(node.token, { events: batch })).status).toBe(503);
    await breakOutbox(hook, false);
    // The node gives up: nothing re-sends the request.
    expect([...(await notifiedAt(acme.accountId)).values()]).toEqual([null, null, null]);

    // Too young: the request that stored them may still be fanning them out.
    await sweepUnnotifiedEvents(env, Date.now());
    expect((await queued(hook)).size).toBe(0);

    // The minute cron runs only the sweep; a minute later it queues them.
    await runScheduled(
      createScheduledController({ cron: SWEEP_CRON, scheduledTime: Date.now() + 120_000 }),
      env,
      createExecutionContext(),
    );
    expect([...(await queued(hook)).keys()].sort()).toEqual(ids(batch));
    for (const at of (await notifiedAt(acme.accountId)).values()) expect(at).toBeGreaterThan(0);
    const [delivered] = await waitForRequests(bucket, 1);
    expect((JSON.parse(delivered!.body) as { id: string }[]).map((n) => n.id).sort()).toEqual(ids(batch));

    // Marked: later runs queue nothing more, and the receiver got each event once.
    const again = await sweepUnnotifiedEvents(env, Date.now() + 180_000);
    expect(again.failed).toBe(0);
    await sleep(300);
    const received = (await hubRequests(bucket)).flatMap((r) =>
      (JSON.parse(r.body) as { id: string }[]).map((n) => n.id),
    );
    expect(received.sort()).toEqual(ids(batch));
  });

  it("leaves them for the next run when fan-out fails again", async () => {
    const acme = await tenant("Acme Sweep Again");
    const node = await createNode(acme.admin);
    const hook = await createIntegration(acme.accountId, {
      settings: { url: hubUrl(bucketName("sweep-again")) },
      events: { hit: true },
    });
    await breakOutbox(hook, true);
    const batch = [hit()];
    expect((await postEvents(node.token, { events: batch })).status).toBe(503);

    const failed = await sweepUnnotifiedEvents(env, Date.now() + 120_000);
    expect(failed.failed).toBeGreaterThanOrEqual(1);
    expect([...(await notifiedAt(acme.accountId)).values()]).toEqual([null]);

    await breakOutbox(hook, false);
    await sweepUnnotifiedEvents(env, Date.now() + 120_000);
    expect([...(await queued(hook)).keys()]).toEqual(ids(batch));
  });

  it("holds back, instead of notifying, events older than NOTIFY_MAX_AGE by the time it runs", async () => {
    const acme = await tenant("Acme Sweep Late");
    const node = await createNode(acme.admin);
    const hook = await createIntegration(acme.accountId, {
      settings: { url: hubUrl(bucketName("sweep-late")) },
      events: { hit: true },
    });
    await breakOutbox(hook, true);
    const batch = [hit(), hit()];
    expect((await postEvents(node.token, { events: batch })).status).toBe(503);
    await breakOutbox(hook, false);

    // Two hours on, the events (a minute old when posted) are past the default limit of 1 h.
    const later = Date.now() + 2 * 3_600_000;
    const result = await sweepUnnotifiedEvents(env, later);
    expect(result.heldBack).toBeGreaterThanOrEqual(2);
    expect((await queued(hook)).size).toBe(0);
    for (const at of (await notifiedAt(acme.accountId)).values()) expect(at).toBeGreaterThan(0);
    const heldBack = async () =>
      (await db().select().from(heldBackNotices).where(eq(heldBackNotices.nodeId, node.id)))[0];
    expect(await heldBack()).toMatchObject({ pending: 2, lastNoticeAt: null });
    // The next run, a minute on, announces them in one notice.
    await sweepUnnotifiedEvents(env, later + 60_000);
    expect(await heldBack()).toMatchObject({ pending: 0, lastNoticeAt: later + 60_000 });
    const notices = await db().select().from(events).where(eq(events.accountId, acme.accountId));
    const notice = notices.find((e) => e.systemType === "notifications_held_back");
    expect(notice?.data).toMatchObject({ subject: { node_id: node.id, held_back: 2 } });
  });
});
