/**
 * `fallback_integration_id` through the integrations API: another integration of the same account,
 * not itself, one step only (a fallback names no fallback, an integration named as a fallback
 * names none); audited; cleared when the fallback is deleted, a user's personal email included.
 */
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { integrations } from "../../../worker/db/schema";
import { personalEmailRow } from "../../../worker/integrations/personal-email";
import { api, db, json, login, type Session, seedAccount } from "../helpers";
import { hubUrl } from "../hub";

async function createWebhook(admin: Session, name: string, extra: Record<string, unknown> = {}) {
  const res = await api(admin, "POST", "/api/integrations", {
    type: "webhook",
    name,
    settings: { url: hubUrl(`fallback-api-${crypto.randomUUID()}`) },
    events: { system: true },
    ...extra,
  });
  return { status: res.status, body: await json(res) };
}

async function created(admin: Session, name: string): Promise<string> {
  const res = await createWebhook(admin, name);
  expect(res.status).toBe(201);
  return res.body.integration.id as string;
}

const setFallback = (admin: Session, id: string, fallback: string | null) =>
  api(admin, "PATCH", `/api/integrations/${id}`, { fallback_integration_id: fallback });

async function refusal(res: Response) {
  expect(res.status).toBe(400);
  const body = await json(res);
  expect(body.error.code).toBe("validation_failed");
  return body.error.details as { field: string; message: string }[];
}

const fallbackOf = async (admin: Session, id: string) =>
  (await json(await api(admin, "GET", `/api/integrations/${id}`))).integration.fallback_integration_id;

describe("fallback_integration_id", () => {
  it("names another integration of the account, shown and audited; null clears it", async () => {
    const acme = await seedAccount("Acme Fallback API");
    const admin = await login(acme.users.admin.email);
    const primary = await created(admin, "SIEM");
    const fallback = await created(admin, "Backup SIEM");
    expect(await fallbackOf(admin, primary)).toBeNull();

    const res = await setFallback(admin, primary, fallback);
    expect(res.status).toBe(200);
    expect((await json(res)).integration.fallback_integration_id).toBe(fallback);
    expect(await fallbackOf(admin, primary)).toBe(fallback);
    const audit = (await json(await api(admin, "GET", "/api/audit?action=integration.updated"))).entries;
    expect(audit[0]).toMatchObject({
      target_id: primary,
      details: { changed: ["fallback_integration_id"], fallback_integration_id: fallback },
    });

    expect((await setFallback(admin, primary, null)).status).toBe(200);
    expect(await fallbackOf(admin, primary)).toBeNull();

    // On create too.
    const withFallback = await createWebhook(admin, "Third", { fallback_integration_id: fallback });
    expect(withFallback.status).toBe(201);
    expect(withFallback.body.integration.fallback_integration_id).toBe(fallback);
  });

  it("refuses itself, another account's integration, an unknown id and chains, naming the field", async () => {
    const acme = await seedAccount("Acme Fallback Rules");
    const other = await seedAccount("Other Fallback Rules");
    const admin = await login(acme.users.admin.email);
    const otherAdmin = await login(other.users.admin.email);
    const a = await created(admin, "A");
    const b = await created(admin, "B");
    const c = await created(admin, "C");
    const foreign = await created(otherAdmin, "Foreign");

    const self = await refusal(await setFallback(admin, a, a));
    expect(self).toEqual([{ field: "fallback_integration_id", message: "An integration cannot be its own fallback." }]);
    for (const missing of [foreign, "no-such-integration"]) {
      expect(await refusal(await setFallback(admin, a, missing))).toEqual([
        { field: "fallback_integration_id", message: "No integration of this account has this id." },
      ]);
    }
    expect((await refusal(await setFallback(admin, a, ""))).map((e) => e.field)).toEqual(["fallback_integration_id"]);

    expect((await setFallback(admin, a, b)).status).toBe(200);
    // B is A's fallback: B may not name one (its dead deliveries would cascade).
    const fromFallback = await refusal(await setFallback(admin, b, c));
    expect(fromFallback[0]).toMatchObject({
      field: "fallback_integration_id",
      message: expect.stringContaining('"A"'),
    });
    // A has a fallback: nobody may name A as theirs.
    const toChain = await refusal(await setFallback(admin, c, a));
    expect(toChain[0]).toMatchObject({ field: "fallback_integration_id", message: expect.stringContaining('"A"') });
    const createChain = await createWebhook(admin, "D", { fallback_integration_id: a });
    expect(createChain.status).toBe(400);
    expect(createChain.body.error.details[0].field).toBe("fallback_integration_id");

    // Nothing was half-stored by the refusals.
    expect(await fallbackOf(admin, b)).toBeNull();
    expect(await fallbackOf(admin, c)).toBeNull();
    const names = (await json(await api(admin, "GET", "/api/integrations"))).integrations.map(
      (i: { name: string }) => i.name,
    );
    expect(names).not.toContain("D");
    // Another account's admin cannot name this account's integration either.
    expect(await refusal(await setFallback(otherAdmin, foreign, b))).toHaveLength(1);
  });

  it("is cleared when the fallback is deleted, a deleted user's personal email included", async () => {
    const acme = await seedAccount("Acme Fallback Delete");
    const admin = await login(acme.users.admin.email);
    const a = await created(admin, "A");
    const b = await created(admin, "B");
    const untouched = await created(admin, "Untouched");
    const spare = await created(admin, "Spare");
    expect((await setFallback(admin, a, b)).status).toBe(200);
    expect((await setFallback(admin, untouched, spare)).status).toBe(200);

    expect((await api(admin, "DELETE", `/api/integrations/${b}`)).status).toBe(204);
    expect(await fallbackOf(admin, a)).toBeNull();
    expect(await fallbackOf(admin, untouched)).toBe(spare);

    // The analyst's personal email as a fallback, then the analyst is deleted.
    const analyst = acme.users.analyst;
    const personal = personalEmailRow(acme.accountId, analyst);
    await db().insert(integrations).values(personal);
    expect((await setFallback(admin, a, personal.id)).status).toBe(200);
    expect((await api(admin, "DELETE", `/api/users/${analyst.id}`)).status).toBe(204);
    const [row] = await db().select().from(integrations).where(eq(integrations.id, a));
    expect(row!.fallbackIntegrationId).toBeNull();
  });
});
