import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Runs before each test file, inside workerd: storage is per file, so migrate each time.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
