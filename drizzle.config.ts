import { defineConfig } from "drizzle-kit";

// `npm run db:generate` writes reviewed SQL migrations that wrangler applies (`migrations/`).
export default defineConfig({
  dialect: "sqlite",
  schema: "./worker/db/schema.ts",
  out: "./migrations",
});
