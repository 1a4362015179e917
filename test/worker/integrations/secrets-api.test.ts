import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { resolveSendTarget, SecretsUnreadableError } from "../../../worker/integrations/send-target";
import type { Session } from "../helpers";
import { hubRequests, script } from "../hub";
import { adminSession, apiRaw, type CreatableType, fixture, leakedSecrets } from "./fixtures";

async function create(session: Session, type: CreatableType, name = `${type} one`) {
  const fx = fixture(type);
  const res = await apiRaw(session, "POST", "/api/integrations", {
    type,
    name,
    settings: fx.settings,
    events: fx.events,
  });
  expect(res.status, res.raw).toBe(201);
  return { id: res.body.integration.id as string, fx, created: res.body };
}

const storedSecrets = async (id: string) =>
  (await env.DB.prepare("SELECT secrets, settings FROM integrations WHERE id = ?").bind(id).first<{
    secrets: string | null;
    settings: string;
  }>())!;

describe("secrets at rest", () => {
  it("stores secrets only sealed: neither the clear settings column nor the envelope holds them", async () => {
    const admin = await adminSession();
    for (const type of ["telegram", "webhook", "sumologic"] as const) {
      const { id, fx } = await create(admin, type);
      const row = await storedSecrets(id);
      expect(row.secrets).toMatch(/^test1:[\w-]+:[\w-]+$/);
      expect(leakedSecrets(row.settings, fx.secrets)).toEqual([]);
      expect(leakedSecrets(row.secrets!, fx.secrets)).toEqual([]);
      const target = await resolveSendTarget(env, id);
      for (const secret of fx.secrets) expect(JSON.stringify(target!.settings)).toContain(secret);
    }
  });

  it("keeps a secret left blank, absent or masked, and replaces it when a new value is given", async () => {
    const admin = await adminSession();
    const { id, fx } = await create(admin, "telegram");
    const token = fx.settings.bot_token as string;
    const masked = (await apiRaw(admin, "GET", `/api/integrations/${id}`)).body.integration.settings.bot_token;
    expect(masked).toBe(`••••${token.slice(-4)}`);

    for (const settings of [
      { bot_token: "" },
      { chat_id: "-100999" },
      { bot_token: masked, chat_id: "@herald_alerts" },
    ]) {
      const res = await apiRaw(admin, "PATCH", `/api/integrations/${id}`, { settings });
      expect(res.status, res.raw).toBe(200);
      expect(leakedSecrets(res.raw, [token])).toEqual([]);
      expect((await resolveSendTarget(env, id))!.settings.bot_token).toBe(token);
    }
    expect((await resolveSendTarget(env, id))!.settings.chat_id).toBe("@herald_alerts");

    // The kept token is really used: the test send goes to /bot<token>/sendMessage.
    const sent = await apiRaw(admin, "POST", `/api/integrations/${id}/test`);
    expect(sent.body.results.every((r: { ok: boolean }) => r.ok)).toBe(true);
    const paths = (await hubRequests("telegram")).map((r) => r.path);
    expect(paths).toContain(`/r/telegram/bot${token}/sendMessage`);
    expect(leakedSecrets(sent.raw, [token])).toEqual([]);

    const fresh = "987654321:AAH0123456789abcdefghijklmnopqrstuv";
    await apiRaw(admin, "PATCH", `/api/integrations/${id}`, { settings: { bot_token: fresh } });
    expect((await resolveSendTarget(env, id))!.settings.bot_token).toBe(fresh);
    const audit = await apiRaw(admin, "GET", `/api/audit?target_id=${id}`);
    expect(audit.body.entries[0].details.changed).toEqual(["settings.bot_token"]);
    expect(leakedSecrets(audit.raw, [token, fresh])).toEqual([]);
  });

  it("keeps webhook header values matched by header name, even reordered", async () => {
    const admin = await adminSession();
    const { id, fx } = await create(admin, "webhook");
    const [auth, team] = fx.secrets as [string, string];
    const res = await apiRaw(admin, "PATCH", `/api/integrations/${id}`, {
      settings: {
        headers: [
          { name: "x-team", value: "" },
          { name: "Authorization", value: "••••whatever" },
          { name: "X-New", value: "new-value" },
        ],
      },
    });
    expect(res.status, res.raw).toBe(200);
    expect((await resolveSendTarget(env, id))!.settings.headers).toEqual([
      { name: "x-team", value: team },
      { name: "Authorization", value: auth },
      { name: "X-New", value: "new-value" },
    ]);
    // A new header without a value cannot keep anything: it is required.
    const missing = await apiRaw(admin, "PATCH", `/api/integrations/${id}`, {
      settings: { headers: [{ name: "X-Other", value: "" }] },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details[0].field).toBe("settings.headers.0.value");
  });

  it("binds the ciphertext to its row: a copied envelope is reported as needing re-entry, never a crash", async () => {
    const admin = await adminSession();
    const a = await create(admin, "telegram", "A");
    const b = await create(admin, "telegram", "B");
    const sealedA = (await storedSecrets(a.id)).secrets;
    await env.DB.prepare("UPDATE integrations SET secrets = ? WHERE id = ?").bind(sealedA, b.id).run();

    const get = await apiRaw(admin, "GET", `/api/integrations/${b.id}`);
    expect(get.status).toBe(200);
    expect(get.body.integration.secrets_status).toBe("needs_reentry");
    expect(get.body.integration.settings).toEqual({ bot_token: null, chat_id: "-1001234567890" });
    const list = await apiRaw(admin, "GET", "/api/integrations");
    expect(list.status).toBe(200);
    expect(leakedSecrets(list.raw + get.raw, [...a.fx.secrets, ...b.fx.secrets])).toEqual([]);

    await expect(resolveSendTarget(env, b.id)).rejects.toBeInstanceOf(SecretsUnreadableError);
    const test = await apiRaw(admin, "POST", `/api/integrations/${b.id}/test`);
    expect(test.status).toBe(409);
    expect(test.body.error.code).toBe("secrets_unreadable");

    // Renaming works without touching the (unreadable) secrets; other settings need the secret.
    expect((await apiRaw(admin, "PATCH", `/api/integrations/${b.id}`, { name: "B renamed" })).status).toBe(200);
    expect((await storedSecrets(b.id)).secrets).toBe(sealedA);
    const partial = await apiRaw(admin, "PATCH", `/api/integrations/${b.id}`, { settings: { chat_id: "-1" } });
    expect(partial.status).toBe(400);
    expect(partial.body.error.details).toEqual([
      { field: "settings.bot_token", message: "The stored secret cannot be decrypted any more: enter it again." },
    ]);

    const reentered = "555555555:AAHre-enteredre-enteredre-enteredxx";
    const fixed = await apiRaw(admin, "PATCH", `/api/integrations/${b.id}`, { settings: { bot_token: reentered } });
    expect(fixed.status).toBe(200);
    expect(fixed.body.integration.secrets_status).toBe("ok");
    expect((await resolveSendTarget(env, b.id))!.settings.bot_token).toBe(reentered);
    // A's own envelope is untouched.
    expect((await resolveSendTarget(env, a.id))!.settings.bot_token).toBe(a.fx.settings.bot_token);
  });

  it("returns the webhook signing secret once and rotates it, the old one signing 24 more hours", async () => {
    const admin = await adminSession();
    const { id, created } = await create(admin, "webhook");
    const first = created.signing_secret as string;
    expect((await resolveSendTarget(env, id))!.settings.signing_secret).toBe(first);
    const get = await apiRaw(admin, "GET", `/api/integrations/${id}`);
    expect(get.raw).not.toContain(first);
    expect(get.body.signing_secret).toBeUndefined();

    // A client cannot choose the signing secret.
    await apiRaw(admin, "PATCH", `/api/integrations/${id}`, {
      settings: { signing_secret: `whsec_${"A".repeat(40)}` },
    });
    expect((await resolveSendTarget(env, id))!.settings.signing_secret).toBe(first);

    const before = Date.now();
    const rotated = await apiRaw(admin, "POST", `/api/integrations/${id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    const second = rotated.body.signing_secret as string;
    expect(second).toMatch(/^whsec_/);
    expect(second).not.toBe(first);
    expect(rotated.raw).not.toContain(first);
    const settings = (await resolveSendTarget(env, id))!.settings;
    expect(settings.signing_secret).toBe(second);
    expect(settings.previous_signing_secret).toBe(first);
    const expires = Date.parse(settings.previous_signing_secret_expires_at as string);
    expect(expires - before).toBeGreaterThanOrEqual(24 * 3600_000 - 1000);
    expect(expires - before).toBeLessThanOrEqual(24 * 3600_000 + 60_000);

    const slack = await create(admin, "slack");
    const none = await apiRaw(admin, "POST", `/api/integrations/${slack.id}/rotate-secret`);
    expect(none.status).toBe(400);
    expect(none.body.error.code).toBe("nothing_to_rotate");
  });
});

describe("secrets in receivers' answers and in webhook URLs", () => {
  it("redacts the bare token a receiver quotes from a 'Bearer <token>' header", async () => {
    const admin = await adminSession();
    const fx = fixture("webhook");
    const bearer = fx.secrets[0]!;
    const token = bearer.replace(/^Bearer /, "");
    await script(fx.bucket!, [], { status: 401, body: `invalid credential "${token}"` });
    const created = await apiRaw(admin, "POST", "/api/integrations", {
      type: "webhook",
      name: "echoing receiver",
      settings: fx.settings,
      events: fx.events,
    });
    expect(created.status, created.raw).toBe(201);
    const id = created.body.integration.id as string;
    const sent = await apiRaw(admin, "POST", `/api/integrations/${id}/test`);
    expect(sent.status, sent.raw).toBe(200);
    expect(sent.body.results[0].error).toContain("[redacted]");
    expect(leakedSecrets(sent.raw, [token])).toEqual([]);
    expect((await hubRequests(fx.bucket!))[0]?.headers.authorization).toBe(bearer);
  });

  it("treats a webhook URL (its query string) as a secret: sealed, masked like Slack's, kept when sent back", async () => {
    const admin = await adminSession();
    const fx = fixture("webhook");
    const url = `${fx.settings.url as string}?access_token=qs-${crypto.randomUUID()}`;
    const res = await apiRaw(admin, "POST", "/api/integrations", {
      type: "webhook",
      name: "query hook",
      settings: { ...fx.settings, url },
      events: fx.events,
    });
    expect(res.status, res.raw).toBe(201);
    const id = res.body.integration.id as string;
    expect(res.body.integration.settings.url).toBe(`••••${url.slice(-4)}`);
    expect(leakedSecrets(res.raw, [url])).toEqual([]);
    const row = await storedSecrets(id);
    expect(row.settings).not.toContain("access_token");
    const read = await apiRaw(admin, "GET", `/api/integrations/${id}`);
    expect(leakedSecrets(read.raw, [url, url.split("?")[1]!])).toEqual([]);
    const audit = await apiRaw(admin, "GET", "/api/audit");
    expect(audit.raw).not.toContain("access_token");

    const kept = await apiRaw(admin, "PATCH", `/api/integrations/${id}`, {
      settings: { url: read.body.integration.settings.url, headers: fx.settings.headers },
    });
    expect(kept.status, kept.raw).toBe(200);
    expect((await resolveSendTarget(env, id))!.settings.url).toBe(url);
  });
});
