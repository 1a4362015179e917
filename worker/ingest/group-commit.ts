/**
 * Group commit for ingest writes. A D1 write transaction has a fixed cost (the commit) that
 * dominates small batches, and D1 runs writes one at a time. So while one request's batch is
 * being written, the requests of this isolate that arrive meanwhile wait, and are then written
 * together in ONE db.batch(): one transaction for many requests. With no contention a request is
 * written at once, alone (no added latency).
 *
 * Each request's statements stay together and in order inside the group's transaction, so each
 * request is still all-or-nothing. If a group of several fails, each request is retried alone, so
 * one request's failure never fails the others. An optional tail ends every transaction.
 *
 * Every batch is started by a request that belongs to it and waits for it (the "leader"), then
 * the leader hands over to the next waiting request: no I/O is ever started on behalf of a
 * request from another request's context (only plain promises are resolved across requests).
 */

type Outcome = { kind: "lead" } | { kind: "done"; results: D1Result[] } | { kind: "failed"; error: unknown };

interface Entry {
  statements: D1PreparedStatement[];
  bytes: number;
  settle: (outcome: Outcome) => void;
  outcome: Promise<Outcome>;
}

export interface GroupCommitLimits {
  /** At most this many statements in one group's batch. */
  maxStatements: number;
  /** At most about this many bytes of bound JSON in one group's batch. */
  maxBytes: number;
}

export class GroupCommit {
  private readonly queue: Entry[] = [];
  private leading = false;

  /**
   * @param tail statements appended to every transaction this runs, after the requests' own (their
   *   results are not handed to anyone): work done once per transaction instead of per request.
   */
  constructor(
    private readonly limits: GroupCommitLimits = { maxStatements: 200, maxBytes: 4 * 1024 * 1024 },
    private readonly tail: (d1: D1Database) => D1PreparedStatement[] = () => [],
  ) {}

  /** Runs the statements atomically (alone or in a group) and returns their results, in order. */
  async run(d1: D1Database, statements: D1PreparedStatement[], bytes: number): Promise<D1Result[]> {
    let settle!: (outcome: Outcome) => void;
    const outcome = new Promise<Outcome>((resolve) => {
      settle = resolve;
    });
    const entry: Entry = { statements, bytes, settle, outcome };
    this.queue.push(entry);
    if (!this.leading) {
      this.leading = true;
      entry.settle({ kind: "lead" });
    }
    const result = await entry.outcome;
    if (result.kind === "done") return result.results;
    if (result.kind === "failed") throw result.error;
    return this.lead(d1, entry);
  }

  /** Writes the group headed by `self`, settles the others, hands the lead to the next in line. */
  private async lead(d1: D1Database, self: Entry): Promise<D1Result[]> {
    const group = this.takeGroup();
    try {
      const results = await d1.batch([...group.flatMap((e) => e.statements), ...this.tail(d1)]);
      let offset = 0;
      let own: D1Result[] = [];
      for (const entry of group) {
        const slice = results.slice(offset, offset + entry.statements.length);
        offset += entry.statements.length;
        if (entry === self) own = slice;
        else entry.settle({ kind: "done", results: slice });
      }
      return own;
    } catch (error) {
      if (group.length === 1) throw error;
      // Someone's statements failed the whole group: retry each request alone.
      let own: D1Result[] | undefined;
      let ownError: unknown;
      for (const entry of group) {
        try {
          const results = (await d1.batch([...entry.statements, ...this.tail(d1)])).slice(0, entry.statements.length);
          if (entry === self) own = results;
          else entry.settle({ kind: "done", results });
        } catch (alone) {
          if (entry === self) ownError = alone;
          else entry.settle({ kind: "failed", error: alone });
        }
      }
      if (own) return own;
      throw ownError;
    } finally {
      const next = this.queue[0];
      if (next) next.settle({ kind: "lead" });
      else this.leading = false;
    }
  }

  /** The waiting entries from the front of the queue, within the limits (always at least one). */
  private takeGroup(): Entry[] {
    const group: Entry[] = [];
    let statements = 0;
    let bytes = 0;
    while (this.queue.length > 0) {
      const entry = this.queue[0] as Entry;
      const fits =
        statements + entry.statements.length <= this.limits.maxStatements &&
        bytes + entry.bytes <= this.limits.maxBytes;
      if (group.length > 0 && !fits) break;
      this.queue.shift();
      group.push(entry);
      statements += entry.statements.length;
      bytes += entry.bytes;
    }
    return group;
  }
}
