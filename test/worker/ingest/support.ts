/** Shared by the ingest tests: nodes created through the API, realistic events, posting them, and what each IntegrationDO received. */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { EventSubscriptions } from "../../../worker/domain/subscriptions";
import { eventShardObject } from "../../../worker/events/objects";
import { ROLLUP_DIMENSIONS, type RollupRow, type StoredShardEvent } from "../../../worker/events/shard-types";
import { accountIngestObject } from "../../../worker/ingest/account-object";
import { SAMPLE_SECURITY_ISSUE } from "../../../worker/integrations/test-samples";
import { uuidv7 } from "../../../worker/lib/ids";
import { integrationObject } from "../../../worker/outbox/object";
import { createIntegration } from "../delivery/fixtures";
import { api, call, json, login, type SeededAccount, type Session, seedAccount } from "../helpers";

let counter = 0;

export function hit(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter++;
  return {
    id: crypto.randomUUID(),
    type: "hit",
    occurred_at: new Date(Date.now() - 60_000).toISOString(),
    attack_type: "sqli",
    host: "shop.example.com",
    method: "POST",
    path: `/api/login`,
    remote_addr: `203.0.113.${counter % 250}`,
    remote_country: "DE",
    response_status: 403,
    block_status: "blocked",
    payload: "' OR 1=1 --",
    point: "post.json.user",
    ...overrides,
  };
}

export function securityIssue(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: crypto.randomUUID(),
    type: "security_issue",
    occurred_at: new Date(Date.now() - 60_000).toISOString(),
    risk: "high",
    ...SAMPLE_SECURITY_ISSUE,
    ...overrides,
  };
}

export function incident(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...hit(), type: "incident", security_issue_id: crypto.randomUUID(), ...overrides };
}

export function scopeChange(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: crypto.randomUUID(),
    type: "scope_change",
    occurred_at: new Date(Date.now() - 60_000).toISOString(),
    change: "added",
    object_type: "host",
    value: "new.example.com",
    ...overrides,
  };
}

export interface Tenant extends SeededAccount {
  admin: Session;
}

export async function tenant(name = "Acme"): Promise<Tenant> {
  const account = await seedAccount(name);
  return { ...account, admin: await login(account.users.admin.email) };
}

export async function createNode(admin: Session, name = "waf-eu-1"): Promise<{ id: string; token: string }> {
  const res = await api(admin, "POST", "/api/nodes", { name });
  if (res.status !== 201) throw new Error(`node creation failed: ${res.status} ${await res.text()}`);
  const body = await json(res);
  return { id: body.node.id, token: body.token };
}

export async function postEvents(
  token: string | null,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return call("/v1/events", {
    method: "POST",
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      "Content-Type": "application/json",
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export { json };

/** A webhook integration with these subscriptions (only routing matters here). */
export function integration(accountId: string, events: EventSubscriptions, status: "enabled" | "disabled" = "enabled") {
  // The hub answers 200 to anything under /r/<bucket>: deliveries succeed, nothing leaves 127.0.0.1.
  return createIntegration(accountId, {
    settings: { url: `${env.RECEIVER_URL}/r/ingest-${uuidv7()}` },
    events,
    status,
  });
}

export const stub = (integrationId: string) => integrationObject(env, integrationId);

/** The IntegrationDO's table of enqueued notifications (worker/delivery/store.ts). */
export const OUTBOX_TABLE = "notifications";

/** What an IntegrationDO holds: the notifications enqueued to it, by id, with their content. */
export async function queued(integrationId: string): Promise<Map<string, { notification: any; eventId?: string }>> {
  return runInDurableObject(stub(integrationId), async (_instance, state) => {
    const rows = state.storage.sql.exec<{ notification_id: string; item: string }>(
      `SELECT notification_id, item FROM ${OUTBOX_TABLE}`,
    );
    return new Map(rows.toArray().map((r) => [r.notification_id, JSON.parse(r.item)]));
  });
}

/** The account's AccountIngestDO. */
export const accountObject = (accountId: string) => accountIngestObject(env, accountId);

/** The account's shards as the directory lists them. */
export async function shardNames(accountId: string): Promise<string[]> {
  const { results } = await env.DB.prepare("SELECT name FROM event_shards WHERE account_id = ?1 ORDER BY name")
    .bind(accountId)
    .all<{ name: string }>();
  return results.map((r) => r.name);
}

/** Every event stored in the account's shards (tests hold a few hundred at most), system events included. */
export async function storedEvents(accountId: string): Promise<StoredShardEvent[]> {
  const all: StoredShardEvent[] = [];
  for (const name of await shardNames(accountId)) {
    all.push(...(await eventShardObject(env, name).list({ limit: 1000 })).events);
  }
  return all;
}

/** The ids of the account's stored node events, sorted. */
export async function storedIds(accountId: string): Promise<string[]> {
  return (await storedEvents(accountId))
    .filter((e) => e.type !== "system")
    .map((e) => e.id)
    .sort();
}

/** The account's hourly rollups, summed over its shards. */
export async function rollups(accountId: string): Promise<RollupRow[]> {
  const sums = new Map<string, RollupRow>();
  for (const name of await shardNames(accountId)) {
    const rows = await eventShardObject(env, name).rollups({
      fromHour: 0,
      toHour: Date.UTC(2100, 0, 1),
      dimensions: [...ROLLUP_DIMENSIONS],
    });
    for (const row of rows) {
      const key = `${row.hour}|${row.eventType}|${row.dimension}|${row.key}`;
      const known = sums.get(key);
      if (known) known.count += row.count;
      else sums.set(key, { ...row });
    }
  }
  return [...sums.values()];
}

/** The account's security issues, every status. */
export const securityIssuesOf = (accountId: string) =>
  accountObject(accountId).securityIssues({ status: "all", limit: 200 });

/** Fills a node's rate window of this minute in its account object (instead of sending `count` requests). */
export async function fillRateWindow(accountId: string, nodeId: string, count: number): Promise<number> {
  return runInDurableObject(accountObject(accountId), async (instance) => {
    const now = Date.now();
    instance.rateWindows.set(nodeId, { windowStart: now - (now % 60_000), count });
    return now - (now % 60_000);
  });
}
