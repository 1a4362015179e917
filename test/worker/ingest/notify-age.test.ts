/**
 * NOTIFY_MAX_AGE (1 h in wrangler.toml): events older than that when they arrive — a node posting
 * its backlog after an outage, a simulator's backfill — are stored and counted but not notified,
 * and one system notice per node says what was held back, however many requests the backlog took.
 */

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { heldBackNotices, nodes } from "../../../worker/db/schema";
import { parseNotifyMaxAge } from "../../../worker/domain/notify-age";
import { announceHeldBack, HELD_BACK_COLLECT_MS, HELD_BACK_SPACING_MS } from "../../../worker/ingest/held-back";
import { db } from "../helpers";
import {
  accountObject,
  createNode,
  hit,
  integration,
  json,
  postEvents,
  queued,
  rollups,
  storedEvents,
  tenant,
} from "./support";

const HOUR = 3_600_000;
const MAX_AGE = parseNotifyMaxAge(env.NOTIFY_MAX_AGE);
const hoursAgo = (hours: number) => new Date(Date.now() - hours * HOUR).toISOString();

async function notices(accountId: string) {
  const rows = (await storedEvents(accountId)).filter((row) => row.systemType === "notifications_held_back");
  return rows.map((row) => JSON.parse(row.data) as { message: string; subject: Record<string, unknown> });
}

const pendingOf = async (nodeId: string) =>
  (await db().select().from(heldBackNotices).where(eq(heldBackNotices.nodeId, nodeId)))[0];

describe("the notification age limit", () => {
  it("reads seconds or a duration, 1 h by default, 0 for no limit, and refuses anything else", () => {
    expect(MAX_AGE).toBe(HOUR);
    expect(parseNotifyMaxAge(undefined)).toBe(HOUR);
    expect(parseNotifyMaxAge("900")).toBe(900_000);
    expect(parseNotifyMaxAge("90s")).toBe(90_000);
    expect(parseNotifyMaxAge("30m")).toBe(1_800_000);
    expect(parseNotifyMaxAge("2d")).toBe(2 * 86_400_000);
    expect(parseNotifyMaxAge("0")).toBeNull();
    expect(() => parseNotifyMaxAge("an hour")).toThrow(/NOTIFY_MAX_AGE/);
    expect(() => parseNotifyMaxAge("-5")).toThrow(/NOTIFY_MAX_AGE/);
  });

  it("stores and counts a late backlog but does not notify it; fresh events in the same request are notified", async () => {
    const acme = await tenant("Acme Late");
    const node = await createNode(acme.admin);
    const hits = await integration(acme.accountId, { hit: true });
    const late = [hit({ occurred_at: hoursAgo(5) }), hit({ occurred_at: hoursAgo(1.5) })];
    const fresh = hit();

    const res = await postEvents(node.token, { events: [...late, fresh] });
    expect(res.status).toBe(202);
    expect(await json(res)).toEqual({ accepted: 3, duplicates: 0 });
    expect([...(await queued(hits)).keys()]).toEqual([fresh.id]);

    const stored = await storedEvents(acme.accountId);
    expect(stored.filter((e) => e.type === "hit")).toHaveLength(3);
    // Counted: the hourly rollups (reports) and the node's counter include the late ones.
    const totals = (await rollups(acme.accountId)).filter((row) => row.dimension === "total");
    expect(totals.reduce((n, row) => n + row.count, 0)).toBe(3);
    await runInDurableObject(accountObject(acme.accountId), (instance) => instance.flushNodes(Date.now(), true));
    const [nodeRow] = await db().select().from(nodes).where(eq(nodes.id, node.id));
    expect(nodeRow?.eventsCount).toBe(3);
    expect(await pendingOf(node.id)).toMatchObject({
      pending: 2,
      oldestAt: Date.parse(String(late[0]!.occurred_at)),
      newestAt: Date.parse(String(late[1]!.occurred_at)),
    });
  });

  it("sums a backlog posted in many requests into one notice per node, at most one per spacing", async () => {
    const acme = await tenant("Acme Backlog");
    const node = await createNode(acme.admin, "edge-fra-1");
    const other = await createNode(acme.admin, "edge-ams-1");
    const hits = await integration(acme.accountId, { hit: true });
    const system = await integration(acme.accountId, { system: true });

    // A backlog of 30 late hits in three requests, and one late hit from another node.
    for (let part = 0; part < 3; part++) {
      const batch = Array.from({ length: 10 }, (_, i) => hit({ occurred_at: hoursAgo(24 - part * 6 - i * 0.1) }));
      expect((await postEvents(node.token, { events: batch })).status).toBe(202);
    }
    expect((await postEvents(other.token, { events: [hit({ occurred_at: hoursAgo(3) })] })).status).toBe(202);
    expect((await queued(hits)).size).toBe(0);

    // Before the collection time nothing is announced; after it, one notice per node.
    const t0 = Date.now();
    const announce = async (at: number) =>
      (await announceHeldBack(env, MAX_AGE, at, node.id)) + (await announceHeldBack(env, MAX_AGE, at, other.id));
    expect(await announce(t0)).toBe(0);
    expect(await announce(t0 + HELD_BACK_COLLECT_MS + 1000)).toBe(2);
    expect(await announce(t0 + HELD_BACK_COLLECT_MS + 2000)).toBe(0);
    const sent = await notices(acme.accountId);
    expect(sent).toHaveLength(2);
    const mine = sent.find((n) => n.subject.node_id === node.id)!;
    expect(mine.subject).toMatchObject({ node_name: "edge-fra-1", held_back: 30, notify_max_age_seconds: 3600 });
    expect(mine.message).toMatch(/^30 events from node "edge-fra-1" arrived more than 1 h after they occurred/);
    expect(sent.find((n) => n.subject.node_id === other.id)?.subject).toMatchObject({ held_back: 1 });
    // Published to the integration subscribed to system events.
    const queuedNotices = [...(await queued(system)).values()].filter(
      (item) => item.notification.details.notification_type === "notifications_held_back",
    );
    expect(queuedNotices).toHaveLength(2);

    // More late events within the spacing wait for the next notice, even past their collection time.
    expect((await postEvents(node.token, { events: [hit({ occurred_at: hoursAgo(2) })] })).status).toBe(202);
    const announcedAt = t0 + HELD_BACK_COLLECT_MS + 1000;
    expect(await announce(announcedAt + HELD_BACK_SPACING_MS - 1000)).toBe(0);
    expect(await pendingOf(node.id)).toMatchObject({ pending: 1 });
    expect(await announce(announcedAt + HELD_BACK_SPACING_MS)).toBe(1);
    expect(await notices(acme.accountId)).toHaveLength(3);
  });

  it("a re-sent late batch counts nothing twice", async () => {
    const acme = await tenant("Acme Late Resend");
    const node = await createNode(acme.admin);
    await integration(acme.accountId, { hit: true });
    const batch = [hit({ occurred_at: hoursAgo(3) }), hit({ occurred_at: hoursAgo(2) })];
    expect((await postEvents(node.token, { events: batch })).status).toBe(202);
    expect((await postEvents(node.token, { events: batch })).status).toBe(202);
    expect(await pendingOf(node.id)).toMatchObject({ pending: 2 });
  });

  it("late events nobody subscribes to are not counted as held back", async () => {
    const acme = await tenant("Acme Late Unwanted");
    const node = await createNode(acme.admin);
    await integration(acme.accountId, { security_issue: ["critical"] });
    expect((await postEvents(node.token, { events: [hit({ occurred_at: hoursAgo(3) })] })).status).toBe(202);
    expect(await pendingOf(node.id)).toBeUndefined();
  });
});
