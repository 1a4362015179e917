/** Shared by the ingest tests: nodes created through the API, realistic events, posting them, and what each IntegrationDO received. */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { EventSubscriptions } from "../../../worker/domain/subscriptions";
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
