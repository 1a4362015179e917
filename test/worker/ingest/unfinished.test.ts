/**
 * Stored but never fanned out: when queueing fails the node gets 503 and should re-send; a node
 * that gives up leaves its events stored and unprocessed in their shard. The account object's
 * alarm queues them once they are a minute old, exactly once, and holds back those too old by
 * then (NOTIFY_MAX_AGE).
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { heldBackNotices } from "../../../worker/db/schema";
import { announceHeldBack } from "../../../worker/ingest/held-back";
import { createIntegration } from "../delivery/fixtures";
import { db } from "../helpers";
import { bucketName, hubRequests, hubUrl, waitForRequests } from "../hub";
import {
  accountObject,
  createNode,
  hit,
  OUTBOX_TABLE,
  postEvents,
  queued,
  securityIssue,
  storedEvents,
  stub,
  tenant,
} from "./support";

/** Breaks (or repairs) the DO's outbox so that enqueue fails the way a storage fault would. */
async function breakOutbox(integrationId: string, broken: boolean) {
  if (broken) await stub(integrationId).enqueue(integrationId, []); // builds the tables
  const [from, to] = broken ? [OUTBOX_TABLE, `${OUTBOX_TABLE}_broken`] : [`${OUTBOX_TABLE}_broken`, OUTBOX_TABLE];
  await runInDurableObject(stub(integrationId), async (_instance, state) => {
    state.storage.sql.exec(`ALTER TABLE ${from} RENAME TO ${to}`);
  });
}

/** Runs the account object's alarm as if it fired `aheadMs` from now. */
async function runAlarm(accountId: string, aheadMs: number) {
  const account = accountObject(accountId);
  await runInDurableObject(account, (instance) => {
    instance.clock = () => Date.now() + aheadMs;
  });
  return runDurableObjectAlarm(account);
}

async function processedOf(accountId: string): Promise<boolean[]> {
  return (await storedEvents(accountId)).filter((e) => e.type !== "system").map((e) => e.processed);
}

const ids = (list: Record<string, unknown>[]) => list.map((e) => String(e.id)).sort();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a crash between the shard write and the fan-out", () => {
  it("a re-send after the 503 is notified once", async () => {
    const acme = await tenant("Acme Resend");
    const node = await createNode(acme.admin);
    const bucket = bucketName("resend");
    const hook = await createIntegration(acme.accountId, {
      settings: { url: hubUrl(bucket) },
      events: { hit: true, security_issue: ["high"] },
    });
    await breakOutbox(hook, true);
    const batch = [hit(), securityIssue()];
    expect((await postEvents(node.token, { events: batch })).status).toBe(503);
    await breakOutbox(hook, false);
    expect(await processedOf(acme.accountId)).toEqual([false, false]);

    const resend = await postEvents(node.token, { events: batch });
    expect(resend.status).toBe(202);
    // The issue was decided new before the failure: its upsert does not make the re-send "known".
    expect([...(await queued(hook)).keys()].sort()).toEqual(ids(batch));
    // A second re-send and the alarm queue nothing more: the receiver gets each event once.
    expect((await postEvents(node.token, { events: batch })).status).toBe(202);
    await runAlarm(acme.accountId, 120_000);
    const [delivered] = await waitForRequests(bucket, 1);
    expect(delivered).toBeDefined();
    await sleep(300);
    const received = (await hubRequests(bucket)).flatMap((r) =>
      (JSON.parse(r.body) as { id: string }[]).map((n) => n.id),
    );
    expect(received.sort()).toEqual(ids(batch));
  });

  it("without a re-send, the alarm queues them once they are a minute old, exactly once", async () => {
    const acme = await tenant("Acme Sweep");
    const node = await createNode(acme.admin);
    const bucket = bucketName("sweep");
    const hook = await createIntegration(acme.accountId, { settings: { url: hubUrl(bucket) }, events: { hit: true } });
    await breakOutbox(hook, true);

    const batch = [hit(), hit(), hit()];
    expect((await postEvents(node.token, { events: batch })).status).toBe(503);
    await breakOutbox(hook, false);
    // The node gives up: nothing re-sends the request.
    expect(await processedOf(acme.accountId)).toEqual([false, false, false]);

    // Too young: the request that stored them may still be fanning them out.
    await runAlarm(acme.accountId, 0);
    expect((await queued(hook)).size).toBe(0);

    await runAlarm(acme.accountId, 120_000);
    expect([...(await queued(hook)).keys()].sort()).toEqual(ids(batch));
    expect(await processedOf(acme.accountId)).toEqual([true, true, true]);
    const [delivered] = await waitForRequests(bucket, 1);
    expect((JSON.parse(delivered!.body) as { id: string }[]).map((n) => n.id).sort()).toEqual(ids(batch));

    // Marked: later runs queue nothing more, and the receiver got each event once.
    await runAlarm(acme.accountId, 180_000);
    await sleep(300);
    const received = (await hubRequests(bucket)).flatMap((r) =>
      (JSON.parse(r.body) as { id: string }[]).map((n) => n.id),
    );
    expect(received.sort()).toEqual(ids(batch));
  });

  it("leaves them for the next alarm when fan-out fails again", async () => {
    const acme = await tenant("Acme Sweep Again");
    const node = await createNode(acme.admin);
    const hook = await createIntegration(acme.accountId, {
      settings: { url: hubUrl(bucketName("sweep-again")) },
      events: { hit: true },
    });
    await breakOutbox(hook, true);
    const batch = [hit()];
    expect((await postEvents(node.token, { events: batch })).status).toBe(503);

    await runAlarm(acme.accountId, 120_000);
    expect(await processedOf(acme.accountId)).toEqual([false]);

    await breakOutbox(hook, false);
    await runAlarm(acme.accountId, 120_000);
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
    await runAlarm(acme.accountId, 2 * 3_600_000);
    expect((await queued(hook)).size).toBe(0);
    expect(await processedOf(acme.accountId)).toEqual([true, true]);
    const heldBack = async () =>
      (await db().select().from(heldBackNotices).where(eq(heldBackNotices.nodeId, node.id)))[0];
    expect(await heldBack()).toMatchObject({ pending: 2, lastNoticeAt: null });
    // The minute cron announces them in one notice, stored with the account's events.
    await announceHeldBack(env, 3_600_000, later + 60_000);
    expect(await heldBack()).toMatchObject({ pending: 0, lastNoticeAt: later + 60_000 });
    const notice = (await storedEvents(acme.accountId)).find((e) => e.systemType === "notifications_held_back");
    expect(JSON.parse(String(notice?.data))).toMatchObject({ subject: { node_id: node.id, held_back: 2 } });
  });
});
