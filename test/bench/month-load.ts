/**
 * Loads a month of one account's traffic through the real write path: nodes post batches of
 * 1,000 events to `POST /v1/events`, so the shards, their rollups and the account's security
 * issues are exactly what ingest keeps (no copy of its storage). Used by the report and events-list
 * benchmarks (report.ts). The events are a pure function of their index, so the same count always
 * gives the same figures; `keep` sees each one (the raw-scan baseline stores them).
 */

/** 97.7 % hits, 1 % incidents, 0.2 % security issues, 0.1 % scope changes. */
import { postEvents } from "./post-events.ts";

export type MonthEventType = "hit" | "incident" | "security_issue" | "scope_change";

export interface MonthEvent {
  id: string;
  type: MonthEventType;
  occurredAt: number;
  attackType: string | null;
  host: string | null;
  path: string | null;
  remoteAddr: string | null;
  remoteCountry: string | null;
  blockStatus: string | null;
  risk: string | null;
  json: Record<string, unknown>;
}

const ATTACKS = ["rce", "xxe", "ssrf", "crlf", "nosqli", "scanner", "brute", "ptrav", "ptrav"];
const COUNTRIES = ["US", "DE", "FR", "NL", "BR", "CN", "IN", "GB", "RU", "SG", "JP", "KR", "CA", "AU", "ES", "IT"];
const RISKS = ["critical", "high", "medium", "low", "info"];
const OBJECT_TYPES = ["host", "ip", "port", "domain", "service"];

/** A 32-bit mix of the index (splitmix-style): "random" but reproducible. */
function mix(i: number): number {
  let x = (i + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A UUID (version 4 layout) derived from the index, so a re-run re-sends the same ids. */
function idOf(i: number): string {
  const hex = (n: number) => n.toString(16).padStart(8, "0");
  const a = hex(mix(i));
  const b = hex(mix(i + 0x1000_0000));
  const c = hex(i);
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-8${c.slice(0, 3)}-${c.slice(3)}${hex(mix(i + 7)).slice(0, 7)}`;
}

export function monthEvent(i: number, count: number, fromMs: number, toMs: number): MonthEvent {
  const r = mix(i);
  const type: MonthEventType =
    i % 100 === 7 ? "incident" : i % 500 === 3 ? "security_issue" : i % 1000 === 5 ? "scope_change" : "hit";
  const occurredAt = fromMs + Math.floor((i * (toMs - fromMs)) / count);
  const at = new Date(occurredAt).toISOString();
  const id = idOf(i);
  const host = `app${Math.floor(r / 7) % 40}.example.com`;
  const path = `/api/v1/resource/${(Math.floor(r / 11) % 3000) * (Math.floor(r / 13) % 2)}`;
  if (type === "scope_change") {
    const change = r % 4 === 0 ? "removed" : "added";
    const objectType = OBJECT_TYPES[r % 5] as string;
    const json = { id, type, occurred_at: at, change, object_type: objectType, value: `asset-${i}` };
    return {
      id,
      type,
      occurredAt,
      attackType: null,
      host: null,
      path: null,
      remoteAddr: null,
      remoteCountry: null,
      blockStatus: null,
      risk: null,
      json,
    };
  }
  if (type === "security_issue") {
    const risk = RISKS[r % 5] as string;
    const issuePath = `/api/v1/resource/${i}`;
    const json = {
      id,
      type,
      occurred_at: at,
      risk,
      title: `Issue ${i}`,
      vuln_type: "sqli",
      host,
      method: "POST",
      path: issuePath,
      parameter: "id",
      discovered_by: "scanner",
    };
    return {
      id,
      type,
      occurredAt,
      attackType: null,
      host,
      path: issuePath,
      remoteAddr: null,
      remoteCountry: null,
      blockStatus: null,
      risk,
      json,
    };
  }
  const attackType = r % 20 < ATTACKS.length ? (ATTACKS[r % 20] as string) : r % 3 === 0 ? "xss" : "sqli";
  const remoteAddr = `203.${Math.floor(r / 17) % 8}.${Math.floor(r / 19) % 50}.${Math.floor(r / 23) % 50}`;
  const remoteCountry = COUNTRIES[Math.floor(r / 29) % COUNTRIES.length] as string;
  const blockStatus = r % 10 < 7 ? "blocked" : "monitored";
  const json = {
    id,
    type,
    occurred_at: at,
    attack_type: attackType,
    host,
    method: "GET",
    path,
    remote_addr: remoteAddr,
    remote_country: remoteCountry,
    response_status: 403,
    block_status: blockStatus,
    payload: "id=1 OR 1=1",
    ...(type === "incident" ? { security_issue_id: `issue-${r % 97}` } : {}),
  };
  return { id, type, occurredAt, attackType, host, path, remoteAddr, remoteCountry, blockStatus, risk: null, json };
}

/**
 * Posts `count` events spread over [fromMs, toMs) with `tokens.length` nodes in parallel, each
 * posting its share in order, re-sending as a node does (post-events.ts). How many batches were re-sent.
 */
export async function loadMonth(
  url: string,
  tokens: string[],
  count: number,
  fromMs: number,
  toMs: number,
  keep: (event: MonthEvent) => void = () => {},
): Promise<number> {
  const BATCH = 1000;
  let next = 0;
  let resent = 0;
  const post = async (token: string) => {
    for (;;) {
      const start = next;
      if (start >= count) return;
      next = Math.min(count, start + BATCH);
      const events: Record<string, unknown>[] = [];
      for (let i = start; i < next; i++) {
        const event = monthEvent(i, count, fromMs, toMs);
        keep(event);
        events.push(event.json);
      }
      resent += (await postEvents(url, token, JSON.stringify({ events }))).resent;
    }
  };
  await Promise.all(tokens.map(post));
  return resent;
}
