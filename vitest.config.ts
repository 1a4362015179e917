import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Tests in test/worker and test/unit run inside workerd with the real bindings of wrangler.toml
// (D1, the IntegrationDO). Storage is isolated per test file. Migrations are read here in
// Node and applied by test/worker/setup.ts inside the runtime.
export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            PUBLIC_URL: "https://herald.test",
            ALLOW_HTTP_DESTINATIONS: "true",
            ALLOW_PRIVATE_DESTINATIONS: "true",
            MAIL_TRANSPORT: "smtp",
            ENCRYPTION_KEY: "test1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
          },
        },
      }),
    ],
    test: {
      include: ["test/unit/**/*.test.ts", "test/worker/**/*.test.ts"],
      setupFiles: ["./test/worker/setup.ts"],
      testTimeout: 20_000,
    },
  };
});
