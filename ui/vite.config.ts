import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

// The admin UI: a static SPA served by Workers assets from ui/dist (no inline scripts: CSP).
export default defineConfig({
  root: import.meta.dirname,
  plugins: [preact()],
  build: { outDir: "dist", emptyOutDir: true, modulePreload: { polyfill: false } },
});
