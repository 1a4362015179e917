/**
 * The floor of Herald's ingest on this runtime (test/bench/floor.ts). Each step answers `202` after
 * doing one more part of the work Herald must do before that answer, with Herald's own code:
 *   parse     — parse the body (the ingest benchmark's baseline);
 *   validate  — + Herald's validation of every event (all or nothing);
 *   call      — + one call to a Durable Object with the events as JSON text, answered at once;
 *   keys      — + that object stores the request's events as one row, and one de-duplication key
 *               per event: the least any design that stores events and de-duplicates them must write;
 *   bare      — + that object stores them as rows with the de-duplication key only (no list index);
 *   store     — + the rows as an event shard stores them (ShardStore: list indexes, rollups);
 *   enqueue   — + every event's notification queued in a second object (DeliveryStore.enqueue),
 *               as for one webhook subscribed to every hit.
 * What Herald does beyond that — the node check, the account object's hop, seqs, issue decisions,
 * triggers, links, counters — is not here: Herald can only be slower than the step it matches.
 */
import { DurableObject } from "cloudflare:workers";
import { DeliveryStore } from "../../../worker/delivery/store";
import { type NodeEvent, validateIngestBody } from "../../../worker/domain/events";
import type { OutboxItem } from "../../../worker/domain/notification";
import { SHARD_SCHEMA, ShardStore } from "../../../worker/events/shard-store";
import { notifiable, shardRowOf } from "../../../worker/ingest/ingest-group";
import { eventOutboxItem } from "../../../worker/outbox/fan-out";

const STEPS = ["parse", "validate", "call", "keys", "bare", "store", "enqueue"] as const;
type Step = (typeof STEPS)[number];

interface Env {
  SHARD: DurableObjectNamespace<FloorShard>;
  OUTBOX: DurableObjectNamespace<FloorOutbox>;
}

export class FloorShard extends DurableObject {
  private store: ShardStore | null = null;
  /** Seqs unique across restarts of the object: the rowid of each stored event. */
  private seq = Date.now() * 1000;
  private keysReady = false;

  /** `withIndexes` false: the events table and its de-duplication key, without the list indexes. */
  private storeFor(withIndexes: boolean): ShardStore {
    if (this.store) return this.store;
    const sql = this.ctx.storage.sql;
    for (const statement of SHARD_SCHEMA) {
      if (!withIndexes && statement.startsWith("CREATE INDEX")) continue;
      sql.exec(statement);
    }
    this.store = new ShardStore(sql);
    this.store.reloadRollups();
    return this.store;
  }

  take(events: string[]): number {
    return events.length;
  }

  /** One row for the whole request, one (occurred_at, id) key per event; answers how many were new. */
  insertKeys(events: string[]): number {
    const sql = this.ctx.storage.sql;
    if (!this.keysReady) {
      sql.exec("CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY, data TEXT NOT NULL)");
      sql.exec(
        "CREATE TABLE IF NOT EXISTS batch_keys (occurred_at INTEGER NOT NULL, id TEXT NOT NULL, batch INTEGER NOT NULL, PRIMARY KEY (occurred_at, id)) WITHOUT ROWID",
      );
      this.keysReady = true;
    }
    return this.ctx.storage.transactionSync(() => {
      const batch = this.seq++;
      sql.exec("INSERT INTO batches (seq, data) VALUES (?, ?)", batch, `[${events.join(",")}]`);
      let fresh = 0;
      for (const json of events) {
        const event = JSON.parse(json) as NodeEvent;
        const key = [Date.parse(event.occurred_at), event.id, batch];
        fresh += sql.exec("INSERT OR IGNORE INTO batch_keys VALUES (?, ?, ?)", ...key).rowsWritten > 0 ? 1 : 0;
      }
      return fresh;
    });
  }

  insert(events: string[], withIndexes: boolean, nodeId: string): number {
    const store = this.storeFor(withIndexes);
    const receivedAt = Date.now();
    const rows = events.map((json) => {
      const event = JSON.parse(json) as NodeEvent;
      const occurredAt = Date.parse(event.occurred_at);
      return shardRowOf(event, { seq: this.seq++, occurredAt, receivedAt, nodeId, json, processed: true });
    });
    return this.ctx.storage.transactionSync(() => store.insert(rows, true)).filter((row) => row.fresh).length;
  }
}

export class FloorOutbox extends DurableObject {
  private readonly store = new DeliveryStore(this.ctx.storage.sql);

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    this.store.migrate();
  }

  enqueue(items: OutboxItem[]): number {
    return this.ctx.storage.transactionSync(() => this.store.enqueue(items, Date.now()));
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    if (request.method !== "POST") return new Response("floor", { status: 200 });
    // The load generator posts to <url>/<step>/v1/events.
    const step = new URL(request.url).pathname.split("/")[1] as Step;
    if (!STEPS.includes(step)) return new Response(`unknown step ${step}`, { status: 404 });
    const body = await request.json();
    if (step === "parse") {
      const accepted = Array.isArray((body as { events?: unknown[] }).events)
        ? (body as { events: unknown[] }).events.length
        : 0;
      return Response.json({ accepted, duplicates: 0 }, { status: 202 });
    }
    const validation = validateIngestBody(body);
    if (!validation.ok) return Response.json({ errors: validation.errors }, { status: 400 });
    const events = validation.events.map((event) => ({ ...event, id: event.id ?? crypto.randomUUID() }));
    let accepted = events.length;
    if (step !== "validate") {
      // Every node of the account writes into the same shard, as into its day's shard.
      const nodeId = request.headers.get("Authorization") ?? "node";
      const shard = env.SHARD.get(env.SHARD.idFromName(step === "bare" || step === "keys" ? step : "indexed"));
      const texts = events.map((event) => JSON.stringify(event));
      if (step === "call") accepted = await shard.take(texts);
      else if (step === "keys") accepted = await shard.insertKeys(texts);
      else accepted = await shard.insert(texts, step !== "bare", nodeId);
      if (step === "enqueue") {
        const items = events.map((event, seq) =>
          eventOutboxItem(notifiable(event, seq, Date.parse(event.occurred_at)), "Floor", "http://127.0.0.1"),
        );
        await env.OUTBOX.get(env.OUTBOX.idFromName("webhook")).enqueue(items);
      }
    }
    return Response.json({ accepted, duplicates: events.length - accepted }, { status: 202 });
  },
};
