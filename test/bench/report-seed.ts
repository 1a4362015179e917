/**
 * Bulk loader for the report benchmark: N events spread over a month for one account, written
 * as SQL that SQLite expands itself (a recursive CTE), then the derived rows ingestion keeps —
 * hourly rollups with exactly the dimensions of worker/ingest/store.ts, and security issues —
 * computed from those events. Going through POST /v1/events would take minutes for a million
 * events and measure ingestion, not reports.
 */

const q = (text: string) => `'${text.replace(/'/g, "''")}'`;

export interface BenchSeed {
  accountId: string;
  tokenHash: string;
  /** First and last instant of the month, epoch ms (UTC). */
  fromMs: number;
  toMs: number;
  events: number;
}

export function reportSeedSql(seed: BenchSeed): string {
  const span = seed.toMs - seed.fromMs;
  const now = Date.now();
  return `
INSERT INTO accounts (id, name, time_zone, created_at) VALUES (${q(seed.accountId)}, 'Bench Corp', 'UTC', ${seed.fromMs - 86_400_000 * 60});
-- A token acts for the admin who created it (no password: nobody signs in as them).
INSERT INTO users (id, account_id, email, name, role, password_hash, created_at, updated_at)
  VALUES ('bench-admin', ${q(seed.accountId)}, 'bench@bench.test', 'Bench', 'admin', 'none', ${now}, ${now});
INSERT INTO api_tokens (id, account_id, name, role, token_hash, token_prefix, created_by, created_at)
  VALUES ('bench-token', ${q(seed.accountId)}, 'bench', 'admin', ${q(seed.tokenHash)}, 'hrld_bench', 'bench-admin', ${now});
INSERT INTO integrations (id, account_id, type, name, status, settings, events, created_at, updated_at)
  VALUES ('bench-hook', ${q(seed.accountId)}, 'webhook', 'SIEM hook', 'enabled', '{}', '{"reports":["monthly"]}', ${now}, ${now}),
         ('bench-slack', ${q(seed.accountId)}, 'slack', 'Old Slack', 'disabled', '{}', '{"reports":["daily"]}', ${now}, ${now});
UPDATE integrations SET disabled_reason = 'auto_failure_ratio', disabled_at = ${now} WHERE id = 'bench-slack';

-- ${seed.events} events: 97.7 % hits, 1 % incidents, 0.2 % security issues, 0.1 % scope changes, 1 % more hits.
INSERT INTO events (account_id, id, node_id, type, occurred_at, received_at, risk, attack_type, host, path,
  remote_addr, remote_country, block_status, data, ingest_id, notified_at)
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${seed.events}),
e AS (
  SELECT i,
    CASE WHEN i % 100 = 7 THEN 'incident' WHEN i % 500 = 3 THEN 'security_issue' WHEN i % 1000 = 5 THEN 'scope_change' ELSE 'hit' END AS type,
    ${seed.fromMs} + (i * ${span}) / ${seed.events} AS at,
    abs(random()) AS r
  FROM n
)
SELECT ${q(seed.accountId)}, printf('ev-%08d', i), NULL, type, at, at,
  CASE WHEN type = 'security_issue' THEN 'high' END,
  CASE WHEN type IN ('hit', 'incident') THEN (CASE r % 20 WHEN 0 THEN 'rce' WHEN 1 THEN 'xxe' WHEN 2 THEN 'ssrf' WHEN 3 THEN 'crlf'
    WHEN 4 THEN 'nosqli' WHEN 5 THEN 'scanner' WHEN 6 THEN 'brute' WHEN 7 THEN 'ptrav' WHEN 8 THEN 'ptrav' ELSE
    CASE WHEN r % 3 = 0 THEN 'xss' ELSE 'sqli' END END) END,
  CASE WHEN type = 'scope_change' THEN NULL ELSE printf('app%d.example.com', (r / 7) % 40) END,
  CASE WHEN type = 'scope_change' THEN NULL ELSE printf('/api/v1/resource/%d', ((r / 11) % 3000) * ((r / 13) % 2)) END,
  CASE WHEN type IN ('hit', 'incident') THEN printf('203.%d.%d.%d', (r / 17) % 8, (r / 19) % 50, (r / 23) % 50) END,
  CASE WHEN type IN ('hit', 'incident') THEN substr('USDEFRNLBRCNINGBRUSGJPKRCAAUESITPLSEUAKZ', 1 + 2 * ((r / 29) % 20), 2) END,
  CASE WHEN type IN ('hit', 'incident') THEN CASE WHEN r % 10 < 7 THEN 'blocked' ELSE 'monitored' END END,
  CASE type
    WHEN 'security_issue' THEN json_object('type', type, 'risk', 'high', 'title', printf('Issue %d', i), 'vuln_type', 'sqli',
      'host', printf('app%d.example.com', (r / 7) % 40), 'method', 'POST', 'path', printf('/api/v1/resource/%d', i),
      'parameter', 'id', 'discovered_by', 'scanner')
    WHEN 'scope_change' THEN json_object('type', type, 'change', CASE WHEN r % 4 = 0 THEN 'removed' ELSE 'added' END,
      'object_type', CASE r % 5 WHEN 0 THEN 'host' WHEN 1 THEN 'ip' WHEN 2 THEN 'port' WHEN 3 THEN 'domain' ELSE 'service' END,
      'value', printf('asset-%d', i))
    ELSE json_object('type', type, 'method', 'GET', 'response_status', 403, 'payload', 'id=1 OR 1=1')
  END,
  1, at
FROM e;

UPDATE events SET risk = CASE abs(random()) % 5 WHEN 0 THEN 'critical' WHEN 1 THEN 'high' WHEN 2 THEN 'medium' WHEN 3 THEN 'low' ELSE 'info' END
  WHERE account_id = ${q(seed.accountId)} AND type = 'security_issue';

-- The rollups ingestion keeps (worker/ingest/store.ts ROLL_UP: each event crossed with the
-- dimension list, D1 capping compound SELECTs), derived from the same rows.
INSERT INTO event_rollups (account_id, hour, event_type, dimension, key, count)
WITH fresh AS MATERIALIZED (
  SELECT type, occurred_at - occurred_at % 3600000 AS hour, risk, attack_type, host, path, remote_addr,
    remote_country, block_status, data FROM events WHERE account_id = ${q(seed.accountId)}
), keyed AS (
  SELECT f.hour, f.type, d.value AS dimension, CASE d.value
    WHEN 'total' THEN ''
    WHEN 'attack_type' THEN f.attack_type
    WHEN 'block_status' THEN f.block_status
    WHEN 'host' THEN f.host
    WHEN 'path' THEN CASE WHEN f.type IN ('hit', 'incident') THEN f.path END
    WHEN 'remote_addr' THEN f.remote_addr
    WHEN 'country' THEN f.remote_country
    WHEN 'risk' THEN f.risk
    WHEN 'scope_change' THEN CASE WHEN f.type = 'scope_change' THEN (f.data->>'change') || ':' || (f.data->>'object_type') END
  END AS key
  FROM fresh AS f CROSS JOIN json_each('["total","attack_type","block_status","host","path","remote_addr","country","risk","scope_change"]') AS d
)
SELECT ${q(seed.accountId)}, hour, type, dimension, key, count(*) FROM keyed WHERE key IS NOT NULL
GROUP BY hour, type, dimension, key;

-- The distinct issues those events report (ingestion upserts them by fingerprint).
INSERT OR IGNORE INTO security_issues (account_id, fingerprint, id, last_event_id, risk, title, host, path, vuln_type, status, first_seen, last_seen)
SELECT account_id, 'sqli|' || host || '|POST|' || path || '|id', id, id, risk, data->>'title', host, path, 'sqli', 'open', occurred_at, occurred_at
FROM events WHERE account_id = ${q(seed.accountId)} AND type = 'security_issue';

-- Counted already: ingestion's rollup cursor starts after these events.
INSERT INTO event_rollup_cursor (id, last_seq) SELECT 1, max(seq) FROM events WHERE true
  ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq;
`;
}
