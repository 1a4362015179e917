/**
 * Where a report lives (docs/storage.md#reports): D1 keeps the metadata row, the account's
 * AccountIngestDO the body; rows written before the move keep their data in D1 and still serve;
 * retention drops the bodies with the rows.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../../worker/env";
import { accountIngestObject } from "../../../worker/ingest/account-object";
import { DAY_MS } from "../../../worker/lib/time";
import { idFloorAt, purgeOldReports } from "../../../worker/reports/store";
import { api, json, login, seedAccount } from "../helpers";
import { hits, pdfText, seedEvents } from "./seed";

const appEnv = env as unknown as Env;

async function d1Data(reportId: string): Promise<string | null | undefined> {
  const row = await env.DB.prepare("SELECT data FROM reports WHERE id = ?1")
    .bind(reportId)
    .first<{ data: string | null }>();
  return row?.data;
}

describe("report bodies", () => {
  it("a new report's body is kept in the account's object, not in D1, and is served from there", async () => {
    const seeded = await seedAccount("Bodies", "UTC");
    const admin = await login(seeded.users.admin.email);
    await seedEvents(
      seeded.accountId,
      hits("2026-10-14T09:00:00Z", 6, { attack: "sqli", block: "blocked", host: "h", path: "/", ip: "1.1.1.1" }),
    );
    const created = (
      await json(await api(admin, "POST", "/api/reports", { frequency: "daily", period_start: "2026-10-14" }))
    ).report;
    expect(created.hits).toBe(6);

    expect(await d1Data(created.id)).toBeNull();
    const body = await accountIngestObject(env, seeded.accountId).reportBody(created.id);
    expect(JSON.parse(body ?? "null")).toEqual(created.data);

    const fetched = (await json(await api(admin, "GET", `/api/reports/${created.id}`))).report;
    expect(fetched).toEqual(created);
    const listed = (await json(await api(admin, "GET", "/api/reports"))).reports;
    expect(listed.map((r: { id: string; hits: number }) => [r.id, r.hits])).toEqual([[created.id, 6]]);
    const pdf = await api(admin, "GET", `/api/reports/${created.id}/pdf`);
    expect(pdf.status).toBe(200);
    const { text } = await pdfText(new Uint8Array(await pdf.arrayBuffer()));
    expect(text.join("\n")).toContain("Daily security report, 2026-10-14");
  });

  it("a report stored before the move still serves its data from D1", async () => {
    const seeded = await seedAccount("Legacy bodies", "UTC");
    const admin = await login(seeded.users.admin.email);
    // A report written by the previous version: built now, then its row rewritten as it was.
    const built = (
      await json(await api(admin, "POST", "/api/reports", { frequency: "daily", period_start: "2026-10-15" }))
    ).report;
    const legacyData = { ...built.data, totals: { ...built.data.totals, hits: { current: 42, previous: 0 } } };
    const legacyId = `${idFloorAt(Date.parse(built.created_at) - 1000).slice(0, 14)}7000-8000-000000000042`;
    await env.DB.prepare(
      `INSERT INTO reports (id, account_id, frequency, period_start, period_end, time_zone, origin, data, created_at)
       VALUES (?1, ?2, 'daily', '2026-10-13', '2026-10-13', 'UTC', 'schedule', ?3, ?4)`,
    )
      .bind(legacyId, seeded.accountId, JSON.stringify(legacyData), Date.parse(built.created_at) - 1000)
      .run();
    expect(await accountIngestObject(env, seeded.accountId).reportBody(legacyId)).toBeNull();

    const fetched = (await json(await api(admin, "GET", `/api/reports/${legacyId}`))).report;
    expect(fetched.data).toEqual(legacyData);
    expect(fetched.hits).toBe(42);
    const listed = (await json(await api(admin, "GET", "/api/reports"))).reports;
    expect(listed.map((r: { id: string; hits: number }) => [r.id, r.hits])).toEqual([
      [built.id, built.hits],
      [legacyId, 42],
    ]);
    expect((await api(admin, "GET", `/api/reports/${legacyId}/pdf`)).status).toBe(200);
  });

  it("retention drops the old bodies and day digests in the object with their D1 rows", async () => {
    const seeded = await seedAccount("Old bodies", "UTC");
    const account = accountIngestObject(env, seeded.accountId);
    const oldAt = Date.now() - 400 * DAY_MS;
    const recentAt = Date.now() - DAY_MS;
    const oldId = `${idFloorAt(oldAt).slice(0, 14)}7000-8000-000000000001`;
    const recentId = `${idFloorAt(recentAt).slice(0, 14)}7000-8000-000000000002`;
    for (const [id, createdAt] of [
      [oldId, oldAt],
      [recentId, recentAt],
    ] as const) {
      await account.saveReportBody(id, "{}", createdAt);
      await env.DB.prepare(
        "INSERT INTO reports (id, account_id, frequency, period_start, period_end, time_zone, origin, created_at) VALUES (?1, ?2, 'daily', '2025-01-01', '2025-01-01', 'UTC', 'schedule', ?3)",
      )
        .bind(id, seeded.accountId, createdAt)
        .run();
    }
    const digest = { timeZone: "UTC", attacks: 1, tops: "{}", truncated: "[]" };
    await account.saveDayTops([
      { ...digest, day: "2025-01-01", computedAt: oldAt },
      { ...digest, day: "2026-01-01", computedAt: recentAt },
    ]);

    expect(await purgeOldReports(appEnv)).toBeGreaterThanOrEqual(1);
    expect(await d1Data(oldId)).toBeUndefined();
    expect(await account.reportBody(oldId)).toBeNull();
    expect(await account.reportBody(recentId)).toBe("{}");
    expect((await account.dayTops("UTC", "2025-01-01", "2026-12-31")).map((row) => row.day)).toEqual(["2026-01-01"]);
  });
});
