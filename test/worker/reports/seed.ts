/**
 * Seeds report inputs through the real write path — events posted to `POST /v1/events` by a node of
 * the account, so the counters, security issues and scope changes reports read are the ones ingest
 * keeps — and reads PDFs back as text.
 */
import { env } from "cloudflare:workers";
import { decodePDFRawStream, PDFArray, PDFDocument, PDFRawStream } from "pdf-lib";
import { nodes } from "../../../worker/db/schema";
import { announceControlChange } from "../../../worker/ingest/control-change";
import { uuidv7 } from "../../../worker/lib/ids";
import { sha256Hex } from "../../../worker/security/hashing";
import { db } from "../helpers";
import { postEvents } from "../ingest/support";

export const at = (iso: string) => Date.parse(iso);

export type SeedEvent = Record<string, unknown>;

/** One node per account posts every seeded event (created before the account's first ingest). */
const nodeTokens = new Map<string, Promise<string>>();

function nodeToken(accountId: string): Promise<string> {
  let token = nodeTokens.get(accountId);
  if (!token) {
    token = (async () => {
      const secret = `hnode_${crypto.randomUUID().replaceAll("-", "")}`;
      const now = Date.now();
      await db()
        .insert(nodes)
        .values({
          id: uuidv7(now),
          accountId,
          name: "report-seed",
          tokenHash: await sha256Hex(secret),
          tokenPrefix: secret.slice(0, 12),
          createdAt: now,
          eventsCount: 0,
        });
      // As the nodes API does: the account object takes the new node from its next request.
      await announceControlChange(env, accountId);
      return secret;
    })();
    nodeTokens.set(accountId, token);
  }
  return token;
}

/** Posts the events as a node of the account would, 1000 per request. */
export async function seedEvents(accountId: string, events: SeedEvent[]): Promise<void> {
  const token = await nodeToken(accountId);
  for (let i = 0; i < events.length; i += 1000) {
    const res = await postEvents(token, { events: events.slice(i, i + 1000) });
    if (res.status !== 202) throw new Error(`seeding events failed: ${res.status} ${await res.text()}`);
  }
}

/** `count` hits (or incidents) in the hour starting at `hour`, alike but for their ids and minutes. */
export function hits(
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
): SeedEvent[] {
  const type = hit.type ?? "hit";
  return Array.from({ length: count }, (_, i) => ({
    id: crypto.randomUUID(),
    type,
    occurred_at: new Date(at(hour) + ((i * 61_000) % 3_600_000)).toISOString(),
    attack_type: hit.attack,
    block_status: hit.block,
    host: hit.host,
    method: "GET",
    path: hit.path,
    remote_addr: hit.ip,
    response_status: 403,
    ...(hit.country ? { remote_country: hit.country } : {}),
    ...(type === "incident" ? { security_issue_id: "seeded-issue" } : {}),
  }));
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
}

/** A security issue first reported at `firstSeen` (its own fingerprint: the parameter defaults to the title). */
export async function seedIssue(accountId: string, issue: IssueSeed): Promise<string> {
  const id = uuidv7(at(issue.firstSeen));
  await seedEvents(accountId, [
    {
      id,
      type: "security_issue",
      occurred_at: issue.firstSeen,
      risk: issue.risk,
      title: issue.title,
      vuln_type: issue.vulnType ?? "sqli",
      host: issue.host ?? "app.example.com",
      method: issue.method ?? "GET",
      path: issue.path ?? "/",
      parameter: issue.parameter ?? issue.title,
      discovered_by: "scanner",
    },
  ]);
  return id;
}

export function scopeChange(occurredAt: string, change: string, objectType: string, value: string): SeedEvent {
  return {
    id: uuidv7(at(occurredAt)),
    type: "scope_change",
    occurred_at: occurredAt,
    change,
    object_type: objectType,
    value,
  };
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
