import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EVENT_TYPES, events, REPORT_FREQUENCIES } from "../../worker/db/schema";
import {
  type EventSubscriptions,
  RISKS,
  subscribedEventsCondition,
  subscribesTo,
} from "../../worker/domain/subscriptions";
import { db } from "./helpers";

/** Every subset of a list. */
function subsets<T>(values: readonly T[]): T[][] {
  const all: T[][] = [[]];
  for (const value of values) {
    for (const subset of [...all]) all.push([...subset, value]);
  }
  return all;
}

/** Every event shape a stored row can have: each type with each risk and with none. */
const ROWS = EVENT_TYPES.flatMap((type) => [...RISKS, null].map((risk) => ({ type, risk })));
const key = (row: { type: string; risk: string | null }) => `${row.type}/${row.risk ?? "-"}`;

/** Every combination of the on/off categories and of the security-issue risks (512 in all). */
const SUBSCRIPTIONS: EventSubscriptions[] = subsets(["system", "scope_change", "incident", "hit"] as const).flatMap(
  (flags) =>
    subsets(RISKS).map((risks) => ({
      ...Object.fromEntries(flags.map((flag) => [flag, true])),
      ...(risks.length > 0 ? { security_issue: risks } : {}),
    })),
);

/** The rows of ROWS that the SQL condition selects, run by SQLite over a table of exactly those rows. */
async function selectedBySql(subscriptions: EventSubscriptions): Promise<string[]> {
  const condition = subscribedEventsCondition(subscriptions);
  if (!condition) return [];
  const query = db().select({ type: events.type, risk: events.risk }).from(events).where(condition).toSQL();
  // A CTE named like the table shadows it: the generated SQL runs unchanged over the sample rows.
  const values = ROWS.map(() => "(?, ?)").join(", ");
  const { results } = await env.DB.prepare(`WITH events(type, risk) AS (VALUES ${values}) ${query.sql}`)
    .bind(...ROWS.flatMap((row) => [row.type, row.risk]), ...query.params)
    .all<{ type: string; risk: string | null }>();
  return results.map(key).sort();
}

describe("the subscription matcher", () => {
  it("its SQL form selects exactly the events subscribesTo takes, for every subscription and event", async () => {
    expect(SUBSCRIPTIONS).toHaveLength(512);
    for (const subscriptions of SUBSCRIPTIONS) {
      const byJs = ROWS.filter((row) => subscribesTo(subscriptions, row))
        .map(key)
        .sort();
      expect({ subscriptions, rows: await selectedBySql(subscriptions) }).toEqual({ subscriptions, rows: byJs });
    }
  });

  it("no condition when no event is subscribed (reports alone included)", () => {
    expect(subscribedEventsCondition({})).toBeNull();
    expect(subscribedEventsCondition({ reports: ["daily"], security_issue: [] })).toBeNull();
  });

  it("reports match by frequency only", () => {
    for (const frequencies of subsets(REPORT_FREQUENCIES)) {
      for (const frequency of REPORT_FREQUENCIES) {
        const subscriptions = { reports: frequencies, hit: true, system: true };
        expect(subscribesTo(subscriptions, { type: "report", frequency })).toBe(frequencies.includes(frequency));
      }
    }
  });
});
