import { createApp } from "./app";
import type { Env } from "./env";
import { runScheduled } from "./scheduled";

export { IntegrationDO } from "./delivery/integration-do";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    await runScheduled(controller, env, ctx);
  },
} satisfies ExportedHandler<Env>;
