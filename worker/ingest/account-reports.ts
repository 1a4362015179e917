/**
 * The account's report storage in its AccountIngestDO (docs/storage.md#reports): each local day's
 * top digest (worker/reports/tops.ts) and each stored report's body (its JSON). D1's `reports`
 * keeps only the metadata row; these grow with days and reports and would not fit one D1 for all
 * accounts (README "Known limits").
 */

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS report_day_tops (time_zone TEXT NOT NULL, day TEXT NOT NULL,
    attacks INTEGER NOT NULL, tops TEXT NOT NULL, truncated TEXT NOT NULL, computed_at INTEGER NOT NULL,
    PRIMARY KEY (time_zone, day))`,
  `CREATE INDEX IF NOT EXISTS report_day_tops_computed_idx ON report_day_tops (computed_at)`,
  `CREATE TABLE IF NOT EXISTS report_bodies (id TEXT PRIMARY KEY, data TEXT NOT NULL, created_at INTEGER NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS report_bodies_created_idx ON report_bodies (created_at)`,
];

/** A day's digest as stored: `tops` and `truncated` are JSON text. */
export interface DayTopsRow {
  timeZone: string;
  day: string;
  attacks: number;
  tops: string;
  truncated: string;
  computedAt: number;
}

/** The list's totals of a report, read inside SQLite (not by sending whole bodies). */
export interface ReportBodyTotals {
  id: string;
  hits: number;
  incidents: number;
  newIssues: number;
}

export class AccountReportStore {
  constructor(private readonly sql: SqlStorage) {
    for (const statement of SCHEMA) sql.exec(statement);
  }

  dayTops(timeZone: string, fromDay: string, toDay: string): DayTopsRow[] {
    return this.sql
      .exec(
        `SELECT time_zone AS timeZone, day, attacks, tops, truncated, computed_at AS computedAt FROM report_day_tops
         WHERE time_zone = ?1 AND day >= ?2 AND day <= ?3`,
        timeZone,
        fromDay,
        toDay,
      )
      .toArray() as unknown as DayTopsRow[];
  }

  saveDayTops(rows: DayTopsRow[]): void {
    for (const row of rows) {
      this.sql.exec(
        `INSERT INTO report_day_tops (time_zone, day, attacks, tops, truncated, computed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (time_zone, day) DO UPDATE SET attacks = excluded.attacks, tops = excluded.tops,
           truncated = excluded.truncated, computed_at = excluded.computed_at`,
        row.timeZone,
        row.day,
        row.attacks,
        row.tops,
        row.truncated,
        row.computedAt,
      );
    }
  }

  saveBody(id: string, data: string, createdAt: number): void {
    this.sql.exec(
      `INSERT OR REPLACE INTO report_bodies (id, data, created_at) VALUES (?1, ?2, ?3)`,
      id,
      data,
      createdAt,
    );
  }

  body(id: string): string | null {
    const [row] = this.sql.exec(`SELECT data FROM report_bodies WHERE id = ?1`, id).toArray();
    return row ? String(row.data) : null;
  }

  totals(ids: string[]): ReportBodyTotals[] {
    return ids.flatMap((id) =>
      this.sql
        .exec(
          `SELECT id, coalesce(data->>'$.totals.hits.current', 0) AS hits,
             coalesce(data->>'$.totals.incidents.current', 0) AS incidents,
             coalesce(data->>'$.totals.new_security_issues.current', 0) AS newIssues
           FROM report_bodies WHERE id = ?1`,
          id,
        )
        .toArray(),
    ) as unknown as ReportBodyTotals[];
  }

  deleteBody(id: string): void {
    this.sql.exec(`DELETE FROM report_bodies WHERE id = ?1`, id);
  }

  /** Drops bodies and digests made before `before` (the report retention). */
  purge(before: number): { bodies: number; digests: number } {
    const bodies = this.sql.exec(`DELETE FROM report_bodies WHERE created_at < ?1`, before).rowsWritten;
    const digests = this.sql.exec(`DELETE FROM report_day_tops WHERE computed_at < ?1`, before).rowsWritten;
    return { bodies, digests };
  }
}
