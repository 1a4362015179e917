/**
 * Runs Herald for real: `wrangler dev` (workerd, local D1 and Durable Objects) as a child process
 * on a free port, with its own fresh state directory, the migrations applied and the demo account
 * created — exactly what `npm start` gives a newcomer, but isolated per test run.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { type ApiSession, signIn } from "../../scripts/api-session.ts";
import { executeSql, prepareLocalDatabase } from "../../scripts/demo-seed.ts";
import { BIN, DEMO, ROOT } from "../../scripts/local-config.ts";

export { type ApiSession, signIn };

export interface HeraldProcess {
  /** http://localhost:<port> — "localhost" so browsers accept the Secure session cookie. */
  url: string;
  port: number;
  /** wrangler dev's inspector (Chrome DevTools protocol; test/bench/profile.ts records CPU profiles through it). */
  inspectorPort: number;
  /** Output of wrangler so far (for failure messages). */
  logs(): string;
  /** The process group of wrangler and its workerd (for the soak's memory readings). */
  processGroup(): number | undefined;
  /** The `--persist-to` directory: local D1 and Durable Object storage. */
  stateDir: string;
  /** Signs in as the demo admin: cookie + CSRF token for API calls from Node. */
  signIn(email?: string, password?: string): Promise<ApiSession>;
  /** Fires the hourly cron once (wrangler dev --test-scheduled). */
  triggerCron(): Promise<void>;
  /** Kills wrangler and workerd with SIGKILL, as a crash would; the state directory is kept. */
  kill(): Promise<void>;
  /** Starts `wrangler dev` again on the same port and state directory (after kill or stop). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const TEST_ENCRYPTION_KEY = "e2e1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface WranglerProcess {
  /** wrangler's pid, also the id of its process group (workerd included). */
  pid: number | undefined;
  /** Output of wrangler so far (for failure messages). */
  logs(): string;
  /** Stops wrangler and its workerd (the whole process group). */
  stop(): Promise<void>;
  /** SIGKILL to the whole process group: no shutdown handlers run. */
  kill(): Promise<void>;
}

/** `wrangler dev` on 127.0.0.1:<port> with its state under `persistTo`, quiet, vars from the command line. */
export function wranglerDevArgs(
  port: number,
  inspectorPort: number,
  persistTo: string,
  vars: Record<string, string>,
): string[] {
  const args = [
    "dev",
    "--port",
    String(port),
    "--ip",
    "127.0.0.1",
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    persistTo,
    "--show-interactive-dev-session=false",
    "--log-level",
    "warn",
  ];
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  return args;
}

/**
 * Spawns `wrangler <args>` from the repository root in its own process group and resolves once
 * `healthUrl` answers 2xx; throws (with wrangler's output) if it exits or is not healthy in time.
 */
export async function spawnWrangler(args: string[], healthUrl: string, timeoutMs: number): Promise<WranglerProcess> {
  let output = "";
  const child: ChildProcess = spawn(path.join(BIN, "wrangler"), args, {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal); // the whole group: wrangler and its workerd
    } catch {
      child.kill(signal);
    }
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited early:\n${output}`);
    try {
      if ((await fetch(healthUrl)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      killGroup("SIGKILL");
      throw new Error(`wrangler dev did not become healthy in ${timeoutMs / 1000} s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    pid: child.pid,
    logs: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      killGroup("SIGTERM");
      const timer = setTimeout(() => killGroup("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      killGroup("SIGKILL");
      await exited;
    },
  };
}

export interface HeraldOptions {
  vars?: Record<string, string>;
  /** SQL run against the local D1 after the demo seed, before the Worker starts (bench fixtures). */
  prepareSql?: string;
}

export async function startHerald(options: HeraldOptions = {}): Promise<HeraldProcess> {
  const port = await freePort();
  const inspectorPort = await freePort();
  const persistTo = mkdtempSync(path.join(tmpdir(), "herald-e2e-"));
  prepareLocalDatabase(persistTo);
  if (options.prepareSql) executeSql(options.prepareSql, ["--local", "--persist-to", persistTo]);

  const vars: Record<string, string> = {
    PUBLIC_URL: `http://localhost:${port}`,
    ALLOW_HTTP_DESTINATIONS: "true",
    ALLOW_PRIVATE_DESTINATIONS: "true",
    ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    ...options.vars,
  };
  const args = [...wranglerDevArgs(port, inspectorPort, persistTo, vars), "--test-scheduled"];

  const healthUrl = `http://127.0.0.1:${port}/api/health`;
  let wrangler = await spawnWrangler(args, healthUrl, 60_000);
  const url = `http://localhost:${port}`;
  const stop = async () => {
    await wrangler.stop();
    rmSync(persistTo, { recursive: true, force: true });
  };

  return {
    url,
    port,
    inspectorPort,
    logs: () => wrangler.logs(),
    processGroup: () => wrangler.pid,
    stateDir: persistTo,
    stop,
    kill: () => wrangler.kill(),
    async restart() {
      await wrangler.stop();
      wrangler = await spawnWrangler(args, healthUrl, 60_000);
    },
    signIn: (email = DEMO.email, password = DEMO.password) => signIn(url, email, password),
    async triggerCron() {
      const res = await fetch(`${url}/__scheduled?cron=${encodeURIComponent("5 * * * *")}`);
      if (!res.ok) throw new Error(`cron trigger failed: ${res.status} ${await res.text()}`);
    },
  };
}
