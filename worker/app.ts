import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import { createDb } from "./db/client";
import { ApiError } from "./lib/errors";
import { uuidv7 } from "./lib/ids";
import { type AppEnv, createRouter } from "./lib/router";
import apiTokens from "./routes/api-tokens";
import audit from "./routes/audit";
import auth from "./routes/auth";
import docs from "./routes/docs";
import events, { eventLinks } from "./routes/events";
import health from "./routes/health";
import ingest from "./routes/ingest";
import integrations, { integrationTypes } from "./routes/integrations";
import meNotifications from "./routes/me-notifications";
import nodes from "./routes/nodes";
import reports from "./routes/reports";
import securityIssues from "./routes/security-issues";
import silences from "./routes/silences";
import triggers from "./routes/triggers";
import users from "./routes/users";
import { limitBodySize } from "./security/body-limits";

/**
 * Builds the Hono app the same way for production and tests. Each resource is a router of its
 * own, mounted here; the OpenAPI document is generated from their zod schemas.
 */
export function createApp() {
  const app = createRouter();

  app.use("*", async (c, next) => {
    c.set("requestId", c.req.header("CF-Ray") ?? uuidv7());
    c.set("db", createDb(c.env.DB));
    await next();
    c.header("X-Request-Id", c.get("requestId"));
  });

  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        objectSrc: ["'none'"],
      },
      strictTransportSecurity: "max-age=63072000; includeSubDomains",
      referrerPolicy: "no-referrer",
      xFrameOptions: "DENY",
    }),
  );
  app.use("*", limitBodySize);
  // API answers are per-user: never cache them.
  app.use("/api/*", async (c, next) => {
    await next();
    c.header("Cache-Control", "no-store");
  });

  app.onError((error, c) => {
    const requestId = c.get("requestId") ?? "unknown";
    if (error instanceof ApiError) {
      for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value);
      return c.json(
        { error: { code: error.code, message: error.message, details: error.details, requestId } },
        error.status,
      );
    }
    if (error instanceof HTTPException) {
      const status = error.status;
      const code = status === 413 ? "payload_too_large" : status === 401 ? "unauthorized" : "http_error";
      return c.json({ error: { code, message: error.message || "Request refused.", requestId } }, status);
    }
    if (error instanceof SyntaxError) {
      return c.json({ error: { code: "invalid_json", message: "The body is not valid JSON.", requestId } }, 400);
    }
    console.error("unhandled error", { requestId, error: String(error), stack: (error as Error).stack });
    return c.json({ error: { code: "internal_error", message: "Something went wrong on our side.", requestId } }, 500);
  });

  app.notFound((c) =>
    c.json({ error: { code: "not_found", message: "No such endpoint.", requestId: c.get("requestId") } }, 404),
  );

  // Each router under its prefix, so each guards only its own paths (authentication runs once).
  // Chained so the route types flow into AppType for the UI's typed client (hc<AppType>).
  const routes = app
    .route("/api/health", health)
    .route("/api", auth)
    .route("/api/users", users)
    .route("/api/tokens", apiTokens)
    .route("/api/integration-types", integrationTypes)
    .route("/api/integrations", integrations)
    .route("/api/me/notifications", meNotifications)
    .route("/api/audit", audit)
    .route("/api/nodes", nodes)
    .route("/api/events", events)
    .route("/events", eventLinks)
    .route("/api/security-issues", securityIssues)
    .route("/v1/events", ingest)
    .route("/api/reports", reports)
    .route("/api/triggers", triggers)
    .route("/api/silences", silences)
    .route("/api/docs", docs);

  app.doc31("/api/openapi.json", (c) => ({
    openapi: "3.1.0",
    info: {
      title: "Herald API",
      version: "1.0.0",
      description:
        "Integrations hub: nodes post events to /v1/events; admins manage integrations, nodes, users and reports under /api.",
    },
    servers: [{ url: new URL(c.req.url).origin }],
  }));
  app.openAPIRegistry.registerComponent("securitySchemes", "session", {
    type: "apiKey",
    in: "cookie",
    name: "herald_session",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer" });
  return routes;
}

/** The whole API's type, for `hc<AppType>` in the UI. */
export type AppType = ReturnType<typeof createApp>;
export type { AppEnv };
