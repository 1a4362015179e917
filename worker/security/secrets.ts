import { base64url, fromBase64 } from "../lib/ids";

/**
 * Integration secrets at rest: AES-256-GCM (WebCrypto) with a random 96-bit IV per write.
 *
 * Envelope: "<keyId>:<iv b64url>:<ciphertext+tag b64url>". The key id says which key sealed it,
 * so `ENCRYPTION_KEY` can be rotated while older envelopes stay readable through
 * `ENCRYPTION_KEYS_PREVIOUS`. The integration id is the additional authenticated data: an envelope
 * copied to another row fails authentication instead of leaking that row's secrets.
 */

export interface KeyringEnv {
  ENCRYPTION_KEY?: string;
  ENCRYPTION_KEYS_PREVIOUS?: string;
}

interface KeyEntry {
  id: string;
  key: CryptoKey;
}

interface Keyring {
  current: KeyEntry;
  byId: Map<string, KeyEntry>;
}

/** The deployment's keys are missing or malformed: an operator error, never the caller's. */
export class KeyConfigurationError extends Error {}

/** The envelope cannot be opened: wrong row, tampered, or sealed with a key no longer configured. */
export class SecretsUnreadableError extends Error {
  constructor(readonly reason: "unknown_key" | "authentication_failed" | "malformed") {
    super(`integration secrets cannot be decrypted (${reason})`);
  }
}

const KEY_ID = /^[A-Za-z0-9_.-]{1,32}$/;

/** Parses "keyId:base64(32 bytes)"; the message never includes the key material. */
async function importKey(spec: string, variable: string): Promise<KeyEntry> {
  const separator = spec.indexOf(":");
  const id = spec.slice(0, separator).trim();
  const material = spec.slice(separator + 1).trim();
  if (separator < 1 || !KEY_ID.test(id)) {
    throw new KeyConfigurationError(`${variable} must be "keyId:base64(32 bytes)" with a key id of [A-Za-z0-9_.-]`);
  }
  let raw: Uint8Array<ArrayBuffer>;
  try {
    raw = fromBase64(material);
  } catch {
    throw new KeyConfigurationError(`${variable} key "${id}" is not valid base64`);
  }
  if (raw.length !== 32) throw new KeyConfigurationError(`${variable} key "${id}" must be 32 bytes (AES-256)`);
  const key = await crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
  return { id, key };
}

/** Imported keys, cached per isolate by the configuration strings (imports are not free). */
let cached: { spec: string; ring: Promise<Keyring> } | undefined;

function loadKeyring(env: KeyringEnv): Promise<Keyring> {
  const spec = `${env.ENCRYPTION_KEY ?? ""}|${env.ENCRYPTION_KEYS_PREVIOUS ?? ""}`;
  if (cached?.spec === spec) return cached.ring;
  const ring = buildKeyring(env);
  cached = { spec, ring };
  // A failed build must not stick: the next call retries (and throws its own clear error).
  ring.catch(() => {
    if (cached?.ring === ring) cached = undefined;
  });
  return ring;
}

async function buildKeyring(env: KeyringEnv): Promise<Keyring> {
  if (!env.ENCRYPTION_KEY) throw new KeyConfigurationError("ENCRYPTION_KEY is not set");
  const current = await importKey(env.ENCRYPTION_KEY, "ENCRYPTION_KEY");
  const byId = new Map([[current.id, current]]);
  const previous = (env.ENCRYPTION_KEYS_PREVIOUS ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const spec of previous) {
    const entry = await importKey(spec, "ENCRYPTION_KEYS_PREVIOUS");
    // The current key wins a clash: it is the one new envelopes are sealed with.
    if (!byId.has(entry.id)) byId.set(entry.id, entry);
  }
  return { current, byId };
}

const aadFor = (integrationId: string) => new TextEncoder().encode(`herald/integration/${integrationId}`);

/** Seals a secrets object for one integration row with the current key. */
export async function encryptSecrets(
  env: KeyringEnv,
  integrationId: string,
  secrets: Record<string, unknown>,
): Promise<string> {
  const { current } = await loadKeyring(env);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plaintext = new TextEncoder().encode(JSON.stringify(secrets));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: aadFor(integrationId) },
    current.key,
    plaintext,
  );
  return `${current.id}:${base64url(iv)}:${base64url(new Uint8Array(sealed))}`;
}

/** Opens an envelope sealed for this integration row; throws SecretsUnreadableError otherwise. */
export async function decryptSecrets(
  env: KeyringEnv,
  integrationId: string,
  envelope: string,
): Promise<Record<string, unknown>> {
  const ring = await loadKeyring(env);
  const parts = envelope.split(":");
  if (parts.length !== 3) throw new SecretsUnreadableError("malformed");
  const [keyId, ivText, sealedText] = parts as [string, string, string];
  const entry = ring.byId.get(keyId);
  if (!entry) throw new SecretsUnreadableError("unknown_key");
  let plaintext: ArrayBuffer;
  try {
    plaintext = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromBase64(ivText), additionalData: aadFor(integrationId) },
      entry.key,
      fromBase64(sealedText),
    );
  } catch {
    throw new SecretsUnreadableError("authentication_failed");
  }
  try {
    const value = JSON.parse(new TextDecoder().decode(plaintext)) as unknown;
    if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error("not an object");
    return value as Record<string, unknown>;
  } catch {
    throw new SecretsUnreadableError("malformed");
  }
}

/** The key id an envelope was sealed with (null if malformed): rotation re-encrypts the others. */
export function envelopeKeyId(envelope: string): string | null {
  const separator = envelope.indexOf(":");
  return separator > 0 ? envelope.slice(0, separator) : null;
}

/** The id of the key new envelopes are sealed with. */
export async function currentKeyId(env: KeyringEnv): Promise<string> {
  return (await loadKeyring(env)).current.id;
}

/** Ids of the older keys still configured for reading (rotation re-seals rows on these). */
export async function previousKeyIds(env: KeyringEnv): Promise<string[]> {
  const ring = await loadKeyring(env);
  return [...ring.byId.keys()].filter((id) => id !== ring.current.id);
}
