/** Triggers, silences and stored events as the evaluator reads them, for the trigger tests. */
import type { StoredEvent } from "../../../worker/domain/event-filters";
import type { Silence } from "../../../worker/domain/silences";
import type { Trigger } from "../../../worker/domain/triggers";

export const MINUTE = 60_000;
/** A minute boundary, so window edges are easy to read. */
export const T0 = Date.parse("2026-11-27T10:00:00Z");

export function trigger(overrides: Partial<Trigger> = {}): Trigger {
  return {
    id: `trigger-${crypto.randomUUID()}`,
    name: "Test trigger",
    enabled: true,
    condition: { kind: "each_event" },
    filters: {},
    group_by: [],
    throttle_minutes: 0,
    integration_ids: ["integration-1"],
    created_at: "2026-11-01T00:00:00.000Z",
    updated_at: "2026-11-01T00:00:00.000Z",
    created_by: "admin@acme.test",
    ...overrides,
  };
}

export function silence(overrides: Partial<Silence> = {}): Silence {
  return {
    id: `silence-${crypto.randomUUID()}`,
    name: "Pentest",
    filters: {},
    starts_at: "2026-01-01T00:00:00.000Z",
    ends_at: "2027-01-01T00:00:00.000Z",
    recurrence: null,
    state: "active",
    silenced_count: 0,
    created_at: "2026-11-01T00:00:00.000Z",
    updated_at: "2026-11-01T00:00:00.000Z",
    created_by: "admin@acme.test",
    ...overrides,
  };
}

let counter = 0;

export function storedHit(occurredAt: number, overrides: Record<string, unknown> = {}, nodeId = "node-1"): StoredEvent {
  counter++;
  return {
    id: `hit-${counter}-${crypto.randomUUID()}`,
    nodeId,
    occurredAt,
    data: {
      type: "hit",
      occurred_at: new Date(occurredAt).toISOString(),
      attack_type: "sqli",
      host: "pay.example.com",
      method: "POST",
      path: "/api/login",
      remote_addr: "198.51.100.7",
      remote_country: "DE",
      response_status: 403,
      block_status: "blocked",
      ...overrides,
    } as StoredEvent["data"],
  };
}

export function storedSystemEvent(occurredAt: number, systemType: string): StoredEvent {
  return {
    id: `system-${crypto.randomUUID()}`,
    nodeId: null,
    occurredAt,
    data: {
      type: "system",
      system_type: systemType as never,
      occurred_at: new Date(occurredAt).toISOString(),
      actor: "Herald",
      message: "Something happened.",
      subject: {},
    },
  };
}
