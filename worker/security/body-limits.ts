import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { ApiError } from "../lib/errors";
import type { AppEnv } from "../lib/router";

const KiB = 1024;

/**
 * Largest request body per route, checked before anything is parsed (README "Security"): from
 * Content-Length when sent, else while the body streams in. Each is a generous multiple of the
 * largest valid body; ingest (`/v1/events`) is left to its own 1 MiB reader (worker/ingest/body.ts).
 */
const BODY_LIMITS: readonly { method: string; path: RegExp; maxBytes: number | null }[] = [
  { method: "POST", path: /^\/v1\/events$/, maxBytes: null },
  // Email, password: well under 1 KiB.
  { method: "POST", path: /^\/api\/auth\/login$/, maxBytes: 4 * KiB },
  { method: "POST", path: /^\/api\/me\/password$/, maxBytes: 4 * KiB },
  // Settings with up to 50 recipients or custom headers, subscriptions with filters.
  { method: "*", path: /^\/api\/integrations(\/test|\/[^/]+|\/[^/]+\/test)?$/, maxBytes: 64 * KiB },
  // Everything else takes a few small fields (names, roles, subscriptions, a report period).
  { method: "*", path: /^\//, maxBytes: 16 * KiB },
];

function limitFor(method: string, path: string): number | null {
  const rule = BODY_LIMITS.find((r) => (r.method === "*" || r.method === method) && r.path.test(path));
  return rule ? rule.maxBytes : null;
}

const limiters = new Map<number, ReturnType<typeof bodyLimit>>();

/** Answers 413 `payload_too_large` for a body over its route's limit. */
export const limitBodySize = createMiddleware<AppEnv>(async (c, next) => {
  const maxBytes = limitFor(c.req.method, c.req.path);
  if (maxBytes === null) return next();
  let limiter = limiters.get(maxBytes);
  if (!limiter) {
    limiter = bodyLimit({
      maxSize: maxBytes,
      onError: () => {
        throw new ApiError(413, "payload_too_large", `The body exceeds ${maxBytes} bytes, the limit of this endpoint.`);
      },
    });
    limiters.set(maxBytes, limiter);
  }
  return limiter(c, next);
});
