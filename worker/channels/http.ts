import type { SendOutcome } from "./types";

/** Per-request timeout for every system but the webhook (which has its own setting). */
export const DEFAULT_TIMEOUT_MS = 15_000;

/** How much of a failed response's body is kept in the error text. */
const ERROR_BODY_CHARS = 300;

interface HttpRequest {
  fetch: typeof fetch;
  url: string;
  method: "POST" | "PUT";
  headers: Record<string, string>;
  body: string | FormData;
  /** What the delivery log shows as the request body: secrets already redacted. */
  loggedBody: string;
  timeoutMs: number;
  /** Values that must never appear in an error text (tokens, secret URLs). */
  secrets: readonly string[];
  /** Some APIs (Telegram) put the wait in the JSON body of a 429 rather than in Retry-After. */
  retryAfterFromBody?: (body: string) => number | undefined;
}

/** Whole secrets shorter than this are not scrubbed (they would match ordinary text). */
const MIN_SECRET_CHARS = 4;
/** Parts of a secret (a word of it, a URL's path or query) shorter than this are not scrubbed. */
const MIN_PART_CHARS = 8;

/**
 * What to scrub for one secret: the whole value, the value after the whitespace normalisation
 * error texts get, each word of it ("Bearer <token>" → the token, which a receiver may quote
 * alone), and a URL's credentials (user-info, path, query string, each query value).
 */
function secretParts(secret: string): string[] {
  if (secret.length < MIN_SECRET_CHARS) return [];
  const normalised = secret.replace(/\s+/g, " ").trim();
  const parts = [secret, normalised, ...normalised.split(" ").filter((word) => word.length >= MIN_PART_CHARS)];
  const url = URL.canParse(secret) ? new URL(secret) : null;
  if (url?.protocol === "https:" || url?.protocol === "http:") {
    const pieces = [url.username, url.password, url.pathname, url.search, url.search.slice(1)];
    for (const value of url.searchParams.values()) pieces.push(value);
    parts.push(...pieces.filter((piece) => piece.length >= MIN_PART_CHARS));
  }
  return parts;
}

/**
 * Replaces every secret, each part of it, and each one's URL-encoded and JSON-escaped form with
 * "[redacted]", longest first (a whole URL becomes one "[redacted]", not several).
 */
export function redact(text: string, secrets: readonly string[]): string {
  const forms = new Set<string>();
  for (const part of secrets.flatMap(secretParts)) {
    forms.add(part);
    forms.add(encodeURIComponent(part));
    forms.add(JSON.stringify(part).slice(1, -1));
  }
  let out = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) out = out.split(form).join("[redacted]");
  return out;
}

/** Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3), as whole seconds from now. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

/** Reads at most `limit` characters of a body, so a huge error page costs nothing. */
async function readSome(response: Response, limit: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (text.length < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return text.slice(0, limit);
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}

/**
 * Sends one request and classifies the outcome for the delivery engine. Never throws for a
 * receiver's failure; redirects are not followed (a 3xx is a failure: docs/channels.md#outcomes).
 */
export async function sendHttp(request: HttpRequest): Promise<SendOutcome> {
  const started = Date.now();
  const requestBody = redact(request.loggedBody, request.secrets);
  let response: Response;
  try {
    response = await request.fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: "manual",
      signal: AbortSignal.timeout(request.timeoutMs),
    });
  } catch (error) {
    const latencyMs = Date.now() - started;
    if (isTimeout(error)) {
      return { ok: false, kind: "timeout", latencyMs, error: `timed out after ${request.timeoutMs} ms`, requestBody };
    }
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, kind: "network", latencyMs, error: redact(message, request.secrets), requestBody };
  }
  let responseText = "";
  try {
    responseText = await readSome(response, response.ok ? 0 : 4096);
  } catch (error) {
    if (isTimeout(error)) {
      const latencyMs = Date.now() - started;
      return { ok: false, kind: "timeout", latencyMs, error: `timed out after ${request.timeoutMs} ms`, requestBody };
    }
  }
  const latencyMs = Date.now() - started;
  if (response.status >= 200 && response.status < 300) {
    return { ok: true, status: response.status, latencyMs, requestBody };
  }
  const retryAfterSeconds =
    parseRetryAfter(response.headers.get("Retry-After")) ?? request.retryAfterFromBody?.(responseText);
  const excerpt = redact(responseText.replace(/\s+/g, " ").trim(), request.secrets).slice(0, ERROR_BODY_CHARS);
  const location = response.status >= 300 && response.status < 400 ? response.headers.get("Location") : null;
  const error =
    `HTTP ${response.status}` +
    (location ? ` redirect to ${redact(location, request.secrets)} (not followed)` : "") +
    (excerpt ? `: ${excerpt}` : "");
  return {
    ok: false,
    kind: "status",
    status: response.status,
    latencyMs,
    error,
    requestBody,
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    ...(response.status === 410 ? { gone: true } : {}),
  };
}

/** The outcome for settings that cannot be used (the request is not sent). */
export function invalidSettings(error: string, requestBody = ""): SendOutcome {
  return { ok: false, kind: "invalid_settings", latencyMs: 0, error, requestBody };
}

/**
 * Sends one request per notification in order (systems with batchLimit 1 receive a batch of one;
 * this keeps a longer batch correct) and returns the first failure or the last success.
 */
export async function sendEach<T>(
  items: readonly T[],
  sendOne: (item: T, index: number) => Promise<SendOutcome>,
): Promise<SendOutcome> {
  let last: SendOutcome = invalidSettings("nothing to send");
  for (const [index, item] of items.entries()) {
    last = await sendOne(item, index);
    if (!last.ok) return last;
  }
  return last;
}

/**
 * The idempotency key of the index-th notification of a delivery: the delivery id itself for the
 * usual batch of one, so every attempt of a delivery carries the same key.
 */
export function idempotencyKey(deliveryId: string, index: number, count: number): string {
  return count === 1 ? deliveryId : `${deliveryId}.${index}`;
}

/**
 * Splits a batch into consecutive groups whose rendered size stays under `maxBytes` (a single
 * item larger than that still goes alone). Batches normally fit in one request; this keeps
 * pathological events (long escaped strings) under the receiver's body limit.
 */
export function splitBySize<T>(items: readonly T[], sizeOf: (item: T) => number, maxBytes: number): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    const itemSize = sizeOf(item) + 1;
    if (current.length && size + itemSize > maxBytes) {
      groups.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += itemSize;
  }
  if (current.length) groups.push(current);
  return groups;
}

/** UTF-8 size of a value's JSON. */
export function jsonBytes(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value)).length;
}
