/**
 * What an AccountIngestDO needs from D1 to take a request without asking D1 again: the account's
 * nodes (by token hash, with revocation), its fan-out targets, its name and time zone. Loaded once
 * and kept until a control change (`announceControlChange`, worker/ingest/control-change.ts) drops it.
 */
import type { EventSubscriptions } from "../domain/subscriptions";
import type { FanOutTarget } from "../outbox/fan-out";

export interface SnapshotNode {
  id: string;
  name: string;
  revoked: boolean;
  /** D1's counters when loaded: the object's own counters start from them. */
  eventsCount: number;
  lastSeenAt: number | null;
}

export interface ControlSnapshot {
  accountName: string;
  timeZone: string;
  nodesByTokenHash: Map<string, SnapshotNode>;
  nodesById: Map<string, SnapshotNode>;
  /** Enabled integrations, and disabled ones with their marker (worker/outbox/fan-out.ts). */
  targets: FanOutTarget[];
}

interface NodeRow {
  id: string;
  name: string;
  token_hash: string;
  revoked_at: number | null;
  events_count: number;
  last_seen_at: number | null;
}

interface TargetRow {
  id: string;
  events: string;
  disabled_after_seq: number | null;
  disabled_at: number | null;
  status: string;
}

/** The account's snapshot in one D1 round trip; null when the account does not exist. */
export async function loadControlSnapshot(d1: D1Database, accountId: string): Promise<ControlSnapshot | null> {
  const [account, nodes, targets] = await d1.batch([
    d1.prepare("SELECT name, time_zone FROM accounts WHERE id = ?1").bind(accountId),
    d1
      .prepare("SELECT id, name, token_hash, revoked_at, events_count, last_seen_at FROM nodes WHERE account_id = ?1")
      .bind(accountId),
    d1
      .prepare(
        `SELECT id, events, disabled_after_seq, disabled_at, status FROM integrations
         WHERE account_id = ?1 AND (status = 'enabled' OR disabled_after_seq IS NOT NULL)`,
      )
      .bind(accountId),
  ]);
  const accountRow = account?.results[0] as { name: string; time_zone: string } | undefined;
  if (!accountRow) return null;
  const snapshot: ControlSnapshot = {
    accountName: accountRow.name,
    timeZone: accountRow.time_zone,
    nodesByTokenHash: new Map(),
    nodesById: new Map(),
    targets: ((targets?.results ?? []) as TargetRow[]).map((row) => ({
      id: row.id,
      events: JSON.parse(row.events ?? "{}") as EventSubscriptions,
      untilSeq: row.status === "enabled" ? null : row.disabled_after_seq,
      disabledAt: row.status === "enabled" ? null : row.disabled_at,
    })),
  };
  for (const row of (nodes?.results ?? []) as NodeRow[]) {
    const node: SnapshotNode = {
      id: row.id,
      name: row.name,
      revoked: row.revoked_at !== null,
      eventsCount: Number(row.events_count),
      lastSeenAt: row.last_seen_at,
    };
    snapshot.nodesByTokenHash.set(row.token_hash, node);
    snapshot.nodesById.set(row.id, node);
  }
  return snapshot;
}
