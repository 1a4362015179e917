import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { GroupCommit } from "../../../worker/ingest/group-commit";

/** The real D1, wrapped to record how statements were grouped into batches. */
function recordingD1() {
  const batches: number[] = [];
  const d1 = new Proxy(env.DB, {
    get(target, property) {
      if (property === "batch") {
        return (statements: D1PreparedStatement[]) => {
          batches.push(statements.length);
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { d1, batches };
}

const insert = (key: string) =>
  env.DB.prepare("INSERT INTO rate_limits (key, window_start, count) VALUES (?, 0, 1) RETURNING key").bind(key);
const stored = async (prefix: string) =>
  (
    await env.DB.prepare("SELECT key FROM rate_limits WHERE key LIKE ? ORDER BY key")
      .bind(`${prefix}%`)
      .all<{ key: string }>()
  ).results.map((r) => r.key);

describe("group commit", () => {
  it("writes a lone request at once, alone", async () => {
    // (and a request arriving while a group is being written waits for the next one)
    const { d1, batches } = recordingD1();
    const results = await new GroupCommit().run(d1, [insert("lone:a"), insert("lone:b")], 0);
    expect(results.map((r) => (r.results[0] as { key: string }).key)).toEqual(["lone:a", "lone:b"]);
    expect(batches).toEqual([2]);
  });

  it("groups concurrent requests into one batch, each getting its own results", async () => {
    const { d1, batches } = recordingD1();
    const group = new GroupCommit();
    const runs = Array.from({ length: 6 }, (_, i) => group.run(d1, [insert(`many:${i}:a`), insert(`many:${i}:b`)], 0));
    const results = await Promise.all(runs);
    results.forEach((own, i) => {
      expect(own.map((r) => (r.results[0] as { key: string }).key)).toEqual([`many:${i}:a`, `many:${i}:b`]);
    });
    // All six arrived before the leader's first await: one transaction for all of them.
    expect(batches).toEqual([12]);
    expect(await stored("many:")).toHaveLength(12);
  });

  it("keeps the limits: no group over maxStatements", async () => {
    const { d1, batches } = recordingD1();
    const group = new GroupCommit({ maxStatements: 4, maxBytes: 1_000_000 });
    await Promise.all(
      Array.from({ length: 5 }, (_, i) => group.run(d1, [insert(`cap:${i}:a`), insert(`cap:${i}:b`)], 0)),
    );
    expect(batches).toEqual([4, 4, 2]);
  });

  it("one request failing inside a group fails only that request, which leaves nothing behind", async () => {
    const { d1 } = recordingD1();
    const group = new GroupCommit();
    const runs = [
      group.run(d1, [insert("iso:first")], 0),
      group.run(d1, [insert("iso:ok1")], 0),
      // Its second statement violates the primary key: its first statement must not survive.
      group.run(d1, [insert("iso:bad-partial"), insert("iso:ok1")], 0),
      group.run(d1, [insert("iso:ok2")], 0),
    ];
    const settled = await Promise.allSettled(runs);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect(await stored("iso:")).toEqual(["iso:first", "iso:ok1", "iso:ok2"]);
  });

  it("ends every transaction with the tail: once per group, and once per request retried alone", async () => {
    const { d1, batches } = recordingD1();
    let tails = 0;
    const group = new GroupCommit(undefined, (db) => {
      tails++;
      return [db.prepare("UPDATE rate_limits SET count = count + 1 WHERE key LIKE 'tail:%'")];
    });
    await Promise.all([group.run(d1, [insert("tail:a")], 0), group.run(d1, [insert("tail:b")], 0)]);
    expect(batches).toEqual([3]);
    const counts = async () =>
      (await env.DB.prepare("SELECT count FROM rate_limits WHERE key LIKE 'tail:%' ORDER BY key").all()).results;
    expect(await counts()).toEqual([{ count: 2 }, { count: 2 }]);

    // The group fails on the duplicate; each request is retried alone, each with its own tail.
    const settled = await Promise.allSettled([
      group.run(d1, [insert("tail:c")], 0),
      group.run(d1, [insert("tail:a")], 0),
    ]);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected"]);
    expect(batches.slice(1)).toEqual([3, 2, 2]);
    expect(tails).toBe(4);
    // Only the committed transactions' tails counted: the failed group's and the failed request's rolled back.
    expect(await counts()).toEqual([{ count: 3 }, { count: 3 }, { count: 2 }]);
  });

  it("hands over: requests queued after a failure still run", async () => {
    const { d1 } = recordingD1();
    const group = new GroupCommit();
    const failing = group.run(d1, [env.DB.prepare("SELECT * FROM no_such_table")], 0);
    const after = group.run(d1, [insert("after:1")], 0);
    await expect(failing).rejects.toThrow(/no such table/);
    await expect(after).resolves.toHaveLength(1);
  });
});

describe("group commit while a write is in flight", () => {
  it("queues late arrivals behind the running batch and writes them together next", async () => {
    const { d1, batches } = recordingD1();
    const group = new GroupCommit();
    const first = group.run(d1, [insert("late:0")], 0);
    // Let the first batch start before the others arrive.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const late = [1, 2, 3].map((i) => group.run(d1, [insert(`late:${i}`)], 0));
    await Promise.all([first, ...late]);
    expect(batches[0]).toBe(1);
    expect(batches.slice(1).reduce((a, b) => a + b, 0)).toBe(3);
    expect(batches.length).toBeLessThanOrEqual(3);
    expect(await stored("late:")).toHaveLength(4);
  });
});
