/**
 * The account object and its shards (docs/data-plane.md): events split by UTC period, tenants
 * never share a shard, concurrent requests are written as one group, the disable marker and the
 * replay use the account seq, and retention drops whole shards.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { integrations } from "../../../worker/db/schema";
import { eventShardObject } from "../../../worker/events/objects";
import { periodOf, shardName } from "../../../worker/events/shard-names";
import { AccountStore, SEQ_BLOCK } from "../../../worker/ingest/account-store";
import { announceControlChange } from "../../../worker/ingest/control-change";
import { DAY_MS } from "../../../worker/lib/time";
import { dropExpiredShards } from "../../../worker/retention";
import { api, db, login, seedAccount } from "../helpers";
import {
  accountObject,
  createNode,
  hit,
  integration,
  json,
  postEvents,
  queued,
  rollups,
  scopeChange,
  shardNames,
  storedEvents,
  stub,
  tenant,
} from "./support";

const dayShard = (accountId: string, at: number) => shardName(accountId, periodOf(at, 24).start, 0);

describe("events across shards", () => {
  it("split at UTC midnight (not the account's local one), each re-sent event landing once", async () => {
    // Tokyo's local midnight is 15:00 UTC: shards follow UTC whatever the account's time zone.
    const account = await seedAccount("Acme Tokyo", "Asia/Tokyo");
    const node = await createNode(await login(account.users.admin.email));
    const midnight = Date.UTC(2026, 0, 6);
    const before = hit({ occurred_at: new Date(midnight - 1).toISOString() });
    const atMidnight = hit({ occurred_at: new Date(midnight).toISOString() });
    const tokyoMidnight = hit({ occurred_at: new Date(midnight - 9 * 3_600_000).toISOString() });
    // A late event (days old) and an early one (a node clock a few minutes ahead).
    const late = hit({ occurred_at: new Date(Date.now() - 3 * DAY_MS).toISOString() });
    const early = hit({ occurred_at: new Date(Date.now() + 4 * 60_000).toISOString() });
    const batch = [before, atMidnight, tokyoMidnight, late, early];
    expect(await json(await postEvents(node.token, { events: batch }))).toEqual({ accepted: 5, duplicates: 0 });

    const shardOf = (event: Record<string, unknown>) =>
      dayShard(account.accountId, Date.parse(String(event.occurred_at)));
    expect(shardOf(before)).not.toBe(shardOf(atMidnight));
    expect(shardOf(tokyoMidnight)).toBe(shardOf(before));
    const names = await shardNames(account.accountId);
    for (const event of batch) expect(names).toContain(shardOf(event));
    for (const name of names) {
      const inShard = (await eventShardObject(env, name).list({ limit: 100 })).events.filter((e) => e.type === "hit");
      expect(inShard.map((e) => e.id).sort()).toEqual(
        batch
          .filter((e) => shardOf(e) === name)
          .map((e) => String(e.id))
          .sort(),
      );
    }
    // The hours either side of midnight are counted in their own shard's rollups.
    const hours = (await rollups(account.accountId)).filter((r) => r.dimension === "total");
    expect(hours.find((r) => r.hour === midnight - 3_600_000)?.count).toBe(1);
    expect(hours.find((r) => r.hour === midnight)?.count).toBe(1);

    // Re-sent (the same instants in another offset): every event lands once.
    const resent = batch.map((e) => ({ ...e }));
    expect(await json(await postEvents(node.token, { events: resent }))).toEqual({ accepted: 0, duplicates: 5 });
    expect((await storedEvents(account.accountId)).filter((e) => e.type === "hit")).toHaveLength(5);
  });

  it("never share a shard between tenants, even for the same event id and time", async () => {
    const acme = await tenant("Acme Isolated");
    const globex = await tenant("Globex Isolated");
    const event = hit();
    const acmeNode = await createNode(acme.admin);
    const globexNode = await createNode(globex.admin);
    const acmeHook = await integration(acme.accountId, { hit: true });
    const globexHook = await integration(globex.accountId, { hit: true, scope_change: true });
    const globexOnly = scopeChange();
    await postEvents(acmeNode.token, { events: [event] });
    await postEvents(globexNode.token, { events: [event, globexOnly] });

    const acmeShards = await shardNames(acme.accountId);
    const globexShards = await shardNames(globex.accountId);
    expect(acmeShards.every((name) => name.startsWith(`${acme.accountId}/`))).toBe(true);
    expect(globexShards.every((name) => name.startsWith(`${globex.accountId}/`))).toBe(true);
    const acmeEvents = (await storedEvents(acme.accountId)).filter((e) => e.type !== "system");
    expect(acmeEvents.map((e) => [e.id, e.nodeId])).toEqual([[event.id, acmeNode.id]]);
    expect([...(await queued(acmeHook)).keys()]).toEqual([event.id]);
    expect([...(await queued(globexHook)).keys()].sort()).toEqual([event.id, globexOnly.id].map(String).sort());
    // Each account object only knows its own nodes.
    expect((await postEvents(acmeNode.token, { events: [hit()] })).status).toBe(202);
    const wrongAccount = await accountObject(globex.accountId).ingest({
      tokenHash: "not-a-globex-token",
      nodeId: acmeNode.id,
      events: [],
      receivedAt: Date.now(),
      limit: 600,
    });
    expect(wrongAccount).toEqual({ outcome: "unknown_token" });
  });
});

describe("a period that outgrows its target", () => {
  it("is split at the next whole hour: stored events keep their shard, later ones spread over twice the fanout", async () => {
    const acme = await tenant("Acme Growing");
    const node = await createNode(acme.admin);
    const first = hit();
    await postEvents(node.token, { events: [first] });
    const period = periodOf(Date.parse(String(first.occurred_at)), 24);
    const now = Date.now();
    const cutover = Math.ceil((now + 5 * 60_000) / 3_600_000) * 3_600_000;
    // The shard reports more than EVENT_SHARD_TARGET_BYTES (1 GiB) to the account object's alarm.
    const split = await runInDurableObject(accountObject(acme.accountId), (instance) =>
      instance.directory.splitIfGrown(period.start, 2 * 1024 ** 3, now),
    );
    if (cutover >= period.end) {
      expect(split).toBe(false); // too close to the period's end: nothing left to split
      return;
    }
    expect(split).toBe(true);
    const rows = await env.DB.prepare(
      "SELECT period_start, period_end, fanout FROM event_shards WHERE account_id = ?1 ORDER BY period_start, sub",
    )
      .bind(acme.accountId)
      .all<{ period_start: number; period_end: number; fanout: number }>();
    expect(rows.results[0]).toEqual({ period_start: period.start, period_end: cutover, fanout: 1 });
    expect(rows.results.slice(1)).toEqual([
      { period_start: cutover, period_end: period.end, fanout: 2 },
      { period_start: cutover, period_end: period.end, fanout: 2 },
    ]);
    // Stored events keep their shard: a re-send is a duplicate; events after the cut-over go to the rest.
    expect(await json(await postEvents(node.token, { events: [first] }))).toEqual({ accepted: 0, duplicates: 1 });
    const [later] = await runInDurableObject(accountObject(acme.accountId), (instance) =>
      instance.directory.routes([{ id: crypto.randomUUID(), occurredAt: cutover + 1000 }]),
    );
    expect(later?.period).toEqual({ start: cutover, end: period.end });
    expect(later?.fanout).toBe(2);
  });
});

describe("grouping of concurrent requests", () => {
  it("writes concurrent requests in groups: fewer enqueues and shard inserts than requests, each event once", async () => {
    const acme = await tenant("Acme Grouped");
    const nodes = await Promise.all([createNode(acme.admin, "a"), createNode(acme.admin, "b")]);
    const hook = await integration(acme.accountId, { hit: true });
    const counts = { enqueue: 0 };
    await stub(hook).enqueue(hook, []);
    // Counted inside the object: each enqueue call stores its items in one go (DeliveryStore.enqueue).
    await runInDurableObject(stub(hook), (instance) => {
      const store = (instance as unknown as { store: { enqueue: (...args: unknown[]) => unknown } }).store;
      const enqueue = store.enqueue.bind(store);
      store.enqueue = (...args: unknown[]) => {
        if ((args[0] as unknown[]).length > 0) counts.enqueue++;
        return enqueue(...args);
      };
    });
    const requests = 16;
    const batches = Array.from({ length: requests }, () => [hit(), hit()]);
    const answers = await Promise.all(
      batches.map((events, i) => postEvents((nodes[i % 2] as { token: string }).token, { events })),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(requests).fill(202));
    const all = batches.flat().map((e) => String(e.id));
    expect([...(await queued(hook)).keys()].sort()).toEqual(all.sort());
    // The first request is written alone; the ones arriving meanwhile join the next groups.
    expect(counts.enqueue).toBeGreaterThan(0);
    expect(counts.enqueue).toBeLessThan(requests / 2);
  });
});

describe("the account seq: disable markers and replay", () => {
  it("a disable records the seq its control change answered; replay queues exactly the events after it", async () => {
    const acme = await tenant("Acme Replay");
    const node = await createNode(acme.admin);
    const hook = await integration(acme.accountId, { hit: true });
    const before = hit();
    await postEvents(node.token, { events: [before] });

    const disabled = await api(acme.admin, "POST", `/api/integrations/${hook}/disable`, {});
    expect(disabled.status).toBe(200);
    const row = await db().query.integrations.findFirst({ where: eq(integrations.id, hook) });
    const marker = row?.disabledAfterSeq as number;
    expect(marker).toBeGreaterThanOrEqual(1);
    const [stored] = (await storedEvents(acme.accountId)).filter((e) => e.id === before.id);
    expect(stored?.seq).toBeLessThanOrEqual(marker);

    const missed = [hit(), hit()];
    const unsubscribed = scopeChange();
    await postEvents(node.token, { events: [...missed, unsubscribed] });
    expect((await queued(hook)).has(String(missed[0]?.id))).toBe(false);
    const { committedSeq } = await announceControlChange(env, acme.accountId);
    const after = hit();
    await postEvents(node.token, { events: [after] });

    expect(await accountObject(acme.accountId).replay(hook, marker, committedSeq)).toEqual({
      replayed: 2,
      truncated: false,
    });
    const keys = [...(await queued(hook)).keys()];
    expect(keys.sort()).toEqual([before.id, ...missed.map((e) => e.id)].map(String).sort());
    // Their notifications link with the time, which names the shard: no row per hit is kept.
    const item = (await queued(hook)).get(String(missed[0]?.id));
    expect(item?.notification.details).toMatchObject({
      link: expect.stringContaining(`/events/${missed[0]?.id}?occurred_at=`),
    });
    expect(await accountObject(acme.accountId).findLinked(String(missed[0]?.id))).toBeNull();
  });
  it("is written once per block, not per group, and a restart continues after every seq handed out", async () => {
    const acme = await tenant("Acme Seq Blocks");
    await runInDurableObject(accountObject(acme.accountId), (instance, state) => {
      const sql = state.storage.sql;
      const storedSeq = () => sql.exec<{ value: number }>(`SELECT value FROM meta WHERE key = 'seq'`).one().value;
      const first = instance.store.allocateSeqs(10);
      const reserved = storedSeq();
      const second = instance.store.allocateSeqs(100);
      expect(second).toBe(first + 10);
      expect(instance.store.lastSeq()).toBe(first + 109);
      // No write for the second group: the first one's reservation covers it.
      expect(storedSeq()).toBe(reserved);
      // A group larger than what is left of the block reserves again, past its own last seq.
      const big = instance.store.allocateSeqs(SEQ_BLOCK);
      expect(storedSeq()).toBeGreaterThanOrEqual(big + SEQ_BLOCK - 1);
      // A restart (a new store over the same storage) hands out only seqs above every one handed out.
      const restarted = new AccountStore(sql);
      expect(restarted.lastSeq()).toBeGreaterThanOrEqual(big + SEQ_BLOCK - 1);
      expect(restarted.allocateSeqs(1)).toBeGreaterThan(big + SEQ_BLOCK - 1);
    });
  });
});

describe("retention", () => {
  it("drops whole shards past EVENT_RETENTION_DAYS, keeping their low-cardinality counters", async () => {
    const acme = await tenant("Acme Retention");
    const node = await createNode(acme.admin);
    const old = [hit({ occurred_at: new Date(Date.now() - 100 * DAY_MS).toISOString() }), hit()];
    const recent = hit();
    old[1] = hit({ occurred_at: old[0]?.occurred_at });
    await postEvents(node.token, { events: [...old, recent] });
    const oldShard = dayShard(acme.accountId, Date.parse(String(old[0]?.occurred_at)));
    expect(await shardNames(acme.accountId)).toContain(oldShard);

    const result = await dropExpiredShards(env);
    expect(result.dropped).toBeGreaterThanOrEqual(1);
    expect(await shardNames(acme.accountId)).not.toContain(oldShard);
    expect((await eventShardObject(env, oldShard).stats()).events).toBe(0);
    expect((await storedEvents(acme.accountId)).map((e) => e.id)).toContain(recent.id);
    // The counters of the dropped day are archived in the account object.
    const hour = Date.parse(String(old[0]?.occurred_at));
    const archived = await runInDurableObject(accountObject(acme.accountId), (instance) =>
      instance.store.archivedRollups(hour - 3_600_000, hour + 3_600_000),
    );
    expect(archived.find((r) => r.eventType === "hit" && r.dimension === "total")?.count).toBe(2);
    // Nothing left to drop: a second run does nothing for this account.
    await dropExpiredShards(env);
    expect(await shardNames(acme.accountId)).toEqual([
      dayShard(acme.accountId, Date.parse(String(recent.occurred_at))),
    ]);
  });

  it("honours EVENT_RETENTION_DAYS", async () => {
    const acme = await tenant("Acme Retention Days");
    const node = await createNode(acme.admin);
    const event = hit({ occurred_at: new Date(Date.now() - 3 * DAY_MS).toISOString() });
    await postEvents(node.token, { events: [event] });
    const shard = dayShard(acme.accountId, Date.parse(String(event.occurred_at)));
    await dropExpiredShards({ ...env, EVENT_RETENTION_DAYS: "7" });
    expect(await shardNames(acme.accountId)).toContain(shard);
    await dropExpiredShards({ ...env, EVENT_RETENTION_DAYS: "2" });
    expect(await shardNames(acme.accountId)).not.toContain(shard);
  });
});
