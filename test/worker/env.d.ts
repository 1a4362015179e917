import type { Env as HeraldEnv } from "../../worker/env";

declare global {
  namespace Cloudflare {
    interface Env extends HeraldEnv {
      TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
      /** The receiver hub (test/support/receiver-hub.ts), e.g. http://127.0.0.1:41234 */
      RECEIVER_URL: string;
      SMTP_TEST_PORT: string;
    }
  }
}
