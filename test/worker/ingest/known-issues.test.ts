import { describe, expect, it } from "vitest";
import { createNode, integration, postEvents, queued, securityIssue, storedIds, tenant } from "./support";

// `security_issue` is for NEW vulnerabilities: a scanner that reports an open issue on every scan
// must not page the team every time. A re-report is stored and counted, but notified only when
// its risk went up.
describe("re-reported security issues", () => {
  it("notify a new issue once, again only when its risk rises", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const hook = await integration(acme.accountId, { security_issue: ["critical", "high", "medium", "low", "info"] });
    const post = async (overrides: Record<string, unknown>) => {
      const event = securityIssue(overrides);
      expect((await postEvents(node.token, { events: [event] })).status).toBe(202);
      return event.id as string;
    };

    const first = await post({ risk: "high" });
    const again = await post({ risk: "high", title: "SQL injection in /api/login (rescan)" });
    const lower = await post({ risk: "medium" });
    const higher = await post({ risk: "critical" });
    const elsewhere = await post({ risk: "high", path: "/api/register" });

    const notified = [...(await queued(hook)).keys()];
    expect(notified.sort()).toEqual([first, higher, elsewhere].sort());
    expect(notified).not.toContain(again);
    expect(notified).not.toContain(lower);

    // Every report is still stored (the events list and the reports count them).
    expect(await storedIds(acme.accountId)).toEqual([first, again, lower, higher, elsewhere].sort());
  });
});
