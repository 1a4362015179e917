import { createRoute, z } from "@hono/zod-openapi";
import { legacyImportStatus } from "../legacy-import";
import { createRouter, jsonContent } from "../lib/router";

const router = createRouter();

const LegacyImport = z
  .object({
    in_progress: z.boolean(),
    security_issues_remaining: z.number().int(),
    events_remaining_at_most: z.number().int(),
  })
  .openapi({
    description:
      "The upgrade's import of events still in D1 (docs/data-plane.md): in progress until both legacy tables are gone; events are counted by their seq span (no scan), never fewer than remain",
  });

// Chained so each route's types reach AppType (hc<AppType> in the UI).
const routes = router.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["Health"],
    summary: "Liveness, database reachability and the progress of the upgrade's event import",
    responses: {
      200: jsonContent(
        z.object({ status: z.literal("ok"), database: z.literal("ok"), time: z.string(), legacy_import: LegacyImport }),
        "Healthy",
      ),
      503: jsonContent(z.object({ status: z.literal("degraded"), database: z.string(), time: z.string() }), "Degraded"),
    },
  }),
  async (c) => {
    const time = new Date().toISOString();
    try {
      const legacy = await legacyImportStatus(c.env.DB);
      return c.json(
        {
          status: "ok" as const,
          database: "ok" as const,
          time,
          legacy_import: {
            in_progress: legacy.inProgress,
            security_issues_remaining: legacy.securityIssuesRemaining,
            events_remaining_at_most: legacy.eventsRemainingAtMost,
          },
        },
        200,
      );
    } catch (error) {
      // Unauthenticated: say what is down, keep the details in the log.
      console.error("health check: database unreachable", { error: String(error) });
      return c.json({ status: "degraded" as const, database: "unreachable", time }, 503);
    }
  },
);

export default routes;
