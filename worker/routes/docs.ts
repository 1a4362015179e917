import { createRouter } from "../lib/router";

const router = createRouter();

// Swagger UI is served as static assets (ui/public/api-docs, no inline script) and reads
// /api/openapi.json, which createApp() generates from the routes' zod schemas.
router.get("/", (c) => c.redirect("/api-docs/", 302));

export default router;
