import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Db } from "../db/client";
import type { Env } from "../env";
import { fieldErrors, validationError } from "./errors";
import type { Principal } from "./principal";

export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    db: Db;
    /** Set by requireAuth. */
    principal: Principal;
  };
};

/**
 * Every router is built here so that all of them turn zod failures into the same
 * 400 envelope naming the field ("settings.webhook_url", "events.3.risk").
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const where = result.target === "json" ? [] : [result.target];
        throw validationError(fieldErrors(result.error, where));
      }
    },
  });
}

/** The error envelope, for OpenAPI responses. */
export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "validation_failed" }),
      message: z.string(),
      details: z.unknown().optional(),
      requestId: z.string(),
    }),
  })
  .openapi("Error");

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorSchema } },
});

/** A 429 of a per-account limit (`limitPerAccount`), in a route's `responses`. */
export const rateLimitedResponse = (what: string) => errorResponse(`Too many ${what}; see Retry-After`);

/** Standard error responses to spread into a route's `responses`. */
export const errorResponses = {
  400: errorResponse("Invalid input; details name each wrong field"),
  401: errorResponse("Not signed in, or the token is wrong or revoked"),
  403: errorResponse("The caller's role does not allow this, or the CSRF token is missing"),
  404: errorResponse("Not found in the caller's account"),
} as const;

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});
