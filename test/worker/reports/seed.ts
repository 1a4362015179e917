/**
 * Seeds report inputs directly in the format ingestion writes (worker/db/schema.ts documents the
 * rollup dimensions; worker/ingest/store.ts derives them), and reads PDFs back as text.
 */
import { env } from "cloudflare:workers";
import { decodePDFRawStream, PDFArray, PDFDocument, PDFRawStream } from "pdf-lib";
import { uuidv7 } from "../../../worker/lib/ids";

export const at = (iso: string) => Date.parse(iso);

/** event_rollups rows: [hour ISO, event_type, dimension, key, count]. */
export async function seedRollups(accountId: string, rows: [string, string, string, string, number][]) {
  const statements = rows.map(([hour, type, dimension, key, count]) =>
    env.DB.prepare(
      "INSERT INTO event_rollups (account_id, hour, event_type, dimension, key, count) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    ).bind(accountId, at(hour), type, dimension, key, count),
  );
  if (statements.length > 0) await env.DB.batch(statements);
}

/** A hit with all its rollup dimensions, the way ingestion counts one event. */
export function hitRollups(
  hour: string,
  count: number,
  hit: {
    type?: "hit" | "incident";
    attack: string;
    block: "blocked" | "monitored";
    host: string;
    path: string;
    ip: string;
    country?: string;
  },
): [string, string, string, string, number][] {
  const type = hit.type ?? "hit";
  const rows: [string, string, string, string, number][] = [
    [hour, type, "total", "", count],
    [hour, type, "attack_type", hit.attack, count],
    [hour, type, "block_status", hit.block, count],
    [hour, type, "host", hit.host, count],
    [hour, type, "path", hit.path, count],
    [hour, type, "remote_addr", hit.ip, count],
  ];
  if (hit.country) rows.push([hour, type, "country", hit.country, count]);
  return rows;
}

/** Merges rollup rows that share a key (as ingestion's upsert does). */
export function mergeRollups(rows: [string, string, string, string, number][]) {
  const merged = new Map<string, [string, string, string, string, number]>();
  for (const row of rows) {
    const key = row.slice(0, 4).join("|");
    const existing = merged.get(key);
    if (existing) existing[4] += row[4];
    else merged.set(key, [...row]);
  }
  return [...merged.values()];
}

export interface IssueSeed {
  risk: string;
  title: string;
  firstSeen: string;
  host?: string;
  path?: string;
  vulnType?: string;
  method?: string;
  parameter?: string;
  /** Also store the event that reported it (adds method, parameter, discovered_by to the list). */
  withEvent?: boolean;
}

export async function seedIssue(accountId: string, issue: IssueSeed): Promise<string> {
  const id = uuidv7(at(issue.firstSeen));
  const host = issue.host ?? "app.example.com";
  const path = issue.path ?? "/";
  const vulnType = issue.vulnType ?? "sqli";
  const method = issue.method ?? "GET";
  const statements = [
    env.DB.prepare(
      `INSERT INTO security_issues (account_id, fingerprint, id, last_event_id, risk, title, host, path, vuln_type, status, first_seen, last_seen)
       VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7, ?8, 'open', ?9, ?9)`,
    ).bind(
      accountId,
      `${vulnType}|${host}|${method}|${path}|${id}`,
      id,
      issue.risk,
      issue.title,
      host,
      path,
      vulnType,
      at(issue.firstSeen),
    ),
  ];
  if (issue.withEvent) {
    const data = {
      id,
      type: "security_issue",
      occurred_at: issue.firstSeen,
      risk: issue.risk,
      title: issue.title,
      vuln_type: vulnType,
      host,
      method,
      path,
      parameter: issue.parameter,
      discovered_by: "scanner",
    };
    statements.push(
      env.DB.prepare(
        `INSERT INTO events (account_id, id, node_id, type, occurred_at, received_at, risk, host, path, data)
         VALUES (?1, ?2, NULL, 'security_issue', ?3, ?3, ?4, ?5, ?6, ?7)`,
      ).bind(accountId, id, at(issue.firstSeen), issue.risk, host, path, JSON.stringify(data)),
    );
  }
  await env.DB.batch(statements);
  return id;
}

export async function seedScopeChange(
  accountId: string,
  occurredAt: string,
  change: string,
  objectType: string,
  value: string,
) {
  const id = uuidv7(at(occurredAt));
  const data = { id, type: "scope_change", occurred_at: occurredAt, change, object_type: objectType, value };
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO events (account_id, id, node_id, type, occurred_at, received_at, data)
       VALUES (?1, ?2, NULL, 'scope_change', ?3, ?3, ?4)`,
    ).bind(accountId, id, at(occurredAt), JSON.stringify(data)),
  ]);
}

/** An integration row as the integrations API stores it (no secrets: reports only need the row). */
export async function seedIntegration(
  accountId: string,
  options: {
    type?: string;
    name: string;
    events: unknown;
    status?: "enabled" | "disabled";
    disabledReason?: string;
    settings?: unknown;
  },
): Promise<string> {
  const id = uuidv7();
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO integrations (id, account_id, type, name, status, disabled_reason, disabled_at, settings, secrets, events, created_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?9, ?10, ?10)`,
  )
    .bind(
      id,
      accountId,
      options.type ?? "webhook",
      options.name,
      options.status ?? "enabled",
      options.disabledReason ?? null,
      options.status === "disabled" ? now : null,
      JSON.stringify(options.settings ?? {}),
      JSON.stringify(options.events),
      now,
    )
    .run();
  return id;
}

/** Every text string drawn on the PDF's pages, page by page (pdf-lib writes them as hex strings). */
export async function pdfText(bytes: Uint8Array): Promise<{ pages: number; text: string[] }> {
  const doc = await PDFDocument.load(bytes);
  const text: string[] = [];
  for (const page of doc.getPages()) {
    const contents = page.node.Contents();
    const streams =
      contents instanceof PDFArray ? contents.asArray().map((ref) => doc.context.lookup(ref)) : [contents];
    let pageText = "";
    for (const stream of streams) {
      if (!(stream instanceof PDFRawStream)) continue;
      const decoded = new TextDecoder("latin1").decode(decodePDFRawStream(stream).decode());
      for (const match of decoded.matchAll(/<([0-9A-Fa-f]*)>\s*Tj/g)) {
        const hex = match[1] ?? "";
        let s = "";
        for (let i = 0; i < hex.length; i += 2) s += String.fromCharCode(Number.parseInt(hex.slice(i, i + 2), 16));
        pageText += `${s}\n`;
      }
    }
    text.push(pageText);
  }
  return { pages: doc.getPageCount(), text };
}
