/**
 * Rows and shards for the EventShardDO tests: each test gets a shard of its own (a fresh name), and
 * rows shaped the way ingest stores node events (worker/events/shard-types.ts).
 */
import { env } from "cloudflare:workers";
import { eventShardObject } from "../../../worker/events/objects";
import type { ShardInsertRow, ShardListQuery, StoredShardEvent } from "../../../worker/events/shard-types";
import { HOUR_MS } from "../../../worker/lib/time";

/** 2036-01-01T00:00Z: the start of the shard's day. */
export const DAY0 = Date.UTC(2036, 0, 1);
export const at = (hours: number, minutes = 0) => DAY0 + hours * HOUR_MS + minutes * 60_000;

/** A shard of its own for one test. */
export function freshShard() {
  return eventShardObject(env, `test-${crypto.randomUUID()}/2036-01-01T00:00Z/0`);
}

let nextSeq = 1;
export const seq = () => nextSeq++;

type Overrides = Partial<ShardInsertRow> & { occurredAt: number };

export function hit(o: Overrides & { attackType?: string; host?: string }): ShardInsertRow {
  const id = o.id ?? crypto.randomUUID();
  const event = {
    id,
    type: "hit",
    occurred_at: new Date(o.occurredAt).toISOString(),
    attack_type: o.attackType ?? "sqli",
    host: o.host ?? "shop.example",
    path: o.path ?? "/login",
    remote_addr: o.remoteAddr ?? "203.0.113.9",
    block_status: o.blockStatus ?? "blocked",
  };
  return {
    id,
    receivedAt: o.occurredAt + 1000,
    seq: seq(),
    nodeId: "node-1",
    type: "hit",
    attackType: event.attack_type,
    host: event.host,
    path: event.path,
    remoteAddr: event.remote_addr,
    remoteCountry: "DE",
    blockStatus: event.block_status,
    data: JSON.stringify(event),
    ...o,
  };
}

export function securityIssue(o: Overrides & { risk?: string }): ShardInsertRow {
  const id = o.id ?? crypto.randomUUID();
  const event = { id, type: "security_issue", risk: o.risk ?? "high", host: o.host ?? "shop.example", path: "/" };
  return {
    id,
    receivedAt: o.occurredAt + 1000,
    seq: seq(),
    nodeId: "node-2",
    type: "security_issue",
    risk: event.risk,
    host: event.host,
    path: "/",
    data: JSON.stringify(event),
    ...o,
  };
}

export function scopeChange(o: Overrides & { change?: string; objectType?: string; value?: string }): ShardInsertRow {
  const id = o.id ?? crypto.randomUUID();
  const event = {
    id,
    type: "scope_change",
    change: o.change ?? "added",
    object_type: o.objectType ?? "host",
    value: o.value ?? "new.example",
  };
  const { change: _c, objectType: _t, value: _v, ...row } = o;
  return {
    id,
    receivedAt: o.occurredAt + 1000,
    seq: seq(),
    nodeId: "node-1",
    type: "scope_change",
    data: JSON.stringify(event),
    ...row,
  };
}

export const keyOf = (e: { id: string; occurredAt: number }) => ({ id: e.id, occurredAt: e.occurredAt });

/** Every page of a list, following the cursor. */
export async function allPages(
  shard: ReturnType<typeof freshShard>,
  query: Omit<ShardListQuery, "before">,
): Promise<StoredShardEvent[][]> {
  const pages: StoredShardEvent[][] = [];
  let before: ShardListQuery["before"];
  for (;;) {
    const { events } = await shard.list({ ...query, ...(before ? { before } : {}) });
    if (events.length === 0) return pages;
    pages.push(events);
    const last = events[events.length - 1] as StoredShardEvent;
    before = keyOf(last);
  }
}

/** Newest first, as the list orders: occurred_at DESC, id DESC. */
export const listOrder = (a: ShardInsertRow, b: ShardInsertRow) =>
  b.occurredAt - a.occurredAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
