/**
 * Fixtures for the delivery engine tests inside workerd: integrations stored in D1 (secrets sealed
 * as the integrations API seals them) that point at the receiver hub, and a controllable clock for the
 * IntegrationDO. The hub's control calls are in ../hub.ts.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { getChannel } from "../../../worker/channels/catalog";
import { integrations } from "../../../worker/db/schema";
import type { IntegrationDO } from "../../../worker/delivery/integration-do";
import type { OutboxItem } from "../../../worker/domain/notification";
import type { EventSubscriptions } from "../../../worker/domain/subscriptions";
import { announceControlChange } from "../../../worker/ingest/control-change";
import { sealSettings } from "../../../worker/integrations/store";
import { uuidv7 } from "../../../worker/lib/ids";
import { integrationObject } from "../../../worker/outbox/object";
import { db } from "../helpers";
import { bucketName, hubUrl, type RecordedRequest } from "../hub";

/**
 * Tests run the object's clock from 2036 on: alarms it sets are years away in real time, so they
 * never fire by themselves and each step runs only when the test says (runDurableObjectAlarm).
 */
export const T0 = Date.UTC(2036, 0, 1, 0, 0, 0);

export const ALL_RISKS: EventSubscriptions = { security_issue: ["critical", "high", "medium", "low", "info"] };

/** Stores an integration the way the integrations API does (settings validated, secrets sealed); enabled unless told. */
export async function createIntegration(
  accountId: string,
  options: {
    type?: string;
    name?: string;
    settings: Record<string, unknown>;
    events?: EventSubscriptions;
    status?: "enabled" | "disabled";
  },
): Promise<string> {
  const type = options.type ?? "webhook";
  const channel = getChannel(type);
  if (!channel) throw new Error(`unknown type ${type}`);
  const settings = channel.settingsSchema.parse({
    ...options.settings,
    ...(channel.generateSecrets?.() ?? {}),
  }) as Record<string, unknown>;
  const id = uuidv7();
  const sealed = await sealSettings(env, id, channel, settings);
  const now = Date.now();
  await db()
    .insert(integrations)
    .values({
      id,
      accountId,
      type,
      name: options.name ?? `${type} ${id.slice(-4)}`,
      status: options.status ?? "enabled",
      settings: sealed.settings,
      secrets: sealed.secrets,
      events: options.events ?? ALL_RISKS,
      createdAt: now,
      updatedAt: now,
    });
  // As the integrations API does: the account's ingest object takes the new target from its next request.
  await announceControlChange(env, accountId);
  return id;
}

export function stubFor(integrationId: string): DurableObjectStub<IntegrationDO> {
  return integrationObject(env, integrationId);
}

/** An integration aimed at a fresh hub bucket, its IntegrationDO, and the object's hand-moved clock. */
export async function deliveryTarget(
  accountId: string,
  options: { bucketPrefix: string; type?: "webhook" | "slack"; events?: EventSubscriptions },
) {
  const bucket = bucketName(options.bucketPrefix);
  const url = hubUrl(bucket, "/hook");
  const settings = options.type === "slack" ? { webhook_url: url } : { url };
  const id = await createIntegration(accountId, { type: options.type, settings, events: options.events });
  const stub = stubFor(id);
  const clock = new TestClock();
  await clock.install(stub);
  return { bucket, id, stub, clock };
}

/** A clock the test moves by hand; installed into an object with `install`. */
export class TestClock {
  constructor(public now = T0) {}

  async install(stub: DurableObjectStub<IntegrationDO>) {
    await runInDurableObject(stub, (instance: IntegrationDO) => {
      instance.clock = () => this.now;
    });
  }
}

export async function alarmOf(stub: DurableObjectStub<IntegrationDO>): Promise<number | null> {
  return runInDurableObject(stub, (_instance: IntegrationDO, state) => state.storage.getAlarm());
}

/** Moves the clock to the object's alarm time and runs the alarm; returns that time. */
export async function fireAlarm(stub: DurableObjectStub<IntegrationDO>, clock: TestClock): Promise<number> {
  const at = await alarmOf(stub);
  if (at === null) throw new Error("no alarm is set");
  clock.now = Math.max(clock.now, at);
  if (!(await runDurableObjectAlarm(stub))) throw new Error("the alarm did not run");
  return at;
}

let counter = 0;

/** A security_issue notification as fan-out builds it (ids sort in creation order). */
export function item(label = `n${++counter}`): OutboxItem {
  const id = uuidv7();
  return {
    eventId: id,
    notification: {
      id,
      summary: `[Herald] New security issue detected (${label})`,
      description: `Notification type: security_issue\nTitle: ${label}`,
      details: {
        client_name: "Acme",
        notification_type: "security_issue",
        occurred_at: new Date(T0).toISOString(),
        link: `https://herald.test/events/${id}`,
        security_issue: { id, risk: "high", title: label },
      },
    },
  };
}

export function items(count: number, prefix = "n"): OutboxItem[] {
  return Array.from({ length: count }, (_, i) => item(`${prefix}${i}`));
}

/** Notification ids carried by a webhook request (json_array body). */
export function idsIn(request: RecordedRequest): string[] {
  return (JSON.parse(request.body) as { id: string }[]).map((n) => n.id);
}
