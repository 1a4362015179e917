import { createRoute } from "@hono/zod-openapi";
import { count, eq } from "drizzle-orm";
import { CHANNELS } from "../../channels/catalog";
import { CATALOG_BLOCKS } from "../../channels/types";
import { integrations } from "../../db/schema";
import { BLOCK_TITLES, settingsJsonSchema } from "../../integrations/catalog-view";
import { createRouter, errorResponses, jsonContent } from "../../lib/router";
import { CatalogSchema } from "./schemas";
import { isUserManaged } from "./shared";

/** JSON schemas do not change at run time: derive them once per isolate. */
let schemas: Map<string, Record<string, unknown>> | undefined;
function schemaOf(type: string) {
  schemas ??= new Map(CHANNELS.map((channel) => [channel.type as string, settingsJsonSchema(channel)]));
  return schemas.get(type) ?? {};
}

const router = createRouter();

const routes = router.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["Integrations"],
    summary: "The catalog of systems in its three blocks, with forms and this account's counts (admin)",
    responses: { 200: jsonContent(CatalogSchema, "The catalog"), ...errorResponses },
  }),
  async (c) => {
    const rows = await c
      .get("db")
      .select({ type: integrations.type, status: integrations.status, n: count() })
      .from(integrations)
      .where(eq(integrations.accountId, c.get("principal").accountId))
      .groupBy(integrations.type, integrations.status);
    const counts = new Map<string, { enabled: number; disabled: number }>();
    for (const row of rows) {
      const entry = counts.get(row.type) ?? { enabled: 0, disabled: 0 };
      entry[row.status] = row.n;
      counts.set(row.type, entry);
    }
    const blocks = CATALOG_BLOCKS.map((block) => ({
      block,
      title: BLOCK_TITLES[block],
      types: CHANNELS.filter((channel) => channel.block === block).map((channel) => ({
        type: channel.type,
        title: channel.title,
        block: channel.block,
        settings_schema: schemaOf(channel.type),
        secret_fields: [...channel.secretFields],
        generated_fields: [...(channel.generatedFields ?? [])],
        url_fields: [...channel.urlFields],
        categories: [...channel.categories],
        batch_limit: channel.batchLimit,
        managed_by_user: isUserManaged(channel),
        counts: counts.get(channel.type) ?? { enabled: 0, disabled: 0 },
      })),
    }));
    return c.json({ blocks }, 200);
  },
);

export default routes;
