import { describe, expect, it } from "vitest";
import { base64 } from "../../../worker/lib/ids";
import {
  currentKeyId,
  decryptSecrets,
  encryptSecrets,
  envelopeKeyId,
  KeyConfigurationError,
  SecretsUnreadableError,
} from "../../../worker/security/secrets";

const keyOf = (id: string, fill: number) => `${id}:${base64(new Uint8Array(32).fill(fill))}`;
const K1 = keyOf("k1", 1);
const K2 = keyOf("k2", 2);

describe("secrets at rest (AES-256-GCM)", () => {
  it("round-trips, with a fresh IV each time and the key id in the envelope", async () => {
    const env = { ENCRYPTION_KEY: K1 };
    const secrets = { bot_token: "123456:ABCdefGHIjklMNOpqrSTUvwxYZ", headers: [{ value: "Bearer x" }] };
    const a = await encryptSecrets(env, "int-1", secrets);
    const b = await encryptSecrets(env, "int-1", secrets);
    expect(a).not.toBe(b);
    expect(a.startsWith("k1:")).toBe(true);
    expect(a).not.toContain("ABCdef");
    expect(envelopeKeyId(a)).toBe("k1");
    expect(await decryptSecrets(env, "int-1", a)).toEqual(secrets);
  });

  it("binds the ciphertext to its integration id: another row cannot open it", async () => {
    const env = { ENCRYPTION_KEY: K1 };
    const sealed = await encryptSecrets(env, "int-1", { api_key: "secret" });
    await expect(decryptSecrets(env, "int-2", sealed)).rejects.toBeInstanceOf(SecretsUnreadableError);
    await expect(decryptSecrets(env, "int-2", sealed)).rejects.toMatchObject({ reason: "authentication_failed" });
  });

  it("detects tampering and malformed envelopes", async () => {
    const env = { ENCRYPTION_KEY: K1 };
    const sealed = await encryptSecrets(env, "int-1", { api_key: "secret" });
    const [id, iv, ct] = sealed.split(":") as [string, string, string];
    const flipped = `${id}:${iv}:${ct.slice(0, 5)}${ct[5] === "A" ? "B" : "A"}${ct.slice(6)}`;
    await expect(decryptSecrets(env, "int-1", flipped)).rejects.toMatchObject({ reason: "authentication_failed" });
    await expect(decryptSecrets(env, "int-1", "garbage")).rejects.toMatchObject({ reason: "malformed" });
  });

  it("reads envelopes of a previous key during rotation and seals new ones with the current key", async () => {
    const old = await encryptSecrets({ ENCRYPTION_KEY: K1 }, "int-1", { token: "t" });
    const rotated = { ENCRYPTION_KEY: K2, ENCRYPTION_KEYS_PREVIOUS: `${K1}` };
    expect(await decryptSecrets(rotated, "int-1", old)).toEqual({ token: "t" });
    expect(await currentKeyId(rotated)).toBe("k2");
    expect(envelopeKeyId(await encryptSecrets(rotated, "int-1", { token: "t" }))).toBe("k2");
    // Once the old key is removed, its envelopes are reported unreadable (not a crash).
    await expect(decryptSecrets({ ENCRYPTION_KEY: K2 }, "int-1", old)).rejects.toMatchObject({
      reason: "unknown_key",
    });
  });

  it("refuses missing or malformed keys without echoing the key material", async () => {
    await expect(encryptSecrets({}, "i", {})).rejects.toBeInstanceOf(KeyConfigurationError);
    const short = `k9:${base64(new Uint8Array(16).fill(7))}`;
    const error = await encryptSecrets({ ENCRYPTION_KEY: short }, "i", {}).catch((e: Error) => e);
    expect(error).toBeInstanceOf(KeyConfigurationError);
    expect((error as Error).message).not.toContain(short.slice(3));
    await expect(encryptSecrets({ ENCRYPTION_KEY: "no-separator" }, "i", {})).rejects.toBeInstanceOf(
      KeyConfigurationError,
    );
  });
});
