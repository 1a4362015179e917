import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type EventKey, newestFirst, pageAcrossPeriods } from "../../worker/events/merge-pages";

const DAY = 86_400_000;

/** Events spread over `periods` days and `fanout` sub-shards per day, as the shards would hold them. */
function shardsOf(events: EventKey[], periods: number, fanout: number) {
  const byName = new Map<string, EventKey[]>();
  const names: string[][] = [];
  for (let p = periods - 1; p >= 0; p--) {
    names.push(Array.from({ length: fanout }, (_, sub) => `${p}/${sub}`));
    for (let sub = 0; sub < fanout; sub++) byName.set(`${p}/${sub}`, []);
  }
  for (const e of events) {
    const sub = [...e.id].reduce((h, c) => h + c.charCodeAt(0), 0) % fanout;
    byName.get(`${Math.floor(e.occurredAt / DAY)}/${sub}`)?.push(e);
  }
  for (const rows of byName.values()) rows.sort(newestFirst);
  return { names, byName };
}

describe("pageAcrossPeriods", () => {
  it("pages in the global order, every event once, whatever the split", () => {
    fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(
          fc.record({ occurredAt: fc.integer({ min: 0, max: 3 * DAY - 1 }), id: fc.stringMatching(/^[a-f0-9]{1,4}$/) }),
          { selector: (e) => `${e.occurredAt}|${e.id}`, maxLength: 60 },
        ),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 7 }),
        async (events, fanout, limit) => {
          const { names, byName } = shardsOf(events, 3, fanout);
          const seen: EventKey[] = [];
          let cursor: EventKey | undefined;
          for (let pages = 0; pages < 100; pages++) {
            const after = cursor;
            const { rows, more } = await pageAcrossPeriods(names, limit, async (name, want) =>
              (byName.get(name) ?? []).filter((e) => !after || newestFirst(after, e) < 0).slice(0, want),
            );
            seen.push(...rows);
            if (!more) break;
            cursor = rows[rows.length - 1];
          }
          expect(seen).toEqual([...events].sort(newestFirst));
        },
      ),
    );
  });

  it("stops at the period that fills the page and widens the window while pages stay empty", async () => {
    const periods = Array.from({ length: 20 }, (_, p) => [`p${p}/0`, `p${p}/1`]);
    const asked: string[] = [];
    const full = await pageAcrossPeriods(periods, 2, async (name, want) => {
      asked.push(name);
      return Array.from({ length: want }, (_, i) => ({ occurredAt: 1000 - i, id: `${name}-${i}` }));
    });
    expect(full.more).toBe(true);
    expect(asked).toEqual(["p0/0", "p0/1"]);

    asked.length = 0;
    // Shards asked in each round: a round's calls all start before any answers.
    const rounds: number[] = [];
    let inRound = 0;
    const empty = await pageAcrossPeriods(periods, 2, async (name) => {
      asked.push(name);
      if (inRound++ === 0)
        queueMicrotask(() => {
          rounds.push(inRound);
          inRound = 0;
        });
      return [];
    });
    expect(empty).toEqual({ rows: [], more: false });
    // Every shard once (one index probe each), in windows of 1, 4 and 15 periods.
    expect(asked).toHaveLength(40);
    expect(new Set(asked).size).toBe(40);
    expect(rounds).toEqual([2, 8, 30]);
  });
});
