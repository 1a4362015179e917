import { describe, expect, it } from "vitest";
import { getChannel } from "../../../worker/channels/catalog";
import type { SendContext } from "../../../worker/channels/types";
import type { Notification } from "../../../worker/domain/notification";
import { buildSecurityIssueClosedNotification } from "../../../worker/domain/security-issue-notifications";
import { checkOpsgenie, checkOpsgenieClose, checkPagerduty } from "../../support/vendor-contracts";
import { sample, secretsFor, TEST_SETTINGS, testEnv } from "../../unit/channels/fixtures";
import { bucketName, hubRequests, hubUrl } from "../hub";
import { accountObject, createNode, integration, postEvents, queued, securityIssue, tenant } from "../ingest/support";

/**
 * docs/channels.md#incidents through the real channel send path to the receiver hub on 127.0.0.1:
 * the notice that ends an incident resolves (PagerDuty) or closes (Opsgenie) the one that opened it.
 */

function incidentSystem(type: "pagerduty" | "opsgenie") {
  const channel = getChannel(type)!;
  const bucket = bucketName(`incidents-${type}`);
  const settings = channel.settingsSchema.parse(TEST_SETTINGS[type]) as Record<string, string>;
  const env = testEnv({
    PAGERDUTY_EVENTS_URL: hubUrl(bucket, "/v2/enqueue"),
    OPSGENIE_API_URL_US: hubUrl(bucket, "/v2/alerts"),
  });
  /** Sends one notification as its own delivery (a fresh delivery id each time, like the outbox). */
  const send = (notification: Notification) => {
    const ctx: SendContext<Record<string, unknown>> = {
      integrationId: crypto.randomUUID(),
      accountName: "Acme",
      settings,
      secrets: secretsFor(channel, settings),
      env,
      fetch: globalThis.fetch.bind(globalThis),
      deliveryId: crypto.randomUUID(),
    };
    return channel.send(ctx, [notification]);
  };
  return { send, settings, requests: () => hubRequests(bucket) };
}

describe("incident systems resolve what they opened", () => {
  it("PagerDuty: a silent node triggers, its recovery resolves the same dedup_key", async () => {
    const pd = incidentSystem("pagerduty");
    expect(await pd.send(sample("node_silent"))).toMatchObject({ ok: true });
    expect(await pd.send(sample("node_recovered"))).toMatchObject({ ok: true });
    const [opened, resolved] = await pd.requests();
    for (const req of [opened!, resolved!]) expect(checkPagerduty(req, pd.settings.routing_key!)).toEqual([]);
    const [trigger, resolve] = [JSON.parse(opened!.body), JSON.parse(resolved!.body)];
    expect(trigger.event_action).toBe("trigger");
    expect(resolve).toEqual({
      routing_key: pd.settings.routing_key,
      event_action: "resolve",
      dedup_key: trigger.dedup_key,
    });
  });

  it("Opsgenie: closing a security issue closes the alert its report opened, by alias", async () => {
    const og = incidentSystem("opsgenie");
    expect(await og.send(sample("security_issue"))).toMatchObject({ ok: true });
    expect(await og.send(sample("security_issue_closed"))).toMatchObject({ ok: true });
    expect(await og.send(sample("security_issue_reopened"))).toMatchObject({ ok: true });
    const [created, closed, reopened] = await og.requests();
    expect(checkOpsgenie(created!, og.settings.api_key!)).toEqual([]);
    expect(checkOpsgenie(reopened!, og.settings.api_key!)).toEqual([]);
    const alias = JSON.parse(created!.body).alias;
    expect(checkOpsgenieClose(closed!, og.settings.api_key!)).toEqual({ problems: [], alias });
    expect(closed!.path).toMatch(/\/v2\/alerts\/[^/]+\/close$/);
    expect(JSON.parse(closed!.body)).toMatchObject({ user: "admin@acme.example", source: "Herald" });
    // Reopening triggers the same alert again.
    expect(JSON.parse(reopened!.body).alias).toBe(alias);
  });

  it("the issue a node reported and the row ingest stored name the same incident", async () => {
    const acme = await tenant();
    const node = await createNode(acme.admin);
    const hook = await integration(acme.accountId, { security_issue: ["high"] });
    // Mixed case: ingest folds the host in the fingerprint; the key must fold it the same way.
    const reported = securityIssue({ host: "Shop.Example.com", path: `/checkout-${crypto.randomUUID()}` });
    expect((await postEvents(node.token, { events: [reported] })).status).toBe(202);
    const queuedItem = (await queued(hook)).get(String(reported.id));
    expect(queuedItem).toBeDefined();
    const stored = (await accountObject(acme.accountId).securityIssues({ status: "all", limit: 10 })).find(
      (issue) => issue.id === String(reported.id),
    );
    expect(stored).toBeDefined();
    const row = { ...stored!, vulnType: stored!.vuln_type };

    const pd = incidentSystem("pagerduty");
    expect(await pd.send(queuedItem!.notification as Notification)).toMatchObject({ ok: true });
    const closed = buildSecurityIssueClosedNotification(row, "admin@acme.example", {
      accountName: "Acme",
      publicUrl: "https://herald.example.com",
      at: Date.now(),
    });
    expect(await pd.send(closed)).toMatchObject({ ok: true });
    const [opened, resolved] = (await pd.requests()).map((r) => JSON.parse(r.body));
    expect(opened.event_action).toBe("trigger");
    expect(resolved).toMatchObject({ event_action: "resolve", dedup_key: opened.dedup_key });
  });
});
