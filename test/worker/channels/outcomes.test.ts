import { describe, expect, it } from "vitest";
import { getChannel } from "../../../worker/channels/catalog";
import { parseRetryAfter } from "../../../worker/channels/http";
import type { Channel, SendContext } from "../../../worker/channels/types";
import { sample, secretsFor, TEST_SETTINGS, testEnv } from "../../unit/channels/fixtures";
import { bucketName, hubRequests, hubUrl, script } from "../hub";

/**
 * How senders classify what the receiver did (docs/channels.md#outcomes): 2xx ok; any other status (3xx included,
 * never followed) a failure with its status; Retry-After in seconds or as a date; 410 gone;
 * timeouts; network errors. Secrets never reach the error text or the logged request body.
 */

function webhookContext(url: string, timeoutSeconds = 15): SendContext<Record<string, unknown>> {
  const channel = getChannel("webhook")!;
  const settings = channel.settingsSchema.parse({ ...TEST_SETTINGS.webhook, url, timeout_seconds: timeoutSeconds });
  return {
    integrationId: crypto.randomUUID(),
    accountName: "Acme",
    settings,
    secrets: secretsFor(channel, settings),
    env: testEnv(),
    fetch: globalThis.fetch.bind(globalThis),
    deliveryId: crypto.randomUUID(),
  };
}

/** Settings with the secrets the delivery engine would hand the channel beside them. */
const withSecrets = (channel: Pick<Channel<any>, "secretFields">, settings: Record<string, unknown>) => ({
  settings,
  secrets: secretsFor(channel, settings),
});

const send = (ctx: SendContext<Record<string, unknown>>) => getChannel("webhook")!.send(ctx, [sample("new_hits")]);

describe("send outcomes", () => {
  it("2xx is success, with the status and latency", async () => {
    const b = bucketName("ok");
    await script(b, [{ status: 202 }, { status: 204 }]);
    const ctx = webhookContext(hubUrl(b));
    const first = await send(ctx);
    const second = await send(ctx);
    expect(first).toMatchObject({ ok: true, status: 202 });
    expect(second).toMatchObject({ ok: true, status: 204 });
    expect(first.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it("5xx and 4xx are failures with the status and a short excerpt of the answer", async () => {
    const b = bucketName("fail");
    await script(b, [
      { status: 500, body: "upstream exploded" },
      { status: 400, body: '{"error":"bad payload"}' },
    ]);
    const ctx = webhookContext(hubUrl(b));
    expect(await send(ctx)).toMatchObject({
      ok: false,
      kind: "status",
      status: 500,
      error: "HTTP 500: upstream exploded",
    });
    expect(await send(ctx)).toMatchObject({ ok: false, kind: "status", status: 400 });
  });

  it("redirects are failures and are not followed", async () => {
    const b = bucketName("redirect");
    const elsewhere = bucketName("redirect-target");
    await script(b, [
      { status: 301, headers: { Location: hubUrl(elsewhere) } },
      { status: 307, headers: { Location: hubUrl(elsewhere) } },
    ]);
    const ctx = webhookContext(hubUrl(b));
    const moved = await send(ctx);
    expect(moved).toMatchObject({ ok: false, kind: "status", status: 301 });
    if (!moved.ok) expect(moved.error).toContain("not followed");
    expect(await send(ctx)).toMatchObject({ ok: false, status: 307 });
    expect(await hubRequests(elsewhere)).toHaveLength(0);
  });

  it("Retry-After in seconds or as an HTTP date becomes retryAfterSeconds (429, 503)", async () => {
    const b = bucketName("retry-after");
    const date = new Date(Date.now() + 120_000).toUTCString();
    await script(b, [
      { status: 429, headers: { "Retry-After": "42" } },
      { status: 503, headers: { "Retry-After": date } },
      { status: 503 },
    ]);
    const ctx = webhookContext(hubUrl(b));
    expect(await send(ctx)).toMatchObject({ ok: false, status: 429, retryAfterSeconds: 42 });
    const dated = await send(ctx);
    expect(dated.ok).toBe(false);
    if (!dated.ok) expect(dated.retryAfterSeconds).toBeGreaterThanOrEqual(115);
    if (!dated.ok) expect(dated.retryAfterSeconds).toBeLessThanOrEqual(120);
    const plain = await send(ctx);
    expect(plain.ok || "retryAfterSeconds" in plain).toBe(false);
  });

  it("Telegram's 429 carries the wait in parameters.retry_after", async () => {
    const b = bucketName("tg-429");
    await script(b, [
      {
        status: 429,
        headers: { "Content-Type": "application/json" },
        body: '{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 17","parameters":{"retry_after":17}}',
      },
    ]);
    const channel = getChannel("telegram")!;
    const outcome = await channel.send(
      {
        integrationId: "i",
        accountName: "Acme",
        settings: channel.settingsSchema.parse(TEST_SETTINGS.telegram),
        secrets: [TEST_SETTINGS.telegram!.bot_token as string],
        env: testEnv({ TELEGRAM_API_BASE: hubUrl(b) }),
        fetch: globalThis.fetch.bind(globalThis),
        deliveryId: "d",
      },
      [sample("incident")],
    );
    expect(outcome).toMatchObject({ ok: false, status: 429, retryAfterSeconds: 17 });
  });

  it("410 Gone marks the destination gone", async () => {
    const b = bucketName("gone");
    await script(b, [{ status: 410, body: "channel_is_archived" }]);
    expect(await send(webhookContext(hubUrl(b)))).toMatchObject({ ok: false, status: 410, gone: true });
  });

  it("a receiver slower than the timeout is a timeout (webhook: its own timeout_seconds)", async () => {
    const b = bucketName("slow");
    await script(b, [{ status: 200, delayMs: 2500 }]);
    const outcome = await send(webhookContext(hubUrl(b), 1));
    expect(outcome).toMatchObject({ ok: false, kind: "timeout" });
    expect(outcome.latencyMs).toBeGreaterThanOrEqual(900);
    expect(outcome.latencyMs).toBeLessThan(2400);
  });

  it("a refused connection is a network error", async () => {
    const outcome = await send(webhookContext("http://127.0.0.1:1/hook"));
    expect(outcome).toMatchObject({ ok: false, kind: "network" });
  });

  it("secrets never reach the error text or the logged request body", async () => {
    const b = bucketName("leak");
    const slackPath = "/services/T0000000/B0000000/SLACKSECRETPATH0000";
    const token = TEST_SETTINGS.telegram!.bot_token as string;
    // Receivers that echo the credential back in their error answers.
    await script(b, [], {
      status: 404,
      body: `no_service for ${hubUrl(b, slackPath)} and bot${token} and R0123456789ABCDEF0123456789ABCDE`,
    });
    const base = { integrationId: "i", accountName: "Acme", fetch: globalThis.fetch.bind(globalThis), deliveryId: "d" };
    const slack = getChannel("slack")!;
    const telegram = getChannel("telegram")!;
    const pagerduty = getChannel("pagerduty")!;
    const sumo = getChannel("sumologic")!;
    const webhookCtx = webhookContext(hubUrl(b));
    const cases: [string, Awaited<ReturnType<typeof send>>, string[]][] = [
      [
        "slack",
        await slack.send({ ...base, ...withSecrets(slack, { webhook_url: hubUrl(b, slackPath) }), env: testEnv() }, [
          sample("incident"),
        ]),
        ["SLACKSECRETPATH0000"],
      ],
      [
        "telegram",
        await telegram.send(
          {
            ...base,
            ...withSecrets(telegram, telegram.settingsSchema.parse(TEST_SETTINGS.telegram)),
            env: testEnv({ TELEGRAM_API_BASE: hubUrl(b) }),
          },
          [sample("incident")],
        ),
        [token],
      ],
      [
        "pagerduty",
        await pagerduty.send(
          {
            ...base,
            ...withSecrets(pagerduty, TEST_SETTINGS.pagerduty!),
            env: testEnv({ PAGERDUTY_EVENTS_URL: hubUrl(b) }),
          },
          [sample("incident")],
        ),
        ["R0123456789ABCDEF0123456789ABCDE"],
      ],
      [
        "sumologic",
        await sumo.send(
          {
            ...base,
            ...withSecrets(sumo, { url: hubUrl(b, "/receiver/v1/http/SUMOSECRETTOKEN0000") }),
            env: testEnv(),
          },
          [sample("incident")],
        ),
        ["SUMOSECRETTOKEN0000"],
      ],
      [
        "webhook",
        await getChannel("webhook")!.send(webhookCtx, [sample("incident")]),
        ["wh-header-secret-1234", TEST_SETTINGS.webhook!.signing_secret as string],
      ],
    ];
    for (const [type, outcome, secrets] of cases) {
      expect([type, outcome.ok]).toEqual([type, false]);
      const visible = JSON.stringify(outcome);
      for (const secret of secrets) expect([type, visible.includes(secret)]).toEqual([type, false]);
    }
    // The receivers did get the credentials (they are redacted only in what Herald shows).
    const recorded = await hubRequests(b);
    expect(recorded.some((r) => r.path.includes(token))).toBe(true);
    expect(recorded.some((r) => r.body.includes("R0123456789ABCDEF0123456789ABCDE"))).toBe(true);
  });

  it("parses Retry-After like RFC 9110", () => {
    const now = Date.parse("2026-11-29T10:00:00Z");
    expect(parseRetryAfter("120", now)).toBe(120);
    expect(parseRetryAfter("Sun, 29 Nov 2026 10:01:30 GMT", now)).toBe(90);
    expect(parseRetryAfter("Sun, 29 Nov 2026 09:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
