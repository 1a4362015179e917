import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { gzipSync } from "node:zlib";
import preact from "@preact/preset-vite";
import { defineConfig, type Plugin } from "vite";

/** Initial JavaScript (the entry chunk and what it imports statically), gzipped. */
export const INITIAL_JS_BUDGET_BYTES = 100 * 1024;

/**
 * Fails the build when the JavaScript a first visit downloads exceeds the budget. Lazy chunks
 * (uPlot, loaded by the chart pages) do not count.
 */
function initialJsBudget(budget: number): Plugin {
  return {
    name: "herald-initial-js-budget",
    apply: "build",
    generateBundle(_options, bundle) {
      const entry = Object.values(bundle).find((chunk) => chunk.type === "chunk" && chunk.isEntry);
      if (entry?.type !== "chunk") this.error("no entry chunk");
      const seen = new Set<string>();
      const visit = (fileName: string) => {
        if (seen.has(fileName)) return;
        seen.add(fileName);
        const chunk = bundle[fileName];
        if (chunk?.type === "chunk") for (const imported of chunk.imports) visit(imported);
      };
      visit(entry.fileName);
      let total = 0;
      for (const fileName of seen) {
        const chunk = bundle[fileName];
        if (chunk?.type === "chunk") total += gzipSync(chunk.code, { level: 9 }).byteLength;
      }
      const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
      if (total > budget) this.error(`initial JS is ${kb(total)} gzipped, over the ${kb(budget)} budget`);
      console.log(`initial JS: ${kb(total)} gzipped (budget ${kb(budget)})`);
    },
  };
}

/**
 * Swagger UI for /api-docs/ comes from the swagger-ui-dist package at build time (not committed);
 * ui/public/api-docs holds our page and its init script (no inline script: CSP).
 */
function swaggerUiAssets(): Plugin {
  const files = ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"];
  return {
    name: "herald-swagger-ui",
    apply: "build",
    writeBundle(options) {
      const from = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
      const to = path.join(options.dir ?? "dist", "api-docs", "vendor");
      mkdirSync(to, { recursive: true });
      for (const file of files) copyFileSync(path.join(from, file), path.join(to, file));
    },
  };
}

// The admin UI: a static SPA served by Workers assets from ui/dist (no inline scripts: CSP).
export default defineConfig({
  root: import.meta.dirname,
  plugins: [preact(), initialJsBudget(INITIAL_JS_BUDGET_BYTES), swaggerUiAssets()],
  build: { outDir: "dist", emptyOutDir: true, modulePreload: { polyfill: false } },
  server: { proxy: { "/api": "http://localhost:8787", "/v1": "http://localhost:8787" } },
});
