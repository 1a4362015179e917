/**
 * System-event notices are not lost when fan-out fails (the sweep re-publishes events whose
 * `notified_at` is still NULL), and an admin whose personal email subscribes to `system` gets the
 * auto-disable notice once, not also as the direct admin email.
 */
import { createExecutionContext, createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { events, integrations, users } from "../../../worker/db/schema";
import { sweepStep, sweepUnnotifiedEvents } from "../../../worker/delivery/sweep";
import type { Env } from "../../../worker/env";
import { type DisableRequest, recordAutoDisable } from "../../../worker/integrations/lifecycle";
import { personalEmailRow } from "../../../worker/integrations/personal-email";
import { uuidv7 } from "../../../worker/lib/ids";
import { db, type SeededAccount, seedAccount } from "../helpers";
import { bucketName, hubRequests, hubUrl, mailTo, waitForRequests } from "../hub";
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

/** The env with an IntegrationDO namespace whose objects cannot be reached (every enqueue fails). */
function unreachableOutboxes(): Env {
  const namespace = {
    idFromName: (name: string) => env.INTEGRATION_DO.idFromName(name),
    get: () => ({ enqueue: () => Promise.reject(new Error("outbox unreachable")) }),
  };
  return { ...env, INTEGRATION_DO: namespace as unknown as Env["INTEGRATION_DO"] };
}

async function autoDisableNotice(integrationId: string) {
  const rows = await db()
    .select()
    .from(events)
    .where(and(eq(events.accountId, acme.accountId), eq(events.systemType, "integration_auto_disabled")));
  return rows.find((row) => JSON.stringify(row.data).includes(integrationId));
}

const noticesIn = async (bucket: string, eventId: string) =>
  (await hubRequests(bucket)).filter((r) => r.body.includes(eventId));

/** Notifications with this id the integration's outbox ever held (any delivery state). */
async function queuedCopies(integrationId: string, notificationId: string): Promise<number> {
  const page = await stubFor(integrationId).listDeliveries({ limit: 50 });
  return page.deliveries.flatMap((d) => d.notifications).filter((n) => n.id === notificationId).length;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("system events whose fan-out failed", () => {
  it("are re-published by the sweep once they are a minute old, exactly once", async () => {
    const noticeBucket = bucketName("notices");
    const noticeId = await createIntegration(acme.accountId, {
      settings: { url: hubUrl(noticeBucket, "/hook") },
      events: { system: true },
    });
    const failing = await createIntegration(acme.accountId, { settings: { url: hubUrl(bucketName("failing")) } });

    expect(await recordAutoDisable(unreachableOutboxes(), failing, request())).toBe("disabled");
    const notice = await autoDisableNotice(failing);
    expect(notice).toMatchObject({ type: "system", notifiedAt: null });
    // The object's retry finds it disabled already and sends nothing: only the cron can help.
    expect(await recordAutoDisable(env, failing, request())).toBe("already_disabled");

    // Too young: the request that raised it may still be publishing it.
    expect(await sweepUnnotifiedEvents(env, Date.now())).toMatchObject({ notified: 0, failed: 0 });
    expect(await noticesIn(noticeBucket, notice!.id)).toHaveLength(0);

    const inTwoMinutes = () => createScheduledController({ scheduledTime: Date.now() + 120_000 });
    await sweepStep(inTwoMinutes(), env, createExecutionContext());
    const [delivered] = await waitForRequests(noticeBucket, 1);
    expect(delivered!.body).toContain("integration_auto_disabled");
    expect((await autoDisableNotice(failing))!.notifiedAt).toBeGreaterThan(0);

    // Marked: the next runs publish nothing more.
    await sweepStep(inTwoMinutes(), env, createExecutionContext());
    expect(await sweepUnnotifiedEvents(env, Date.now() + 120_000)).toMatchObject({ notified: 0, failed: 0 });
    await sleep(300);
    expect(await noticesIn(noticeBucket, notice!.id)).toHaveLength(1);
    expect(await queuedCopies(noticeId, notice!.id)).toBe(1);
  });

  it("a failed re-publish leaves the event for the next run", async () => {
    const failing = await createIntegration(acme.accountId, { settings: { url: hubUrl(bucketName("failing")) } });
    await createIntegration(acme.accountId, { settings: { url: hubUrl(bucketName("n")) }, events: { system: true } });
    await recordAutoDisable(unreachableOutboxes(), failing, request());
    const later = Date.now() + 120_000;
    const again = await sweepUnnotifiedEvents(unreachableOutboxes(), later);
    expect(again.failed).toBeGreaterThanOrEqual(1);
    expect((await autoDisableNotice(failing))!.notifiedAt).toBeNull();
    expect((await sweepUnnotifiedEvents(env, later)).notified).toBeGreaterThanOrEqual(1);
    expect((await autoDisableNotice(failing))!.notifiedAt).toBeGreaterThan(0);
  });

  it("are marked notified at once when fan-out succeeds", async () => {
    const failing = await createIntegration(acme.accountId, { settings: { url: hubUrl(bucketName("failing")) } });
    expect(await recordAutoDisable(env, failing, request())).toBe("disabled");
    expect((await autoDisableNotice(failing))!.notifiedAt).toBeGreaterThan(0);
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
