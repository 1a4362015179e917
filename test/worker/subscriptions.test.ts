import { describe, expect, it } from "vitest";
import { EVENT_TYPES, REPORT_FREQUENCIES } from "../../worker/db/schema";
import { type EventSubscriptions, RISKS, subscribesTo } from "../../worker/domain/subscriptions";

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

describe("the subscription matcher", () => {
  it("takes a security issue by its risk and every other event by its category, for every subscription", () => {
    expect(SUBSCRIPTIONS).toHaveLength(512);
    for (const subscriptions of SUBSCRIPTIONS) {
      for (const row of ROWS) {
        const expected =
          row.type === "security_issue"
            ? row.risk !== null && (subscriptions.security_issue ?? []).includes(row.risk)
            : subscriptions[row.type] === true;
        expect(subscribesTo(subscriptions, row), `${JSON.stringify(subscriptions)} ${key(row)}`).toBe(expected);
      }
    }
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
