/**
 * The SQLite rows behind the threshold buckets (worker/triggers/window-state.ts): the buckets
 * themselves, and a journal that takes the 1 s writes under load — one row of every bucket changed
 * in that second instead of one upsert per bucket — until the buckets are written out (at least
 * once a minute, with a notice, and in the object's alarm). An object that restarts replays the
 * journal before it reads any bucket (docs/triggers.md#evaluation).
 */
import { splitBySize } from "../channels/http";

/** A bucket as stored: trigger id, group key, minute, count, its tops as JSON text. */
export type BucketRow = [triggerId: string, group: string, minute: number, count: number, tops: string];

export const JOURNAL_SCHEMA = `CREATE TABLE IF NOT EXISTS trigger_bucket_journal (
  seq INTEGER PRIMARY KEY, rows TEXT NOT NULL
)`;

/** Bucket rows per upsert statement: 5 bound values each, within SQLite's 100 per statement. */
const ROWS_PER_UPSERT = 20;
/** Text per journal row: far below the 2 MB a Durable Object's row may hold, whatever the rows' tops. */
const ENTRY_BYTES = 512 * 1024;

export function upsertBuckets(sql: SqlStorage, rows: readonly BucketRow[]) {
  for (let at = 0; at < rows.length; at += ROWS_PER_UPSERT) {
    const chunk = rows.slice(at, at + ROWS_PER_UPSERT);
    sql.exec(
      `INSERT INTO trigger_buckets (trigger_id, group_key, minute, count, tops) VALUES ${chunk
        .map(() => "(?, ?, ?, ?, ?)")
        .join(", ")}
       ON CONFLICT (trigger_id, group_key, minute) DO UPDATE SET count = excluded.count, tops = excluded.tops`,
      ...chunk.flat(),
    );
  }
}

/** Appends the buckets' current state to the journal (the tops as JSON inside the entry, not re-escaped). */
export function appendToJournal(sql: SqlStorage, rows: readonly BucketRow[]) {
  const texts = rows.map(([triggerId, group, minute, count, tops]) =>
    [JSON.stringify(triggerId), JSON.stringify(group), minute, count, tops].join(","),
  );
  for (const entry of splitBySize(texts, (text) => text.length + 3, ENTRY_BYTES)) {
    sql.exec("INSERT INTO trigger_bucket_journal (rows) VALUES (?)", `[[${entry.join("],[")}]]`);
  }
}

/** The journal is written out: its rows are in `trigger_buckets` (same synchronous stretch, one commit). */
export function clearJournal(sql: SqlStorage) {
  sql.exec("DELETE FROM trigger_bucket_journal");
}

/** After a restart: the journal's buckets, oldest first (a later entry holds a bucket's later state), into the table. */
export function replayJournal(sql: SqlStorage) {
  const entries = sql.exec<{ rows: string }>("SELECT rows FROM trigger_bucket_journal ORDER BY seq").toArray();
  if (entries.length === 0) return;
  for (const { rows } of entries) {
    const parsed = JSON.parse(rows) as [string, string, number, number, unknown][];
    upsertBuckets(
      sql,
      parsed.map(([triggerId, group, minute, count, tops]) => [triggerId, group, minute, count, JSON.stringify(tops)]),
    );
  }
  clearJournal(sql);
}
