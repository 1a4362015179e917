import { type ClientResponse, hc } from "hono/client";
// Type-only: the Worker's routes give the client its paths, inputs and response bodies.
import type { AppType } from "../../../worker/app";

/** A field-level problem the API reported, keyed by its dotted path ("settings.url"). */
export interface FieldError {
  field: string;
  message: string;
}

/** Any failed API call: the error envelope, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldError[] = [],
    readonly requestId?: string,
  ) {
    super(message);
  }

  /** Field errors as a map, for forms that show them next to each input. */
  fieldErrors(prefix = ""): Record<string, string> {
    const map: Record<string, string> = {};
    for (const d of this.details) {
      if (!d.field.startsWith(prefix)) continue;
      const key = d.field.slice(prefix.length);
      map[key] ??= d.message;
    }
    return map;
  }
}

let csrfToken: string | null = null;
let onSignedOut: () => void = () => {};

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called once by the app: any 401 from the API sends the user back to the sign-in page. */
export function onUnauthorized(handler: () => void): void {
  onSignedOut = handler;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The one place every request passes: adds the CSRF header to writes and keeps cookies same-origin. */
const heraldFetch: typeof fetch = (input, init = {}) => {
  const method = (init.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
  const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
  if (!SAFE_METHODS.has(method) && csrfToken) headers.set("X-CSRF-Token", csrfToken);
  return fetch(input, { ...init, headers, credentials: "same-origin" });
};

export const client = hc<AppType>("/", { fetch: heraldFetch });

type SuccessStatus = 200 | 201 | 202 | 204;
/** The body type of a response's 2xx answers. */
export type OkBody<R> =
  R extends ClientResponse<infer T, infer S, infer _F> ? (S extends SuccessStatus ? T : never) : never;

interface ErrorEnvelope {
  error?: { code?: string; message?: string; details?: unknown; requestId?: string };
}

function asFieldErrors(details: unknown): FieldError[] {
  if (!Array.isArray(details)) return [];
  return details.filter(
    (d): d is FieldError =>
      typeof d === "object" && d !== null && typeof d.field === "string" && typeof d.message === "string",
  );
}

const STATUS_ADVICE: Record<number, string> = {
  401: "Your session has ended. Sign in again.",
  403: "Your role does not allow this. Ask an administrator.",
  404: "It does not exist, or it was deleted.",
  429: "Too many requests. Wait a moment and try again.",
};

/**
 * Awaits a typed client call and returns its 2xx body; anything else becomes an ApiError with
 * the API's message (or advice for the status when the answer is not the JSON envelope).
 */
export async function call<R extends ClientResponse<unknown, number, string>>(request: Promise<R>): Promise<OkBody<R>> {
  let res: R;
  try {
    res = await request;
  } catch {
    throw new ApiError(0, "network", "Herald cannot be reached. Check your connection and try again.");
  }
  if (res.ok) {
    if (res.status === 204) return undefined as OkBody<R>;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as OkBody<R>;
  }
  let envelope: ErrorEnvelope = {};
  try {
    envelope = (await res.json()) as ErrorEnvelope;
  } catch {
    // not JSON (a proxy's error page): fall back to advice by status
  }
  const error = new ApiError(
    res.status,
    envelope.error?.code ?? `http_${res.status}`,
    envelope.error?.message ?? STATUS_ADVICE[res.status] ?? `Herald answered ${res.status}. Try again in a moment.`,
    asFieldErrors(envelope.error?.details),
    envelope.error?.requestId,
  );
  if (res.status === 401) onSignedOut();
  throw error;
}

/** Message for any thrown value, for error banners. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return "Something went wrong. Try again.";
}
