import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, ROOT } from "../../scripts/local-config.ts";

// `wrangler deploy` must work from a clean checkout: the dry run bundles the Worker and checks
// wrangler.toml (bindings, the Durable Object migration, the cron, assets) without uploading.
describe("wrangler deploy --dry-run", () => {
  it("bundles the Worker with its Durable Object classes and all bindings", () => {
    const outdir = mkdtempSync(path.join(tmpdir(), "herald-deploy-"));
    try {
      const output = execFileSync(path.join(BIN, "wrangler"), ["deploy", "--dry-run", "--outdir", outdir], {
        cwd: ROOT,
        env: { ...process.env, CI: "1", NO_COLOR: "1", WRANGLER_SEND_METRICS: "false" },
        encoding: "utf8",
      });
      expect(output).toContain("env.DB");
      expect(output).toContain("env.INTEGRATION_DO (IntegrationDO)");
      expect(output).toContain("env.EVENT_SHARD_DO (EventShardDO)");
      expect(output).toContain("env.SEND_EMAIL");
      const bundle = readdirSync(outdir).find((f) => f.endsWith(".js"));
      expect(bundle).toBeDefined();
      expect(readFileSync(path.join(outdir, bundle!), "utf8")).toMatch(/IntegrationDO = class extends DurableObject/);
      expect(readFileSync(path.join(outdir, bundle!), "utf8")).toMatch(/EventShardDO = class extends DurableObject/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
