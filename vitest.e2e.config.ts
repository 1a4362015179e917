import { defineConfig } from "vitest/config";

// End-to-end suites run in Node against real processes: `wrangler dev` (test/support/herald-process.ts),
// the receiver hub's HTTP and SMTP servers, and Chromium for the UI. Files run one at a time:
// each starts its own workerd, and the machine has two cores.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
