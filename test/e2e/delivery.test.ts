/**
 * The delivery engine end to end: Herald under `wrangler dev` with a shortened retry schedule, a
 * node posting events, and real receivers on 127.0.0.1 (a flaky webhook, a webhook subscribed to
 * system events, and the SMTP server). Checks docs/delivery.md from the outside: every notification is
 * delivered exactly once or is dead, none is lost, and auto-disable happens when — and only
 * when — 60 % of the window's requests failed with the minimum reached.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../../scripts/local-config.ts";
import { type ApiSession, type HeraldProcess, startHerald } from "../support/herald-process.ts";
import { type ReceiverHub, type ScriptedResponse, startReceiverHub } from "../support/receiver-hub.ts";

// 3 retries (4 requests per delivery), 0.2 s apart; the rule counts from 10 requests.
const RETRY_SCHEDULE = "0.2,0.2,0.2";
const MIN_REQUESTS = 10;
const RATIO = 0.6;

interface Attempt {
  at: string;
  ok: boolean;
  status: number | null;
}
interface Delivery {
  id: string;
  state: "pending" | "delivered" | "dead" | "dropped";
  notifications: { id: string }[];
  attempts: Attempt[];
}

let hub: ReceiverHub;
let herald: HeraldProcess;
let admin: ApiSession;
let nodeToken: string;

async function allDeliveries(integrationId: string): Promise<Delivery[]> {
  const out: Delivery[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${cursor}` : "";
    const page = await admin.call("GET", `/api/integrations/${integrationId}/deliveries?limit=100${query}`);
    expect(page.status).toBe(200);
    out.push(...page.body.deliveries);
    cursor = page.body.next_cursor;
  } while (cursor);
  return out;
}

async function waitFor<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Issues posted so far: each is a distinct vulnerability (a re-reported open one is not notified again). */
let issuesPosted = 0;

async function postEvents(count: number, title: string): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  const res = await fetch(`${herald.url}/v1/events`, {
    method: "POST",
    headers: { Authorization: `Bearer ${nodeToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      events: ids.map((id, i) => ({
        id,
        type: "security_issue",
        occurred_at: new Date().toISOString(),
        risk: "medium",
        title: `${title} ${i}`,
        vuln_type: "sqli",
        host: "api.acme.test",
        method: "POST",
        path: `/login/${++issuesPosted}`,
      })),
    }),
  });
  expect(res.status, await res.clone().text()).toBe(202);
  return ids;
}

async function createWebhook(name: string, url: string, events: Record<string, unknown>): Promise<string> {
  const res = await admin.call("POST", "/api/integrations", {
    type: "webhook",
    name,
    settings: { url, method: "POST", headers: [], format: "json_array", timeout_seconds: 5 },
    events,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.integration.id;
}

beforeAll(async () => {
  hub = await startReceiverHub();
  herald = await startHerald({
    vars: {
      RETRY_SCHEDULE,
      FAILURE_MIN_REQUESTS: String(MIN_REQUESTS),
      FAILURE_RATIO: String(RATIO),
      FAILURE_WINDOW_SECONDS: "3600",
      MAIL_TRANSPORT: "smtp",
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: String(hub.smtpPort),
      SMTP_SECURE: "none",
      MAIL_FROM: "herald@herald.test",
    },
  });
  admin = await herald.signIn();
  const node = await admin.call("POST", "/api/nodes", { name: "e2e node" });
  expect(node.status).toBe(201);
  nodeToken = node.body.token;
});

afterAll(async () => {
  await herald?.stop();
  await hub?.close();
});

describe("delivery end to end", () => {
  it("delivers every notification exactly once or keeps it dead, then auto-disables exactly when the rule says", async () => {
    const flakyId = await createWebhook("Flaky receiver", hub.urlFor("flaky"), {
      security_issue: ["critical", "high", "medium", "low", "info"],
    });
    await createWebhook("Ops channel", hub.urlFor("notice"), { system: true });

    // Phase 1, a flaky receiver: at most 50 % failed at any point once 10 requests were made,
    // and one delivery dies (requests 9–12: the first request after a success starts a new
    // delivery, and 4 failures in a row use up its 3 retries).
    const flaky: ScriptedResponse[] = [
      { status: 200 },
      { status: 200 },
      { status: 200 },
      { status: 200 },
      { status: 500 },
      { status: 200 },
      { status: 503, headers: { "Retry-After": "1" } },
      { status: 200 },
      { status: 500 },
      { status: 502 },
      { status: 500 },
      { status: 504 },
    ];
    hub.script("flaky", flaky, { status: 200 });
    const sent: string[] = [];
    for (let batch = 0; batch < 12; batch++) {
      sent.push(...(await postEvents(5, `batch ${batch}`)));
      await new Promise((r) => setTimeout(r, 400));
    }
    await waitFor(
      "the flaky receiver's queue to drain",
      async () => (await admin.call("GET", `/api/integrations/${flakyId}/health`)).body,
      (health) => health.pending_notifications === 0,
    );

    const requests = hub.requests("flaky");
    const answers = requests.map((_, i) => (flaky[i] ?? { status: 200 }).status);
    const deliveredIds = requests.flatMap((r, i) =>
      answers[i]! < 300 ? (JSON.parse(r.body) as { id: string }[]).map((n) => n.id) : [],
    );
    const deliveries = await allDeliveries(flakyId);
    const deadIds = deliveries.filter((d) => d.state === "dead").flatMap((d) => d.notifications.map((n) => n.id));
    // Exactly once: no notification in two successful requests, none both delivered and dead.
    expect(new Set(deliveredIds).size).toBe(deliveredIds.length);
    expect(deadIds.filter((id) => deliveredIds.includes(id))).toEqual([]);
    // None lost: the delivered and the dead together are exactly what the node sent.
    expect([...deliveredIds, ...deadIds].sort()).toEqual([...sent].sort());
    expect(deadIds.length).toBeGreaterThan(0);
    // The log agrees with what the receiver saw.
    expect(deliveries.reduce((n, d) => n + d.attempts.length, 0)).toBe(requests.length);
    // The dead delivery is announced once to the system integration (docs/delivery.md#dead-deliveries).
    const dead = deliveries.find((d) => d.state === "dead")!;
    const deadNotice = await waitFor(
      "the delivery_dead notice",
      async () => hub.requests("notice").filter((r) => r.body.includes("delivery_dead") && r.body.includes(dead.id)),
      (found) => found.length > 0,
    );
    expect(deadNotice).toHaveLength(1);

    let integration = (await admin.call("GET", `/api/integrations/${flakyId}`)).body.integration;
    expect(integration.status).toBe("enabled");

    // Phase 2, the receiver breaks for good: one event at a time until Herald gives up on it.
    hub.script("flaky", [], { status: 500 });
    for (let i = 0; i < 60 && integration.status === "enabled"; i++) {
      await postEvents(1, `broken ${i}`);
      await new Promise((r) => setTimeout(r, 700));
      integration = (await admin.call("GET", `/api/integrations/${flakyId}`)).body.integration;
    }
    expect(integration.status).toBe("disabled");
    expect(integration.disabled_reason).toBe("auto_failure_ratio");

    // Replay the rule over every request in time order: the first point where it holds is where
    // Herald stopped; before it the rule never held, and no request was made after it.
    const attempts = (await allDeliveries(flakyId))
      .flatMap((d) => d.attempts)
      .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    let failed = 0;
    let firstHold = -1;
    attempts.forEach((attempt, i) => {
      if (!attempt.ok) failed++;
      const total = i + 1;
      if (firstHold === -1 && total >= MIN_REQUESTS && failed / total >= RATIO) firstHold = total;
    });
    expect(firstHold).toBe(attempts.length);
    expect(hub.requests("flaky")).toHaveLength(attempts.length);
    expect(integration.disabled_details).toMatchObject({ requests: attempts.length, failed });

    // The notice reaches the other integration subscribed to system events…
    const isNotice = (body: string) => body.includes("integration_auto_disabled");
    const notices = await waitFor(
      "the notice to the system integration",
      async () => hub.requests("notice").filter((r) => isNotice(r.body)),
      (found) => found.length > 0,
    );
    const noticeBody = JSON.parse(notices[0]!.body) as {
      details: { notification_type: string; system: { message: string } };
    }[];
    expect(noticeBody[0]!.details.notification_type).toBe("integration_auto_disabled");
    expect(noticeBody[0]!.details.system.message).toContain("Flaky receiver");
    // …and every admin by email (the demo admin is the account's only admin).
    await waitFor(
      "the admin's email",
      async () => hub.mail(DEMO.email).filter((m) => m.subject.includes("Flaky receiver")),
      (found) => found.some((m) => m.subject.includes("disabled automatically")),
    );

    // Disabled (README, "Delivery" — Guarantees): what was queued before the disable is kept,
    // paused (how much that is depends on where the last delivery's retries stood); nothing new is
    // queued and nothing is sent; re-enabling resumes exactly what was kept and replays, when
    // asked, what arrived meanwhile — each once.
    const kept = (await admin.call("GET", `/api/integrations/${flakyId}/health`)).body;
    expect(kept).toMatchObject({ paused: true, paused_reason: "auto_failure_ratio" });
    const [whileDisabled] = await postEvents(1, "while disabled");
    const sentBeforeEnable = hub.requests("flaky").length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(hub.requests("flaky")).toHaveLength(sentBeforeEnable);
    const health = (await admin.call("GET", `/api/integrations/${flakyId}/health`)).body;
    expect(health.pending_notifications).toBe(kept.pending_notifications);

    hub.script("flaky", [], { status: 200 });
    const enabled = await admin.call("POST", `/api/integrations/${flakyId}/enable`, {
      pending: "resume",
      replay_missed: true,
    });
    expect(enabled.status).toBe(200);
    expect(enabled.body.resumed).toBe(health.pending_notifications);
    expect(enabled.body.replayed).toBeGreaterThanOrEqual(1);
    await waitFor(
      "the resumed and replayed deliveries",
      async () => (await admin.call("GET", `/api/integrations/${flakyId}/health`)).body,
      (h) => h.pending_notifications === 0,
    );
    const afterEnable = hub
      .requests("flaky")
      .slice(sentBeforeEnable)
      .flatMap((r) => JSON.parse(r.body) as { id: string }[]);
    const afterIds = afterEnable.map((n) => n.id);
    expect(afterIds.filter((id) => id === whileDisabled)).toHaveLength(1);
    expect(new Set(afterIds).size).toBe(afterIds.length);
  });
});
