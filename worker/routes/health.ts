import { createRoute, z } from "@hono/zod-openapi";
import { createRouter, jsonContent } from "../lib/router";

const router = createRouter();

// Chained so each route's types reach AppType (hc<AppType> in the UI).
const routes = router.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["Health"],
    summary: "Liveness and database reachability",
    responses: {
      200: jsonContent(z.object({ status: z.literal("ok"), database: z.literal("ok"), time: z.string() }), "Healthy"),
      503: jsonContent(z.object({ status: z.literal("degraded"), database: z.string(), time: z.string() }), "Degraded"),
    },
  }),
  async (c) => {
    const time = new Date().toISOString();
    try {
      await c.env.DB.prepare("SELECT 1").first();
      return c.json({ status: "ok" as const, database: "ok" as const, time }, 200);
    } catch (error) {
      // Unauthenticated: say what is down, keep the details in the log.
      console.error("health check: database unreachable", { error: String(error) });
      return c.json({ status: "degraded" as const, database: "unreachable", time }, 503);
    }
  },
);

export default routes;
