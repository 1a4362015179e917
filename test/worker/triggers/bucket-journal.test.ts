import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { StoredEvent } from "../../../worker/domain/event-filters";
import type { Trigger } from "../../../worker/domain/triggers";
import { TriggerEvaluator } from "../../../worker/triggers/evaluator";
import { MAX_CACHED_GROUPS } from "../../../worker/triggers/window-state";
import { MINUTE, storedHit, T0, trigger } from "./fixtures";

/**
 * The 1 s writes of the threshold counts go to a journal and the buckets reach their table at
 * least once a minute (worker/triggers/bucket-journal.ts): an object that restarts must lose no
 * more than that second, and nothing a changed trigger forgot may come back.
 */

async function withSql<T>(body: (sql: SqlStorage) => T): Promise<T> {
  const stub = env.INTEGRATION_DO.get(env.INTEGRATION_DO.idFromName(`journal-test-${crypto.randomUUID()}`));
  return runInDurableObject(stub, (_instance, state) => body(state.storage.sql));
}

const fiveInAnHour = (overrides: Partial<Trigger> = {}) =>
  trigger({ condition: { kind: "threshold", count: 5, window_minutes: 60 }, throttle_minutes: 0, ...overrides });

const hits = (n: number, at: number) => Array.from({ length: n }, () => storedHit(at));
const run = (evaluator: TriggerEvaluator, t: Trigger, events: StoredEvent[], now: number) =>
  evaluator.evaluate([t], [], "UTC", events, now).notices;

const stored = (sql: SqlStorage, triggerId: string) =>
  sql
    .exec<{ count: number }>("SELECT count FROM trigger_buckets WHERE trigger_id = ?", triggerId)
    .toArray()
    .map((row) => row.count);
const journalRows = (sql: SqlStorage) =>
  sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM trigger_bucket_journal").one().n;

describe("trigger counts: the journal of the 1 s writes", () => {
  it("counts written each second reach the journal, not the table, and a restarted object reads them", async () => {
    await withSql((sql) => {
      const t = fiveInAnHour();
      const evaluator = new TriggerEvaluator(sql);
      run(evaluator, t, hits(1, T0), T0); // the first write settles the table
      run(evaluator, t, hits(1, T0 + 1000), T0 + 1000);
      run(evaluator, t, hits(1, T0 + 2000), T0 + 2000);
      expect(stored(sql, t.id)).toEqual([1]);
      expect(journalRows(sql)).toBe(2);
      // Within the same second: in memory only (the second an object may lose).
      run(evaluator, t, hits(1, T0 + 2500), T0 + 2500);
      const restarted = new TriggerEvaluator(sql);
      expect(stored(sql, t.id)).toEqual([3]);
      expect(journalRows(sql)).toBe(0);
      expect(run(restarted, t, hits(1, T0 + 3000), T0 + 3000)).toHaveLength(0);
      expect(run(restarted, t, hits(1, T0 + 3100), T0 + 3100)).toHaveLength(1);
    });
  });

  it("the table is written at least once a minute, and with a notice, and the journal emptied", async () => {
    await withSql((sql) => {
      const t = fiveInAnHour();
      const evaluator = new TriggerEvaluator(sql);
      run(evaluator, t, hits(1, T0), T0);
      run(evaluator, t, hits(1, T0 + 1000), T0 + 1000);
      run(evaluator, t, hits(1, T0 + MINUTE + 1000), T0 + MINUTE + 1000);
      expect(stored(sql, t.id).sort()).toEqual([1, 2]);
      expect(journalRows(sql)).toBe(0);
      run(evaluator, t, hits(1, T0 + MINUTE + 2000), T0 + MINUTE + 2000);
      expect(journalRows(sql)).toBe(1);
      expect(run(evaluator, t, hits(1, T0 + MINUTE + 2100), T0 + MINUTE + 2100)).toHaveLength(1);
      // The notice restarted the group's counts: its rows are gone, with the journal.
      expect(stored(sql, t.id)).toEqual([]);
      expect(journalRows(sql)).toBe(0);
    });
  });

  it("a trigger changed after journal writes starts afresh across a restart (the journal does not bring its counts back)", async () => {
    await withSql((sql) => {
      const t = fiveInAnHour();
      const evaluator = new TriggerEvaluator(sql);
      run(evaluator, t, hits(2, T0), T0);
      run(evaluator, t, hits(2, T0 + 1000), T0 + 1000);
      const edited = { ...t, updated_at: "2026-11-27T10:10:00.000Z" };
      // Changed within the same second: its one event is in memory only, lost with the object.
      run(evaluator, edited, hits(1, T0 + 1500), T0 + 1500);
      const restarted = new TriggerEvaluator(sql);
      expect(stored(sql, t.id)).toEqual([]);
      expect(run(restarted, edited, hits(4, T0 + 3000), T0 + 3000)).toHaveLength(0);
      expect(run(restarted, edited, hits(1, T0 + 3100), T0 + 3100)).toHaveLength(1);
    });
  });

  it("past the cache's bound of groups the 1 s write goes to the table, so the groups it drops are there to read", async () => {
    await withSql((sql) => {
      const t = fiveInAnHour({ group_by: ["source_ip"] });
      const evaluator = new TriggerEvaluator(sql);
      run(evaluator, t, hits(1, T0), T0);
      const spray = Array.from({ length: MAX_CACHED_GROUPS + 1 }, (_, i) =>
        storedHit(T0 + 1000, { remote_addr: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}` }),
      );
      run(evaluator, t, spray, T0 + 1000);
      expect(journalRows(sql)).toBe(0);
      expect(stored(sql, t.id)).toHaveLength(MAX_CACHED_GROUPS + 2);
      // The first address's group (dropped from the cache, read again): 1 + 4 more is 5.
      const more = Array.from({ length: 4 }, () => storedHit(T0 + 2000, { remote_addr: "10.0.0.0" }));
      expect(run(evaluator, t, more, T0 + 2000)).toHaveLength(1);
    });
  });

  it("a second of many large buckets is split over several journal rows, all replayed", async () => {
    await withSql((sql) => {
      const t = fiveInAnHour({ group_by: ["host"] });
      const evaluator = new TriggerEvaluator(sql);
      run(evaluator, t, hits(1, T0), T0);
      // 2000 groups whose host (in the key and the tops) is 200 characters: about 1 MB of rows.
      const host = (i: number) => `${"a".repeat(190)}-${String(i).padStart(4, "0")}.example.com`;
      const wide = Array.from({ length: 2000 }, (_, i) => storedHit(T0 + 1000, { host: host(i) }));
      run(evaluator, t, wide, T0 + 1000);
      expect(journalRows(sql)).toBeGreaterThan(1);
      new TriggerEvaluator(sql);
      expect(stored(sql, t.id)).toHaveLength(2001);
      expect(journalRows(sql)).toBe(0);
    });
  });
});
