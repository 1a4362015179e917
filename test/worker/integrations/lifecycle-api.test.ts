import { describe, expect, it } from "vitest";
import { api, call, login, type Session, seedAccount } from "../helpers";
import { hubRequests } from "../hub";
import { fixture } from "./fixtures";

/** Disable / enable / delete through the API, with the real IntegrationDO behind it. */

async function postEvent(nodeToken: string, title: string) {
  const res = await call("/v1/events", {
    method: "POST",
    headers: { Authorization: `Bearer ${nodeToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      events: [
        {
          id: crypto.randomUUID(),
          type: "security_issue",
          occurred_at: new Date().toISOString(),
          risk: "critical",
          title,
          vuln_type: "rce",
          host: "shop.example.com",
          method: "POST",
          // A distinct issue each time: a re-report of an open issue is not notified again.
          path: `/upload/${encodeURIComponent(title)}`,
        },
      ],
    }),
  });
  expect(res.status, await res.clone().text()).toBe(202);
}

/** Titles of the notifications the hub bucket received so far, waiting up to `ms` for `want`. */
async function receivedTitles(bucket: string, want: number, ms = 8000): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const titles = (await hubRequests(bucket)).flatMap((r) =>
      (JSON.parse(r.body) as { details: { security_issue?: { title: string } } }[]).map(
        (n) => n.details.security_issue?.title ?? "?",
      ),
    );
    if (titles.length >= want || Date.now() > deadline) return titles;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function setup(): Promise<{ admin: Session; nodeToken: string; id: string; bucket: string }> {
  const acme = await seedAccount("Acme");
  const admin = await login(acme.users.admin.email);
  const node = (await (await api(admin, "POST", "/api/nodes", { name: "edge-1" })).json()) as { token: string };
  const fx = fixture("webhook");
  const created = await api(admin, "POST", "/api/integrations", {
    type: "webhook",
    name: "SOC hook",
    settings: fx.settings,
    events: { security_issue: ["critical"] },
  });
  const id = ((await created.json()) as { integration: { id: string } }).integration.id;
  return { admin, nodeToken: node.token, id, bucket: fx.bucket! };
}

describe("disable, enable, delete with the delivery engine", () => {
  it("stops delivering while disabled and replays what was missed on enable when asked", async () => {
    const { admin, nodeToken, id, bucket } = await setup();
    await postEvent(nodeToken, "before");
    expect(await receivedTitles(bucket, 1)).toEqual(["before"]);

    const disabled = await api(admin, "POST", `/api/integrations/${id}/disable`);
    expect(disabled.status).toBe(200);
    await postEvent(nodeToken, "while disabled");
    expect(await receivedTitles(bucket, 2, 1000)).toEqual(["before"]);

    const enabled = await api(admin, "POST", `/api/integrations/${id}/enable`, {
      pending: "resume",
      replay_missed: true,
    });
    const body = (await enabled.json()) as {
      replayed: number;
      outbox_updated: boolean;
      integration: { status: string };
    };
    expect(body).toMatchObject({ replayed: 1, outbox_updated: true, integration: { status: "enabled" } });
    expect(await receivedTitles(bucket, 2)).toEqual(["before", "while disabled"]);
  });

  it("does not replay unless asked, and delivers nothing after delete", async () => {
    const { admin, nodeToken, id, bucket } = await setup();
    await api(admin, "POST", `/api/integrations/${id}/disable`);
    await postEvent(nodeToken, "missed");
    const invalid = await api(admin, "POST", `/api/integrations/${id}/enable`, { pending: "maybe" });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: { details: { field: string }[] } }).error.details[0]!.field).toBe(
      "pending",
    );
    const enabled = await api(admin, "POST", `/api/integrations/${id}/enable`);
    expect(((await enabled.json()) as { replayed: number }).replayed).toBe(0);
    await postEvent(nodeToken, "after enable");
    expect(await receivedTitles(bucket, 1)).toEqual(["after enable"]);

    expect((await api(admin, "DELETE", `/api/integrations/${id}`)).status).toBe(204);
    await postEvent(nodeToken, "after delete");
    expect(await receivedTitles(bucket, 2, 1000)).toEqual(["after enable"]);
    const again = await api(admin, "POST", `/api/integrations/${id}/enable`);
    expect(again.status).toBe(404);
  });
});
