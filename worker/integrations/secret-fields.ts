/**
 * Secret settings by path, independent of the integration type: a channel names its secrets
 * (`"bot_token"`, or `"headers[].value"` for a value inside each item of a list) and this module
 * splits settings into what is stored in clear and what is encrypted, merges them back, masks
 * them for the API and keeps old values where an update leaves a secret blank.
 */

type Settings = Record<string, unknown>;
type Segment = string | typeof EACH;
const EACH = Symbol("each item");

/** "headers[].value" and "headers.*.value" both mean: the `value` of every item of `headers`. */
export function parseSecretPath(path: string): Segment[] {
  return path
    .replace(/\[\]/g, ".*")
    .split(".")
    .filter(Boolean)
    .map((s) => (s === "*" ? EACH : s));
}

const isObject = (v: unknown): v is Settings => !!v && typeof v === "object" && !Array.isArray(v);

interface SecretLeaf {
  /** Concrete path, e.g. ["headers", 2, "value"]. */
  path: (string | number)[];
  value: unknown;
}

/** Every place a secret path reaches in these settings (present or not, for single keys). */
function secretLeaves(settings: unknown, secretPaths: readonly string[]): SecretLeaf[] {
  const out: SecretLeaf[] = [];
  const walk = (node: unknown, segments: Segment[], at: (string | number)[]) => {
    const [head, ...rest] = segments;
    if (head === undefined) {
      out.push({ path: at, value: node });
      return;
    }
    if (head === EACH) {
      if (Array.isArray(node)) {
        node.forEach((item, i) => {
          walk(item, rest, [...at, i]);
        });
      }
      return;
    }
    if (!isObject(node)) {
      if (rest.length === 0 && at.length === 0) out.push({ path: [head], value: undefined });
      return;
    }
    walk(node[head], rest, [...at, head]);
  };
  for (const path of secretPaths) walk(settings, parseSecretPath(path), []);
  return out;
}

function getAt(root: unknown, path: (string | number)[]): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

function setAt(root: Settings, path: (string | number)[], value: unknown): void {
  let node: Record<string | number, unknown> = root;
  path.forEach((key, i) => {
    if (i === path.length - 1) {
      node[key] = value;
      return;
    }
    const nextIsIndex = typeof path[i + 1] === "number";
    if (node[key] === null || typeof node[key] !== "object") node[key] = nextIsIndex ? [] : {};
    node = node[key] as Record<string | number, unknown>;
  });
}

function deleteAt(root: unknown, path: (string | number)[]): void {
  const parent = getAt(root, path.slice(0, -1));
  if (parent && typeof parent === "object") delete (parent as Record<string | number, unknown>)[path.at(-1)!];
}

const clone = <T>(value: T): T => (value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T));

/** Settings → (what is stored in clear, what is encrypted). Arrays stay index-aligned. */
export function splitSecrets(
  settings: Settings,
  secretPaths: readonly string[],
): { clear: Settings; secret: Settings } {
  const clear = clone(settings);
  const secret: Settings = {};
  for (const leaf of secretLeaves(settings, secretPaths)) {
    if (leaf.value === undefined) continue;
    setAt(secret, leaf.path, leaf.value);
    deleteAt(clear, leaf.path);
  }
  return { clear, secret };
}

/** The inverse of splitSecrets: the full settings a channel sends with. */
export function mergeSecrets(clear: Settings, secret: Settings): Settings {
  const merge = (a: unknown, b: unknown): unknown => {
    if (Array.isArray(a) && Array.isArray(b)) {
      return a.map((item, i) => (i < b.length && b[i] != null ? merge(item, b[i]) : item));
    }
    if (isObject(a) && isObject(b)) {
      const out: Settings = { ...a };
      for (const [k, v] of Object.entries(b)) out[k] = k in a ? merge(a[k], v) : v;
      return out;
    }
    return b === undefined ? a : b;
  };
  return merge(clone(clear), secret) as Settings;
}

/** "••••a1b2": the last four characters of long secrets only, so short ones reveal nothing. */
export function maskSecret(value: string): string {
  return value.length >= 12 ? `••••${value.slice(-4)}` : "••••";
}

/** A value the client sent back from a masked answer (or any mask): means "keep the stored one". */
export const looksMasked = (value: string) => value.startsWith("••");

/** Full settings with every secret replaced by its mask (null where it cannot be read). */
export function maskSettings(settings: Settings, secretPaths: readonly string[], unreadable = false): Settings {
  const masked = clone(settings);
  for (const leaf of secretLeaves(settings, secretPaths)) {
    if (typeof leaf.value === "string" && leaf.value !== "") {
      setAt(masked, leaf.path, unreadable ? null : maskSecret(leaf.value));
    }
  }
  // Unreadable secrets are not in `settings` at all: show them as null so the form asks for them.
  if (unreadable) {
    for (const leaf of secretLeaves(masked, secretPaths)) {
      if (leaf.value === undefined && leaf.path.length === 1) setAt(masked, leaf.path, null);
    }
  }
  return masked;
}

/** Settings for the audit log: every secret present is replaced by "[secret]", no hint at all. */
export function redactSettings(settings: Settings, secretPaths: readonly string[]): Settings {
  const redacted = clone(settings);
  for (const leaf of secretLeaves(settings, secretPaths)) {
    if (leaf.value !== undefined && leaf.value !== null && leaf.value !== "") setAt(redacted, leaf.path, "[secret]");
  }
  return redacted;
}

/** Blank, absent or masked: the update does not touch this secret. */
const keepsOld = (value: unknown) =>
  value === undefined || value === null || value === "" || (typeof value === "string" && looksMasked(value));

/**
 * The settings to store after an update: every secret the update leaves blank, absent or masked
 * takes the old value. Items of a list are matched to old items by their `name` (case-insensitive)
 * when they have one — header order may change — else by position.
 * Returns the paths that still have no value (old secrets unreadable, or a new list item).
 */
export function keepBlankSecrets(
  incoming: Settings,
  previous: Settings | null,
  secretPaths: readonly string[],
): { settings: Settings; missing: (string | number)[][] } {
  const settings = clone(incoming);
  const missing: (string | number)[][] = [];
  for (const leaf of secretLeaves(settings, secretPaths)) {
    if (!keepsOld(leaf.value)) continue;
    const old = previous ? oldValueFor(settings, previous, leaf.path) : undefined;
    if (typeof old === "string" && old !== "") {
      setAt(settings, leaf.path, old);
    } else {
      deleteAt(settings, leaf.path);
      missing.push(leaf.path);
    }
  }
  return { settings, missing };
}

function oldValueFor(current: Settings, previous: Settings, path: (string | number)[]): unknown {
  const oldPath: (string | number)[] = [];
  for (let i = 0; i < path.length; i++) {
    const key = path[i]!;
    if (typeof key === "number") {
      const item = getAt(current, path.slice(0, i + 1));
      const oldList = getAt(previous, oldPath);
      const name = isObject(item) && typeof item.name === "string" ? item.name.toLowerCase() : null;
      if (name !== null && Array.isArray(oldList)) {
        const index = oldList.findIndex(
          (o) => isObject(o) && typeof o.name === "string" && o.name.toLowerCase() === name,
        );
        if (index < 0) return undefined;
        oldPath.push(index);
        continue;
      }
    }
    oldPath.push(key);
  }
  return getAt(previous, oldPath);
}

/** Every secret string in these settings: for log and response leak checks. */
export function secretValues(settings: Settings, secretPaths: readonly string[]): string[] {
  return secretLeaves(settings, secretPaths)
    .map((leaf) => leaf.value)
    .filter((v): v is string => typeof v === "string" && v !== "");
}
