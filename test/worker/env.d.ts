import type { Env as HeraldEnv } from "../../worker/env";

declare global {
  namespace Cloudflare {
    interface Env extends HeraldEnv {
      TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    }
  }
}
