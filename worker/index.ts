import { createApp } from "./app";
import type { Env } from "./env";
import { handleReportJobs } from "./reports/schedule";
import { runScheduled } from "./scheduled";

export { IntegrationDO } from "./delivery/integration-do";
export { EventShardDO } from "./events/shard-do";
export { AccountIngestDO } from "./ingest/account-do";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    await runScheduled(controller, env, ctx);
  },
  // The only queue is REPORT_JOBS: one message per scheduled report to build.
  async queue(batch, env) {
    await handleReportJobs(batch, env);
  },
} satisfies ExportedHandler<Env>;
