import type { z } from "zod";

/**
 * The one error envelope: {"error": {"code", "message", "details"?, "requestId"}}.
 * Throw an ApiError anywhere in a handler; the app's onError turns it into the response.
 */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 502 | 503,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const notFound = (what = "resource") => new ApiError(404, "not_found", `The ${what} does not exist.`);
export const forbidden = () => new ApiError(403, "forbidden", "Your role does not allow this action.");
export const unauthorized = (message = "Sign in or send a valid API token.") =>
  new ApiError(401, "unauthorized", message);

export interface FieldError {
  /** Dotted path of the offending field, e.g. "settings.webhook_url" or "events.3.risk". */
  field: string;
  message: string;
}

/** zod issues → field errors that name the field the way the client sent it. */
export function fieldErrors(error: z.ZodError, prefix: (string | number)[] = []): FieldError[] {
  return error.issues.map((issue) => ({
    field: [...prefix, ...issue.path].map(String).join(".") || "(body)",
    message: issue.message,
  }));
}

export function validationError(errors: FieldError[], message?: string) {
  const first = errors[0];
  return new ApiError(
    400,
    "validation_failed",
    message ?? (first ? `Invalid ${first.field}: ${first.message}` : "The request is invalid."),
    errors,
  );
}
