import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO, ROOT } from "../../scripts/local-config.ts";
import { freePort, signIn } from "../support/herald-process.ts";

/**
 * What `npm start` promises a newcomer, run as the newcomer runs it (the real command, on free
 * ports, with its state in a temporary folder): a running Herald with the UI, health and the demo
 * admin; and stopped as a process manager stops it: one SIGTERM to npm ends start.ts, wrangler and
 * workerd and frees every port.
 */
describe("npm start", () => {
  const state = mkdtempSync(path.join(tmpdir(), "herald-start-"));
  let npm: ChildProcess;
  let output = "";
  let url = "";
  const ports = { herald: 0, inbox: 0, smtp: 0 };

  beforeAll(async () => {
    [ports.herald, ports.inbox, ports.smtp] = [await freePort(), await freePort(), await freePort()];
    url = `http://localhost:${ports.herald}`;
    npm = spawn("npm", ["start", "--", "--persist-to", state, "--log-level", "warn"], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(ports.herald),
        INBOX_PORT: String(ports.inbox),
        SMTP_DEMO_PORT: String(ports.smtp),
        WRANGLER_SEND_METRICS: "false",
        CI: "1",
        NO_COLOR: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // a process group of its own, so whatever survives can be found and cleaned up
    });
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
    };
    npm.stdout?.on("data", collect);
    npm.stderr?.on("data", collect);
    const deadline = Date.now() + 120_000;
    while (!(await answersOk(`${url}/api/health`))) {
      if (npm.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not come up:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 150_000);

  afterAll(() => {
    if (npm?.pid && processesOf(npm.pid).length > 0) process.kill(-npm.pid, "SIGKILL");
    rmSync(state, { recursive: true, force: true });
  });

  it("serves health, the UI with strict headers, the demo inbox, and signs the demo admin in", async () => {
    expect(output).toMatch(/The demo node's token \(shown this once\): hnode_/);
    const health = await fetch(`${url}/api/health`);
    expect(await health.json()).toMatchObject({ status: "ok", database: "ok" });

    const page = await fetch(`${url}/integrations`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="app">');
    expect(page.headers.get("Content-Security-Policy")).toContain("frame-ancestors 'none'");
    expect(page.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(await answersOk(`http://127.0.0.1:${ports.inbox}/`)).toBe(true);

    const session = await signIn(url, DEMO.email, DEMO.password);
    const me = await session.call("GET", "/api/me");
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(DEMO.email);
    expect(me.body.role).toBe("admin");
    expect(me.body.account.name).toBe(DEMO.accountName);
  });

  it("refuses a state change without the CSRF header", async () => {
    const session = await signIn(url, DEMO.email, DEMO.password);
    const res = await fetch(`${url}/api/tokens`, {
      method: "POST",
      headers: { Cookie: session.cookie, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "ci" }),
    });
    expect(res.status).toBe(403);
  });

  it("documents the API as OpenAPI 3.1", async () => {
    const doc = (await (await fetch(`${url}/api/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/auth/login", "/api/users", "/api/me"]));
  });

  it("npm run simulate finds Herald through PORT, and says so plainly when nothing answers", async () => {
    const simulate = (port: number) =>
      spawnSync("npm", ["run", "simulate", "--", "--duration", "2", "--history", "1"], {
        cwd: ROOT,
        env: { ...process.env, PORT: String(port), HERALD_URL: undefined },
        encoding: "utf8",
        timeout: 60_000,
      });
    const running = simulate(ports.herald);
    expect(running.status, running.stderr).toBe(0);
    expect(running.stdout).toContain(`Posting events to http://localhost:${ports.herald}/v1/events`);
    expect(running.stdout).toMatch(/Backfilled \d+ events over the past 1 h/);
    expect(running.stdout).toMatch(/→ \{"accepted":\d+,"duplicates":0\}/);

    const nowhere = simulate(await freePort());
    expect(nowhere.status).toBe(1);
    expect(nowhere.stderr).toContain("Herald is not answering at http://localhost:");
    expect(nowhere.stderr).not.toMatch(/\n\s+at /); // no stack trace
  }, 90_000);

  it("stops every process and frees the ports on one SIGTERM to npm", async () => {
    const pid = npm.pid as number;
    expect(processesOf(pid).length).toBeGreaterThanOrEqual(3); // npm, start.ts, wrangler, workerd…
    const exited = new Promise((resolve) => npm.once("exit", resolve));
    process.kill(pid, "SIGTERM"); // npm alone, as a process manager would
    await exited;
    const stopBy = Date.now() + 15_000;
    while (processesOf(pid).length > 0 && Date.now() < stopBy) await new Promise((r) => setTimeout(r, 200));
    expect(processesOf(pid)).toEqual([]);
    for (const port of Object.values(ports)) expect(await listening(port), `port ${port}`).toBe(false);
  }, 30_000);
});

async function answersOk(target: string): Promise<boolean> {
  try {
    return (await fetch(target)).ok;
  } catch {
    return false;
  }
}

/** The commands still running in a process group. */
function processesOf(groupId: number): string[] {
  return execFileSync("ps", ["-eo", "pgid=,args="], { encoding: "utf8" })
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith(`${groupId} `));
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
