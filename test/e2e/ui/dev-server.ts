/**
 * Development helper for the UI (not a test): Herald under wrangler dev with its own fresh state
 * plus a receiver hub, kept running until Ctrl+C. `node test/e2e/ui/dev-server.ts`
 */
import { startHerald } from "../../support/herald-process.ts";
import { startReceiverHub } from "../../support/receiver-hub.ts";

const hub = await startReceiverHub();
const herald = await startHerald({ vars: { RETRY_SCHEDULE: "1,1,1", FAILURE_MIN_REQUESTS: "4" } });
console.log(JSON.stringify({ herald: herald.url, receiver: hub.url }));
const stop = async () => {
  await herald.stop();
  await hub.close();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
