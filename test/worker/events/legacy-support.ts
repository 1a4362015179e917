/**
 * Rows as the D1 data plane stored them, for the upgrade's import tests (legacy-import.test.ts):
 * the tables migration 0011 renamed, set up again after an import dropped them, and events and
 * issues written with the columns the D1 ingest filled.
 */
import { env } from "cloudflare:workers";
import { importLegacyEvents, type LegacyImportRun } from "../../../worker/legacy-import";
import { DAY_MS, HOUR_MS } from "../../../worker/lib/time";
import { hit, incident, scopeChange, securityIssue } from "../ingest/support";

export const LEGACY_TABLES = ["legacy_events", "legacy_security_issues"];

/** The legacy tables' own DDL as migration 0011 left it, to set them up again after a run dropped them. */
let legacyDdl: string[] = [];

export async function legacyTablesLeft(): Promise<string[]> {
  const { results } = await env.DB.prepare(
    `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('legacy_events', 'legacy_security_issues') ORDER BY name`,
  ).all<{ name: string }>();
  return results.map((r) => r.name);
}

/** The legacy tables as migration 0011 left them (a finished import dropped them). */
export async function restoreLegacyTables(): Promise<void> {
  if ((await legacyTablesLeft()).length === 0) await env.DB.batch(legacyDdl.map((s) => env.DB.prepare(s)));
}

/** Keeps the legacy tables' DDL (call before any import drops them). */
export async function captureLegacyDdl(): Promise<void> {
  const { results } = await env.DB.prepare(
    `SELECT sql FROM sqlite_master WHERE tbl_name IN ('legacy_events', 'legacy_security_issues') AND sql IS NOT NULL
     ORDER BY type DESC`,
  ).all<{ sql: string }>();
  legacyDdl = results.map((r) => r.sql);
}

export const at = (ms: number) => new Date(ms).toISOString();
/** Noon UTC `days` ago: a day's events stay in one daily shard. */
export const noon = (days: number, minutes = 0) => {
  const today = Date.now() - (Date.now() % DAY_MS);
  return today - days * DAY_MS + 12 * HOUR_MS + minutes * 60_000;
};

/**
 * Writes an event as the D1 ingest stored it (worker/db/schema.ts `legacy_events`), answering its
 * D1 seq. `findable` is `lookup_by_id` (0: a hit no integration wanted).
 */
export async function legacyEvent(
  accountId: string,
  event: Record<string, unknown>,
  options: { nodeId?: string | null; findable?: boolean } = {},
): Promise<number> {
  const type = String(event.type);
  const hitLike = type === "hit" || type === "incident";
  const occurredAt = Date.parse(String(event.occurred_at));
  const row = await env.DB.prepare(
    `INSERT INTO legacy_events (account_id, id, node_id, type, occurred_at, received_at, risk, attack_type, host, path,
      remote_addr, remote_country, block_status, system_type, data, notified_at, lookup_by_id)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) RETURNING seq`,
  )
    .bind(
      accountId,
      String(event.id),
      options.nodeId ?? null,
      type,
      occurredAt,
      occurredAt + 1000,
      type === "security_issue" ? String(event.risk) : null,
      hitLike ? String(event.attack_type) : null,
      type === "scope_change" || type === "system" ? null : String(event.host),
      type === "scope_change" || type === "system" ? null : String(event.path),
      hitLike ? String(event.remote_addr) : null,
      hitLike ? String(event.remote_country ?? "") || null : null,
      hitLike ? String(event.block_status) : null,
      type === "system" ? String(event.system_type) : null,
      JSON.stringify(event),
      occurredAt + 2000,
      options.findable === false ? 0 : 1,
    )
    .first<{ seq: number }>();
  return row?.seq as number;
}

export function systemEvent(occurredAt: number): Record<string, unknown> {
  return {
    id: crypto.randomUUID(),
    type: "system",
    system_type: "user_created",
    occurred_at: at(occurredAt),
    user: { email: "new@example.test" },
  };
}

export async function legacyIssue(
  accountId: string,
  report: Record<string, unknown>,
  state: { firstSeen: number; lastSeen: number; closedAt?: number; closedBy?: string },
): Promise<void> {
  const fingerprint = [
    report.vuln_type,
    String(report.host).toLowerCase(),
    report.method,
    report.path,
    report.parameter ?? "",
  ].join("|");
  await env.DB.prepare(
    `INSERT INTO legacy_security_issues (account_id, fingerprint, id, last_event_id, risk, title, host, path, vuln_type,
      status, first_seen, last_seen, closed_at, closed_by)
     VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)`,
  )
    .bind(
      accountId,
      fingerprint,
      String(report.id),
      String(report.risk),
      String(report.title),
      String(report.host),
      String(report.path),
      String(report.vuln_type),
      state.closedAt ? "closed" : "open",
      state.firstSeen,
      state.lastSeen,
      state.closedAt ?? null,
      state.closedBy ?? null,
    )
    .run();
}

/** Runs the step with a small batch until both tables are gone; answers every run. */
export async function importUntilDone(batch: number): Promise<LegacyImportRun[]> {
  const runs: LegacyImportRun[] = [];
  for (let i = 0; i < 100; i++) {
    const run = await importLegacyEvents(env, { batch });
    runs.push(run);
    if (run.done) return runs;
  }
  throw new Error("the import did not finish in 100 runs");
}

export async function legacyCount(table: "legacy_events" | "legacy_security_issues"): Promise<number> {
  return (await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>())?.n ?? 0;
}

/** The same rows for any account (an event id is unique within its account only), answering their ids. */
export async function seedFixedCorpus(accountId: string): Promise<string[]> {
  const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
  const issue = securityIssue({ id: id(1), occurred_at: at(noon(2)), path: "/search", parameter: "q" });
  const events = [
    hit({ id: id(2), occurred_at: at(noon(2, 1)), remote_addr: "198.51.100.1" }),
    hit({ id: id(3), occurred_at: at(noon(2, 2)), remote_addr: "198.51.100.2", attack_type: "xss" }),
    issue,
    incident({ id: id(4), occurred_at: at(noon(1, 3)), remote_addr: "198.51.100.3", security_issue_id: id(1) }),
    scopeChange({ id: id(5), occurred_at: at(noon(1, 4)) }),
    { ...systemEvent(noon(1, 5)), id: id(6) },
    hit({ id: id(7), occurred_at: at(noon(1, 6)), remote_addr: "198.51.100.4" }),
  ];
  for (const event of events) {
    await legacyEvent(accountId, event, { nodeId: event.type === "system" ? null : "node-legacy" });
  }
  await legacyIssue(accountId, issue, {
    firstSeen: noon(3),
    lastSeen: noon(2),
    closedAt: noon(1),
    closedBy: "a@b.test",
  });
  return events.map((e) => String(e.id));
}
