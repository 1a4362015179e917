/**
 * scanAccountEvents (worker/events/scan.ts): an account's events of a time range oldest first,
 * across periods and sub-shards, in bounded batches, with the limit reported, never another
 * account's. Small pages force the slicing (a full page halves its slice) and the many events at
 * one instant (more than a page at one millisecond).
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { type ScannedEvent, scanAccountEvents } from "../../../worker/events/scan";
import type { ShardInsertRow } from "../../../worker/events/shard-types";
import { at, newestFirst, store } from "./stored";
import { hit, scopeChange, securityIssue } from "./support";

const account = () => `scan-${crypto.randomUUID()}`;
const oldestFirst = (rows: ShardInsertRow[]) => newestFirst(rows).reverse();

let accountId: string;
let corpus: ShardInsertRow[];

beforeAll(async () => {
  accountId = account();
  const sameInstant = at(1, 6);
  corpus = [
    ...Array.from({ length: 7 }, (_, i) => hit({ occurredAt: at(0, 1 + i * 3) })),
    securityIssue({ occurredAt: at(0, 23, 59) }),
    hit({ occurredAt: at(1, 0) }),
    ...Array.from({ length: 9 }, () => hit({ occurredAt: sameInstant })),
    ...Array.from({ length: 5 }, (_, i) => scopeChange({ occurredAt: at(1, 10 + i) })),
    ...Array.from({ length: 6 }, (_, i) => hit({ occurredAt: at(2, i, 30) })),
  ];
  await store(accountId, corpus);
  // Another account with events at the same instants.
  await store(
    account(),
    corpus.map((row) => ({ ...row, id: crypto.randomUUID() })),
  );
});

async function scan(from: number, to: number, limit?: number, pageSize?: number) {
  const batches: ScannedEvent[][] = [];
  const result = await scanAccountEvents(
    env,
    accountId,
    from,
    to,
    (batch) => void batches.push(batch),
    limit,
    pageSize,
  );
  return { result, batches, ids: batches.flat().map((e) => e.id) };
}

describe("scanAccountEvents", () => {
  it("hands out every event of the range oldest first, whatever the page size", async () => {
    const expected = oldestFirst(corpus).map((r) => r.id);
    for (const pageSize of [1000, 4, 2]) {
      const { result, batches, ids } = await scan(at(0, 0), at(3, 0), undefined, pageSize);
      expect(ids, `page size ${pageSize}`).toEqual(expected);
      expect(result).toEqual({ scanned: corpus.length, truncated: false });
      expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(pageSize);
    }
    const [first] = (await scan(at(0, 0), at(3, 0))).batches.flat();
    const row = oldestFirst(corpus)[0] as ShardInsertRow;
    expect(first).toEqual({ id: row.id, nodeId: row.nodeId, occurredAt: row.occurredAt, data: JSON.parse(row.data) });
  });

  it("keeps to [from, to) across the period boundary", async () => {
    const from = at(0, 23, 59);
    const to = at(1, 10);
    const { ids } = await scan(from, to, undefined, 2);
    expect(ids).toEqual(oldestFirst(corpus.filter((r) => r.occurredAt >= from && r.occurredAt < to)).map((r) => r.id));
  });

  it("stops at the limit and says whether events were left", async () => {
    const expected = oldestFirst(corpus).map((r) => r.id);
    const cut = await scan(at(0, 0), at(3, 0), 10, 4);
    expect(cut.result).toEqual({ scanned: 10, truncated: true });
    expect(cut.ids).toEqual(expected.slice(0, 10));
    const exact = await scan(at(0, 0), at(3, 0), corpus.length, 4);
    expect(exact.result).toEqual({ scanned: corpus.length, truncated: false });
  });

  it("finds nothing for an account without shards", async () => {
    const batches: ScannedEvent[][] = [];
    const result = await scanAccountEvents(env, account(), at(0, 0), at(3, 0), (b) => void batches.push(b));
    expect(result).toEqual({ scanned: 0, truncated: false });
    expect(batches).toEqual([]);
  });
});
