import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * Files that run account-wide jobs (cron, retention, housekeeping, key rotation, report
 * scheduling) or assert on whole tables: they get storage of their own. Every other file shares
 * one runtime and its storage with the files run before it in the same worker (`isolate: false`
 * saves each file ~2 s of module transform and start-up), so those tests scope what they read to
 * accounts they created.
 */
const ACCOUNT_WIDE_FILES = [
  "test/worker/housekeeping.test.ts",
  "test/worker/events.test.ts",
  "test/worker/integrations/key-rotation.test.ts",
  "test/worker/integrations/secrets-crypto.test.ts",
  "test/worker/delivery/system-notices.test.ts",
  "test/worker/reports/schedule.test.ts",
  "test/worker/ingest/account-object.test.ts",
];

// Tests in test/worker and test/unit run inside workerd with the real bindings of wrangler.toml
// (D1, the IntegrationDO). Migrations are read here in Node and applied by test/worker/setup.ts
// inside the runtime. The receiver hub (real HTTP and SMTP receivers on 127.0.0.1) is started by
// globalSetup and reaches tests as bindings.
export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    plugins: [
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            RECEIVER_URL: inject("receiverUrl"),
            SMTP_TEST_PORT: String(inject("smtpPort")),
            PUBLIC_URL: "https://herald.test",
            ALLOW_HTTP_DESTINATIONS: "true",
            ALLOW_PRIVATE_DESTINATIONS: "true",
            MAIL_TRANSPORT: "smtp",
            SMTP_HOST: "127.0.0.1",
            SMTP_PORT: String(inject("smtpPort")),
            SMTP_SECURE: "none",
            MAIL_FROM: "herald@herald.test",
            ENCRYPTION_KEY: "test1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            // Vendor hosts point at receiver-hub buckets so sends to every system stay on 127.0.0.1.
            TELEGRAM_API_BASE: `${inject("receiverUrl")}/r/telegram`,
            PAGERDUTY_EVENTS_URL: `${inject("receiverUrl")}/r/pagerduty/v2/enqueue`,
            OPSGENIE_API_URL_US: `${inject("receiverUrl")}/r/opsgenie-us/v2/alerts`,
            OPSGENIE_API_URL_EU: `${inject("receiverUrl")}/r/opsgenie-eu/v2/alerts`,
          },
        },
      })),
    ],
    test: {
      globalSetup: ["./test/support/global-setup.ts"],
      setupFiles: ["./test/worker/setup.ts"],
      testTimeout: 30_000,
      projects: [
        {
          extends: true,
          test: {
            name: "workerd",
            include: ["test/unit/**/*.test.ts", "test/worker/**/*.test.ts"],
            exclude: ACCOUNT_WIDE_FILES,
            isolate: false,
          },
        },
        { extends: true, test: { name: "workerd-own-storage", include: ACCOUNT_WIDE_FILES } },
      ],
    },
  };
});
