import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { reencryptSecrets } from "../../../worker/integrations/reencrypt";
import { resolveSendTarget } from "../../../worker/integrations/send-target";
import { base64 } from "../../../worker/lib/ids";
import { api, login, seedAccount } from "../helpers";
import { fixture } from "./fixtures";

const NEW_KEY = `test2:${base64(new Uint8Array(32).fill(42))}`;

describe("rotating ENCRYPTION_KEY", () => {
  it("re-seals every row on an older key with the new one, in bounded batches, idempotently", async () => {
    const acme = await seedAccount("Acme");
    const admin = await login(acme.users.admin.email);
    const created: { id: string; token: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const fx = fixture("telegram");
      const res = await api(admin, "POST", "/api/integrations", {
        type: "telegram",
        name: `t${i}`,
        settings: fx.settings,
      });
      created.push({ id: ((await res.json()) as any).integration.id, token: fx.settings.bot_token as string });
    }
    // A row whose envelope no configured key opens is counted, never rewritten.
    const broken = created[2]!;
    await env.DB.prepare("UPDATE integrations SET secrets = ? WHERE id = ?").bind("gone:AAAA:BBBB", broken.id).run();

    // The operator's step 1: new key current, old key still readable.
    const rotated = { ...env, ENCRYPTION_KEY: NEW_KEY, ENCRYPTION_KEYS_PREVIOUS: env.ENCRYPTION_KEY };
    const first = await reencryptSecrets(rotated, 1);
    expect(first).toEqual({ reencrypted: 1, unreadable: 0, remaining: 1 });
    const second = await reencryptSecrets(rotated, 1);
    expect(second).toEqual({ reencrypted: 1, unreadable: 0, remaining: 0 });
    expect(await reencryptSecrets(rotated)).toEqual({ reencrypted: 0, unreadable: 0, remaining: 0 });

    const envelopes = await env.DB.prepare("SELECT id, secrets FROM integrations WHERE secrets IS NOT NULL").all<{
      id: string;
      secrets: string;
    }>();
    for (const row of envelopes.results) {
      expect(row.secrets.split(":")[0], row.id).toBe(row.id === broken.id ? "gone" : "test2");
    }
    // Step 2: the old key removed; every re-sealed row still opens.
    const onlyNew = { ...env, ENCRYPTION_KEY: NEW_KEY, ENCRYPTION_KEYS_PREVIOUS: "" };
    for (const { id, token } of created.slice(0, 2)) {
      expect((await resolveSendTarget(onlyNew, id))!.settings.bot_token).toBe(token);
    }
    // The API (still on the old key in this test's bindings) reports them as needing re-entry.
    const res = await api(admin, "GET", `/api/integrations/${created[0]!.id}`);
    expect(((await res.json()) as any).integration.secrets_status).toBe("needs_reentry");
  });
});
