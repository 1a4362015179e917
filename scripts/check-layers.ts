/**
 * `npm run lint` runs this: no folder of worker/ (or ui/src/) may import a folder that imports it
 * back, directly or around a longer loop (docs/architecture.md#layers). Reads the import lines
 * of the source files as text; prints each loop with one import per step, and exits 1 if any.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");
const TREES = ["worker", "ui/src"];
const IMPORT = /^\s*(?:import|export)\b[^'"]*?\sfrom\s+["']([^"']+)["']/gm;

/** One import between two folders, kept to name the loop's steps. */
interface Edge {
  from: string;
  to: string;
  file: string;
  specifier: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith(".d.ts") ? [full] : [];
  });
}

/**
 * The Worker's bindings type names the classes it binds (the Durable Object, the queue's job): it
 * is a declaration everything reads, so its own imports are not arrows between layers.
 */
const DECLARATIONS = new Set(["worker/env.ts"]);

/** A file's folder within its tree ("worker/delivery"); a file at the top of the tree is its own node. */
function folderOf(tree: string, file: string): string {
  const relative = path.relative(path.join(ROOT, tree), file).split(path.sep);
  return relative.length > 1 ? `${tree}/${relative[0]}` : `${tree}/${relative[0]?.replace(/\.tsx?$/, "")}`;
}

function edgesOf(tree: string): Edge[] {
  const base = path.join(ROOT, tree);
  const edges: Edge[] = [];
  for (const file of sourceFiles(base)) {
    if (DECLARATIONS.has(path.relative(ROOT, file))) continue;
    const from = folderOf(tree, file);
    for (const [, specifier] of readFileSync(file, "utf8").matchAll(IMPORT)) {
      if (!specifier?.startsWith(".")) continue;
      const target = path.resolve(path.dirname(file), specifier);
      if (!target.startsWith(base + path.sep)) continue;
      const to = folderOf(tree, target);
      if (to !== from) edges.push({ from, to, file: path.relative(ROOT, file), specifier });
    }
  }
  return edges;
}

/** Folder loops: for each folder, a shortest path back to itself (breadth-first). */
function loops(edges: Edge[]): Edge[][] {
  const out = new Map<string, Edge[]>();
  for (const edge of edges) out.set(edge.from, [...(out.get(edge.from) ?? []), edge]);
  const found = new Map<string, Edge[]>();
  for (const start of out.keys()) {
    const via = new Map<string, Edge>();
    const queue = [start];
    while (queue.length > 0) {
      const folder = queue.shift() as string;
      for (const edge of out.get(folder) ?? []) {
        if (edge.to === start) {
          const loop = [edge];
          for (let at = folder; at !== start; at = (via.get(at) as Edge).from) loop.unshift(via.get(at) as Edge);
          const key = [...loop.map((e) => e.from)].sort().join(" ");
          if (!found.has(key)) found.set(key, loop);
          queue.length = 0;
          break;
        }
        if (!via.has(edge.to) && edge.to !== start) {
          via.set(edge.to, edge);
          queue.push(edge.to);
        }
      }
    }
  }
  return [...found.values()];
}

const problems = TREES.flatMap((tree) => loops(edgesOf(tree)));
for (const loop of problems) {
  console.error(`import loop: ${[...loop.map((e) => e.from), loop[0]?.from].join(" → ")}`);
  for (const edge of loop) console.error(`  ${edge.file} imports ${edge.specifier}`);
}
if (problems.length > 0) process.exit(1);
console.log(`check-layers: no folder imports a folder that imports it back (${TREES.join(", ")})`);
