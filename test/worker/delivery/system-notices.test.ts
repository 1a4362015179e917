/**
 * System-event notices are not lost when publishing fails (the minute cron publishes what is left
 * in the D1 outbox `system_event_outbox`; the account object's alarm finishes a stored event whose
 * fan-out failed), and an admin whose personal email subscribes to `system` gets the
 * auto-disable notice once, not also as the direct admin email.
 */
import {
  createExecutionContext,
  createScheduledController,
  runDurableObjectAlarm,
  runInDurableObject,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { integrations, systemEventOutbox, users } from "../../../worker/db/schema";
import { sweepOutboxes, sweepStep } from "../../../worker/delivery/sweep";
import { buildSystemEvent, type SystemEventRow } from "../../../worker/domain/system-events";
import type { Env } from "../../../worker/env";
import { periodOf, shardName } from "../../../worker/events/shard-names";
import { publishSystemEvents } from "../../../worker/ingest/publish-system-events";
import { type DisableRequest, recordAutoDisable } from "../../../worker/integrations/lifecycle";
import { personalEmailRow } from "../../../worker/integrations/personal-email";
import { uuidv7 } from "../../../worker/lib/ids";
import { DAY_MS } from "../../../worker/lib/time";
import { db, type SeededAccount, seedAccount } from "../helpers";
import { bucketName, hubRequests, hubUrl, mailTo, waitForRequests } from "../hub";
import { accountObject, OUTBOX_TABLE, queued, shardNames, storedEvents } from "../ingest/support";
import { createIntegration, stubFor } from "./fixtures";

let acme: SeededAccount;
beforeAll(async () => {
  acme = await seedAccount("Acme Notices");
});

const request = (): DisableRequest => ({
  reason: "auto_failure_ratio",
  details: {
    requests: 20,
    failed: 20,
    failure_ratio: 1,
    window_seconds: 43_200,
    threshold_ratio: 0.6,
    min_requests: 20,
  },
  at: Date.now(),
});

/** The env with an account object that cannot be reached (every publish fails). */
function unreachableAccountObject(): Env {
  const namespace = {
    idFromName: (name: string) => env.ACCOUNT_DO.idFromName(name),
    get: () => ({
      recordSystemEvents: () => Promise.reject(new Error("account object unreachable")),
      controlChanged: () => Promise.resolve({ committedSeq: 0 }),
    }),
  };
  return { ...env, ACCOUNT_DO: namespace as unknown as Env["ACCOUNT_DO"] };
}

/**
 * The auto-disable notice as stored with the account's events (null until published), after the
 * account object wrote its pending processed marks (they otherwise ride on its next shard write).
 */
async function autoDisableNotice(integrationId: string) {
  await runInDurableObject(accountObject(acme.accountId), (instance) => instance.flushMarks());
  const rows = (await storedEvents(acme.accountId)).filter((row) => row.systemType === "integration_auto_disabled");
  return rows.find((row) => row.data.includes(integrationId)) ?? null;
}

/** The notice while it waits in the D1 outbox. */
async function outboxRow(integrationId: string) {
  const rows = await db().select().from(systemEventOutbox).where(eq(systemEventOutbox.accountId, acme.accountId));
  return rows.find((row) => JSON.stringify(row.data).includes(integrationId)) ?? null;
}

const noticesIn = async (bucket: string, eventId: string) =>
  (await hubRequests(bucket)).filter((r) => r.body.includes(eventId));

/** Notifications with this id the integration's outbox ever held (any delivery state). */
async function queuedCopies(integrationId: string, notificationId: string): Promise<number> {
  const page = await stubFor(integrationId).listDeliveries({ limit: 50 });
  return page.deliveries.flatMap((d) => d.notifications).filter((n) => n.id === notificationId).length;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One system event 3, 2 and 0 days ago: with EVENT_SHARD_HOURS 24, three periods, three shards. */
function threeDaysOfEvents(accountId: string, now: number) {
  return [3, 2, 0].map((daysAgo) =>
    buildSystemEvent(accountId, "node_created", "admin@acme.test", "A node was created.", {}, now - daysAgo * DAY_MS),
  );
}

describe("system events whose publishing failed", () => {
  it("stay in the D1 outbox; the minute cron publishes them once 30 s old, exactly once", async () => {
    const noticeBucket = bucketName("notices");
    const noticeId = await createIntegration(acme.accountId, {
      settings: { url: hubUrl(noticeBucket, "/hook") },
      events: { system: true },
    });
    const failing = await createIntegration(acme.accountId, { settings: { url: hubUrl(bucketName("failing")) } });

    expect(await recordAutoDisable(unreachableAccountObject(), failing, request())).toBe("disabled");
    const waiting = await outboxRow(failing);
    expect(waiting).toMatchObject({ systemType: "integration_auto_disabled" });
    expect(await autoDisableNotice(failing)).toBeNull();
    // The object's retry finds it disabled already and sends nothing: only the cron can help.
    expect(await recordAutoDisable(env, failing, request())).toBe("already_disabled");

    // Too young: the change that raised it may still be publishing it.
    expect(await sweepOutboxes(env, Date.now())).toMatchObject({ republished: 0 });
    expect(await noticesIn(noticeBucket, waiting!.id)).toHaveLength(0);

    const inAMinute = () => createScheduledController({ scheduledTime: Date.now() + 60_000 });
    await sweepStep(inAMinute(), env, createExecutionContext());
    const [delivered] = await waitForRequests(noticeBucket, 1);
    expect(delivered!.body).toContain("integration_auto_disabled");
    expect(await outboxRow(failing)).toBeNull();
    expect((await autoDisableNotice(failing))?.processed).toBe(true);

    // Gone from the outbox: the next runs publish nothing more.
    expect(await sweepOutboxes(env, Date.now() + 60_000)).toMatchObject({ republished: 0 });
    await sleep(300);
    expect(await noticesIn(noticeBucket, waiting!.id)).toHaveLength(1);
    expect(await queuedCopies(noticeId, waiting!.id)).toBe(1);
  });

  it("a stored notice whose fan-out failed is finished by the account object's alarm", async () => {
    const notices = await createIntegration(acme.accountId, {
      settings: { url: hubUrl(bucketName("n")) },
      events: { system: true },
    });
    await stubFor(notices).enqueue(notices, []);
    const rename = (from: string, to: string) =>
      runInDurableObject(stubFor(notices), async (_instance, state) => {
        state.storage.sql.exec(`ALTER TABLE ${from} RENAME TO ${to}`);
      });
    const failing = await createIntegration(acme.accountId, { settings: { url: hubUrl(bucketName("failing")) } });
    await rename(OUTBOX_TABLE, `${OUTBOX_TABLE}_broken`);
    expect(await recordAutoDisable(env, failing, request())).toBe("disabled");
    await rename(`${OUTBOX_TABLE}_broken`, OUTBOX_TABLE);
    // Stored with the account's events (so out of the D1 outbox), not yet fanned out.
    expect(await outboxRow(failing)).toBeNull();
    const notice = await autoDisableNotice(failing);
    expect(notice?.processed).toBe(false);

    const account = accountObject(acme.accountId);
    await runInDurableObject(account, (instance) => {
      instance.clock = () => Date.now() + 120_000;
    });
    await runDurableObjectAlarm(account);
    expect((await queued(notices)).has(notice!.id)).toBe(true);
    expect((await autoDisableNotice(failing))?.processed).toBe(true);
  });

  it("spanning several shards are stored in each, and each shard's write is recorded for the sweep", async () => {
    const spread = await seedAccount("Acme Notices Spread");
    const now = Date.now();
    // EVENT_SHARD_HOURS is 24: three days apart, three periods, three shards written together.
    const events = threeDaysOfEvents(spread.accountId, now);
    expect(await publishSystemEvents(env, spread.accountId, events)).toBe(true);
    const shards = await shardNames(spread.accountId);
    expect(shards).toHaveLength(3);
    expect((await storedEvents(spread.accountId)).map((row) => row.id).sort()).toEqual(events.map((e) => e.id).sort());
    const recorded = await runInDurableObject(accountObject(spread.accountId), (instance) =>
      instance.store.shardsWrittenSince(0).map((row) => row.shard),
    );
    expect(recorded.sort()).toEqual([...shards].sort());
  });

  it("a shard write that fails refuses the batch; the shards written beside it are recorded, and a retry stores each event once", async () => {
    const spread = await seedAccount("Acme Notices Spread Failing");
    const now = Date.now();
    const events = threeDaysOfEvents(spread.accountId, now);
    const unreachable = shardName(spread.accountId, periodOf((events[0] as SystemEventRow).occurredAt, 24).start, 0);
    const account = accountObject(spread.accountId);
    await runInDurableObject(account, (instance) => {
      const real = instance.environment;
      const shards = real.EVENT_SHARD_DO;
      const failing = shards.idFromName(unreachable);
      const namespace = {
        idFromName: (name: string) => shards.idFromName(name),
        get: (id: DurableObjectId) =>
          id.equals(failing) ? { insert: () => Promise.reject(new Error("shard unreachable")) } : shards.get(id),
      };
      (instance as unknown as { environment: Env }).environment = {
        ...real,
        EVENT_SHARD_DO: namespace as unknown as Env["EVENT_SHARD_DO"],
      };
    });
    expect(await publishSystemEvents(env, spread.accountId, events)).toBe(false);
    const recorded = () =>
      runInDurableObject(account, (instance) =>
        instance.store
          .shardsWrittenSince(0)
          .map((row) => row.shard)
          .sort(),
      );
    const holding = async () => [...new Set((await storedEvents(spread.accountId)).map((row) => row.id))].length;
    expect(await holding()).toBe(2);
    expect(await recorded()).toHaveLength(2);
    expect(await recorded()).not.toContain(unreachable);

    await runInDurableObject(account, (instance) => {
      (instance as unknown as { environment: Env }).environment = env;
    });
    expect(await publishSystemEvents(env, spread.accountId, events)).toBe(true);
    expect((await storedEvents(spread.accountId)).map((row) => row.id).sort()).toEqual(events.map((e) => e.id).sort());
    expect(await recorded()).toEqual((await shardNames(spread.accountId)).sort());
  });

  it("are stored and fanned out at once when publishing succeeds", async () => {
    const failing = await createIntegration(acme.accountId, { settings: { url: hubUrl(bucketName("failing")) } });
    expect(await recordAutoDisable(env, failing, request())).toBe("disabled");
    expect(await outboxRow(failing)).toBeNull();
    expect((await autoDisableNotice(failing))?.processed).toBe(true);
  });
});

describe("the auto-disable email to admins", () => {
  it("skips an admin whose enabled personal email subscribes to system; the others get it", async () => {
    const globex = await seedAccount("Globex Notices");
    const subscribedAdmin = { id: globex.users.admin.id, email: globex.users.admin.email };
    await db()
      .insert(integrations)
      .values({ ...personalEmailRow(globex.accountId, subscribedAdmin), events: { system: true } });
    // A second admin whose personal email does not subscribe to system.
    const plainAdmin = { id: uuidv7(), email: `second-admin-${uuidv7()}@globex.test` };
    const [hash] = await db().select({ h: users.passwordHash }).from(users).where(eq(users.id, subscribedAdmin.id));
    const now = Date.now();
    await db()
      .insert(users)
      .values({
        ...plainAdmin,
        accountId: globex.accountId,
        role: "admin",
        passwordHash: hash!.h,
        createdAt: now,
        updatedAt: now,
      });
    await db().insert(integrations).values(personalEmailRow(globex.accountId, plainAdmin));

    const failing = await createIntegration(globex.accountId, {
      name: `Failing ${uuidv7()}`,
      settings: { url: hubUrl(bucketName("failing")) },
    });
    const name = (await db().select().from(integrations).where(eq(integrations.id, failing)))[0]!.name;
    expect(await recordAutoDisable(env, failing, request())).toBe("disabled");

    const aboutIt = async (address: string) => (await mailTo(address)).filter((m) => m.text.includes(name));
    const deadline = Date.now() + 10_000;
    while ((await aboutIt(subscribedAdmin.email)).length + (await aboutIt(plainAdmin.email)).length < 2) {
      if (Date.now() > deadline) throw new Error("the notices did not arrive");
      await sleep(100);
    }
    await sleep(500); // room for a duplicate to show up
    const subscribedMails = await aboutIt(subscribedAdmin.email);
    expect(subscribedMails).toHaveLength(1);
    // It came through the personal email integration (the system notification), not the direct mail.
    expect(subscribedMails[0]!.subject).not.toContain("was disabled automatically");
    const plainMails = await aboutIt(plainAdmin.email);
    expect(plainMails.map((m) => m.subject)).toEqual([expect.stringContaining("was disabled automatically")]);
  });
});
