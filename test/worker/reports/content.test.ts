/**
 * Report content against a small hand-checked data set (Europe/Berlin, the day 2026-11-10 =
 * 2026-11-09T23:00Z … 2026-11-10T23:00Z), the PDF read back, and the API's roles and isolation.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { accountIngestObject } from "../../../worker/ingest/account-object";
import { api, json, login, type Session, seedAccount } from "../helpers";
import { hits, pdfText, scopeChange, seedEvents, seedIntegration, seedIssue } from "./seed";

let accountId: string;
let admin: Session;
let analyst: Session;
let readOnly: Session;
let report: any;

beforeAll(async () => {
  const seeded = await seedAccount("Acme Ромашка", "Europe/Berlin");
  accountId = seeded.accountId;
  [admin, analyst, readOnly] = await Promise.all([
    login(seeded.users.admin.email),
    login(seeded.users.analyst.email),
    login(seeded.users.read_only.email),
  ]);

  await seedEvents(accountId, [
    // The day: 35 hits (26 blocked, 9 monitored) and 2 incidents in three local hours.
    ...hits("2026-11-09T23:00:00Z", 6, {
      attack: "sqli",
      block: "blocked",
      host: "a.example",
      path: "/login",
      ip: "1.1.1.1",
      country: "DE",
    }),
    ...hits("2026-11-09T23:00:00Z", 4, {
      attack: "xss",
      block: "monitored",
      host: "a.example",
      path: "/search",
      ip: "2.2.2.2",
      country: "US",
    }),
    ...hits("2026-11-10T12:00:00Z", 15, {
      attack: "xss",
      block: "blocked",
      host: "b.example",
      path: "/login",
      ip: "3.3.3.3",
      country: "FR",
    }),
    ...hits("2026-11-10T12:00:00Z", 5, {
      attack: "sqli",
      block: "monitored",
      host: "a.example",
      path: "/login",
      ip: "1.1.1.1",
    }),
    ...hits("2026-11-10T22:00:00Z", 5, {
      attack: "ptrav",
      block: "blocked",
      host: "a.example",
      path: "/etc",
      ip: "2.2.2.2",
      country: "DE",
    }),
    ...hits("2026-11-10T12:00:00Z", 2, {
      type: "incident",
      attack: "rce",
      block: "blocked",
      host: "b.example",
      path: "/upload",
      ip: "9.9.9.9",
      country: "CN",
    }),
    // The next local day starts at 23:00Z: not counted.
    ...hits("2026-11-10T23:00:00Z", 100, {
      attack: "sqli",
      block: "blocked",
      host: "c.example",
      path: "/x",
      ip: "8.8.8.8",
    }),
    // The previous day: 20 hits (10 blocked, 10 monitored), 1 incident; 22:00Z on the 8th is the day before it.
    ...hits("2026-11-09T10:00:00Z", 10, {
      attack: "sqli",
      block: "blocked",
      host: "a.example",
      path: "/login",
      ip: "1.1.1.1",
    }),
    ...hits("2026-11-09T10:00:00Z", 10, {
      attack: "xss",
      block: "monitored",
      host: "a.example",
      path: "/login",
      ip: "1.1.1.1",
    }),
    ...hits("2026-11-09T10:00:00Z", 1, {
      type: "incident",
      attack: "rce",
      block: "blocked",
      host: "a.example",
      path: "/",
      ip: "1.1.1.1",
    }),
    ...hits("2026-11-08T22:00:00Z", 50, {
      attack: "sqli",
      block: "blocked",
      host: "a.example",
      path: "/",
      ip: "1.1.1.1",
    }),
    // Scope changes: 3 in the day, 1 the day before.
    scopeChange("2026-11-10T12:10:00Z", "added", "host", "new.example"),
    scopeChange("2026-11-10T12:20:00Z", "added", "host", "other.example"),
    scopeChange("2026-11-10T12:30:00Z", "removed", "port", "8080"),
    scopeChange("2026-11-09T10:30:00Z", "added", "host", "yesterday.example"),
  ]);
  await seedIssue(accountId, {
    risk: "critical",
    title: "RCE in upload",
    firstSeen: "2026-11-10T20:00:00Z",
    method: "POST",
    path: "/upload",
    parameter: "file",
    vulnType: "rce",
  });
  await seedIssue(accountId, {
    risk: "high",
    title: "SQLi in login",
    firstSeen: "2026-11-10T08:00:00Z",
    path: "/login",
  });
  await seedIssue(accountId, { risk: "medium", title: "Verbose errors", firstSeen: "2026-11-09T05:00:00Z" });
  await seedIssue(accountId, { risk: "low", title: "Old cookie flag", firstSeen: "2026-10-01T00:00:00Z" });
  await seedIssue(accountId, { risk: "info", title: "Found after the day", firstSeen: "2026-11-11T05:00:00Z" });
  await seedIntegration(accountId, { name: "SOC webhook", events: { reports: ["daily"] } });
  await seedIntegration(accountId, { type: "email", name: "Weekly mail", events: { reports: ["weekly"] } });
  await seedIntegration(accountId, {
    type: "slack",
    name: "Old Slack",
    events: { reports: ["daily"] },
    status: "disabled",
    disabledReason: "auto_failure_ratio",
  });

  const res = await api(admin, "POST", "/api/reports", { frequency: "daily", period_start: "2026-11-10" });
  expect(res.status).toBe(201);
  report = (await json(res)).report;
});

describe("report content (hand-checked)", () => {
  it("covers the local day and compares with the previous one", () => {
    expect(report.period_start).toBe("2026-11-10");
    expect(report.period_end).toBe("2026-11-10");
    expect(report.time_zone).toBe("Europe/Berlin");
    expect(report.origin).toBe("manual");
    expect(report.data.period).toMatchObject({
      start_at: "2026-11-09T23:00:00.000Z",
      end_at: "2026-11-10T23:00:00.000Z",
      hours: 24,
    });
    expect(report.data.previous_period).toMatchObject({ start: "2026-11-09", end: "2026-11-09" });
  });

  it("totals and change against the previous period", () => {
    const t = report.data.totals;
    expect(t.hits).toEqual({ current: 35, previous: 20, change: 15, change_pct: 75 });
    expect(t.blocked).toEqual({ current: 26, previous: 10, change: 16, change_pct: 160 });
    expect(t.monitored).toEqual({ current: 9, previous: 10, change: -1, change_pct: -10 });
    expect(t.incidents).toEqual({ current: 2, previous: 1, change: 1, change_pct: 100 });
    expect(t.new_security_issues).toEqual({ current: 2, previous: 1, change: 1, change_pct: 100 });
    expect(t.new_security_issues_by_risk.critical).toEqual({ current: 1, previous: 0, change: 1, change_pct: null });
    expect(t.new_security_issues_by_risk.medium).toEqual({ current: 0, previous: 1, change: -1, change_pct: -100 });
    expect(t.scope_changes).toEqual({ current: 3, previous: 1, change: 2, change_pct: 200 });
  });

  it("hits over time per local hour", () => {
    const series = report.data.hits_over_time;
    expect(series.bucket).toBe("hour");
    expect(series.points).toHaveLength(24);
    expect(series.points[0]).toMatchObject({ label: "00:00", hits: 10, blocked: 6, monitored: 4, incidents: 0 });
    expect(series.points[13]).toMatchObject({ label: "13:00", hits: 20, blocked: 15, monitored: 5, incidents: 2 });
    expect(series.points[23]).toMatchObject({ label: "23:00", hits: 5, blocked: 5 });
    expect(series.points.reduce((sum: number, p: { hits: number }) => sum + p.hits, 0)).toBe(35);
  });

  it("top attack types, hosts, paths, source IPs and countries (hits and incidents)", () => {
    const top = report.data.top;
    const keys = (rows: { key: string; count: number }[]) => rows.map((r) => [r.key, r.count]);
    expect(keys(top.attack_types)).toEqual([
      ["xss", 19],
      ["sqli", 11],
      ["ptrav", 5],
      ["rce", 2],
    ]);
    expect(keys(top.hosts)).toEqual([
      ["a.example", 20],
      ["b.example", 17],
    ]);
    expect(keys(top.paths)).toEqual([
      ["/login", 26],
      ["/etc", 5],
      ["/search", 4],
      ["/upload", 2],
    ]);
    expect(keys(top.source_ips)).toEqual([
      ["3.3.3.3", 15],
      ["1.1.1.1", 11],
      ["2.2.2.2", 9],
      ["9.9.9.9", 2],
    ]);
    expect(keys(top.countries)).toEqual([
      ["FR", 15],
      ["DE", 11],
      ["US", 4],
      ["CN", 2],
    ]);
    expect(top.attack_types[0].share).toBeCloseTo(19 / 37, 6);
  });

  it("new security issues with details, most severe first, and open issues by risk", () => {
    const issues = report.data.new_security_issues;
    expect(issues.total).toBe(2);
    expect(issues.items.map((i: { title: string }) => i.title)).toEqual(["RCE in upload", "SQLi in login"]);
    expect(issues.items[0]).toMatchObject({
      risk: "critical",
      method: "POST",
      path: "/upload",
      parameter: "file",
      discovered_by: "scanner",
      vuln_type: "rce",
    });
    expect(report.data.open_security_issues).toEqual({
      total: 4,
      by_risk: { critical: 1, high: 1, medium: 1, low: 1, info: 0 },
    });
  });

  it("scope changes by object type with the list", () => {
    const scope = report.data.scope_changes;
    expect(scope).toMatchObject({ total: 3, added: 2, removed: 1 });
    expect(scope.by_object_type).toEqual([
      { object_type: "host", added: 2, removed: 0 },
      { object_type: "port", added: 0, removed: 1 },
    ]);
    expect(scope.items.map((i: { value: string }) => i.value)).toEqual(["8080", "other.example", "new.example"]);
  });

  it("integration health lists every integration and the auto-disabled ones", () => {
    const health = report.data.integration_health;
    expect(health.integrations.map((i: { name: string }) => i.name).sort()).toEqual([
      "Old Slack",
      "SOC webhook",
      "Weekly mail",
    ]);
    expect(health.auto_disabled.map((i: { name: string }) => i.name)).toEqual(["Old Slack"]);
    expect(health.auto_disabled[0]).toMatchObject({ status: "disabled", disabled_reason: "auto_failure_ratio" });
  });
});

describe("PDF", () => {
  it("parses, is paginated and carries the totals", async () => {
    const res = await api(readOnly, "GET", `/api/reports/${report.id}/pdf`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/pdf");
    expect(res.headers.get("Content-Disposition")).toContain("herald-daily-2026-11-10.pdf");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(new TextDecoder().decode(bytes.slice(0, 5))).toBe("%PDF-");
    const { pages, text } = await pdfText(bytes);
    expect(pages).toBeGreaterThanOrEqual(2);
    const all = text.join("\n");
    const lines = all.split("\n");
    expect(all).toContain("Daily security report, 2026-11-10");
    // The totals table: hits row "Hits 35 20 +75%", blocked "+160%", monitored "-10%".
    const hitsRow = lines.indexOf("Hits");
    expect(lines.slice(hitsRow, hitsRow + 4)).toEqual(["Hits", "35", "20", "+75%"]);
    expect(lines).toContain("+160%");
    expect(lines).toContain("-10%");
    expect(all).toContain("RCE in upload");
    expect(all).toContain("3.3.3.3");
    // Cyrillic is transliterated for the standard fonts.
    expect(all).toContain("Acme Romashka");
    expect(text[0]).toContain(`Page 1 of ${pages}`);
  });

  it("is also served at /api/reports/<id>.pdf", async () => {
    const res = await api(analyst, "GET", `/api/reports/${report.id}.pdf`);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/pdf");
  });
});

describe("reports API", () => {
  it("every role reads the list and the report", async () => {
    for (const session of [admin, analyst, readOnly]) {
      const list = await json(await api(session, "GET", "/api/reports"));
      expect(list.reports.map((r: { id: string }) => r.id)).toContain(report.id);
      const one = await api(session, "GET", `/api/reports/${report.id}`);
      expect(one.status).toBe(200);
    }
    const summary = (await json(await api(readOnly, "GET", "/api/reports"))).reports.find(
      (r: { id: string }) => r.id === report.id,
    );
    expect(summary).toMatchObject({
      hits: 35,
      incidents: 2,
      new_security_issues: 2,
      pdf_url: `/api/reports/${report.id}/pdf`,
    });
  });

  it("only admins build reports", async () => {
    for (const session of [analyst, readOnly]) {
      const res = await api(session, "POST", "/api/reports", { frequency: "daily", period_start: "2026-11-10" });
      expect(res.status).toBe(403);
    }
    expect((await api(null, "GET", "/api/reports")).status).toBe(401);
  });

  it("another account's report is not found", async () => {
    const other = await seedAccount("Other");
    const otherAdmin = await login(other.users.admin.email);
    expect((await api(otherAdmin, "GET", `/api/reports/${report.id}`)).status).toBe(404);
    expect((await api(otherAdmin, "GET", `/api/reports/${report.id}/pdf`)).status).toBe(404);
    expect((await api(otherAdmin, "GET", `/api/reports/${report.id}.pdf`)).status).toBe(404);
    const list = await json(await api(otherAdmin, "GET", "/api/reports"));
    expect(list.reports).toEqual([]);
  });

  it("validates the period and names the field", async () => {
    const cases: [unknown, string][] = [
      [{ frequency: "weekly", period_start: "2026-11-10" }, "period_start"], // a Tuesday
      [{ frequency: "monthly", period_start: "2026-11-10" }, "period_start"],
      [{ frequency: "daily", period_start: "2026-02-30" }, "period_start"],
      [{ frequency: "daily", period_start: "2099-01-01" }, "period_start"],
      [{ frequency: "hourly", period_start: "2026-11-10" }, "frequency"],
      [{ frequency: "daily" }, "period_start"],
    ];
    for (const [body, field] of cases) {
      const res = await api(admin, "POST", "/api/reports", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const error = (await json(res)).error;
      expect(error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    const weekly = await json(
      await api(admin, "POST", "/api/reports", { frequency: "weekly", period_start: "2026-11-11" }),
    );
    expect(weekly.error.message).toContain("2026-11-09");
  });

  it("builds the current period and weekly/monthly ones, paginates the list", async () => {
    const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Berlin" }).format(new Date());
    const current = await api(admin, "POST", "/api/reports", { frequency: "daily", period_start: today });
    expect(current.status).toBe(201);
    const monthly = await json(
      await api(admin, "POST", "/api/reports", { frequency: "monthly", period_start: "2026-11-01" }),
    );
    expect(monthly.report.period_end).toBe("2026-11-30");
    expect(monthly.report.data.hits_over_time).toMatchObject({ bucket: "day" });
    expect(monthly.report.data.hits_over_time.points).toHaveLength(30);
    // Day buckets in local time: the 10th holds the day's 35 hits; the 100 of 23:00Z fall on the 11th.
    const byLabel = Object.fromEntries(
      monthly.report.data.hits_over_time.points.map((p: { label: string; hits: number }) => [p.label, p.hits]),
    );
    expect(byLabel["2026-11-10"]).toBe(35);
    expect(byLabel["2026-11-11"]).toBe(100);
    // 22:00Z on the 8th is 23:00 local on the 8th.
    expect(byLabel["2026-11-09"]).toBe(20);
    expect(byLabel["2026-11-08"]).toBe(50);

    // Tops of the month merge each day's digest: the day before, the day, the next day, the 8th.
    expect(monthly.report.data.top.attack_types.map((r: { key: string; count: number }) => [r.key, r.count])).toEqual([
      ["sqli", 11 + 100 + 10 + 50],
      ["xss", 29],
      ["ptrav", 5],
      ["rce", 3],
    ]);
    expect(monthly.report.data.top.approximate).toEqual([]);

    const first = await json(await api(readOnly, "GET", "/api/reports?limit=2"));
    expect(first.reports).toHaveLength(2);
    expect(first.next_cursor).toBeTruthy();
    const second = await json(await api(readOnly, "GET", `/api/reports?limit=2&cursor=${first.next_cursor}`));
    const ids = [...first.reports, ...second.reports].map((r: { id: string }) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain(report.id);
    const onlyMonthly = await json(await api(readOnly, "GET", "/api/reports?frequency=monthly"));
    expect(onlyMonthly.reports.map((r: { frequency: string }) => r.frequency)).toEqual(["monthly"]);
  });

  it("are described in the OpenAPI document", async () => {
    const doc = await json(await api(null, "GET", "/api/openapi.json"));
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/api/reports", "/api/reports/{id}", "/api/reports/{id}/pdf"]),
    );
    expect(doc.components.schemas.ReportData.properties.totals).toBeDefined();
  });

  it("records on-demand builds in the audit log", async () => {
    const { results } = await env.DB.prepare(
      "SELECT action, target_id FROM audit_log WHERE account_id = ?1 AND action = 'report.created'",
    )
      .bind(accountId)
      .all<{ action: string; target_id: string }>();
    expect(results.map((r) => r.target_id)).toContain(report.id);
  });
});

describe("top tables over many days (daily digests)", () => {
  it("recomputes a day whose totals changed after its digest was kept", async () => {
    const seeded = await seedAccount("Digest", "UTC");
    const digestAdmin = await login(seeded.users.admin.email);
    await seedEvents(
      seeded.accountId,
      hits("2026-11-03T10:00:00Z", 4, { attack: "sqli", block: "blocked", host: "h", path: "/", ip: "1.1.1.1" }),
    );
    const week = async () =>
      (await json(await api(digestAdmin, "POST", "/api/reports", { frequency: "weekly", period_start: "2026-11-02" })))
        .report.data.top;
    expect((await week()).attack_types.map((r: { key: string }) => r.key)).toEqual(["sqli"]);
    const kept = await accountIngestObject(env, seeded.accountId).dayTops("UTC", "2026-11-02", "2026-11-08");
    expect(kept.map((row) => ({ day: row.day, attacks: row.attacks }))).toEqual([{ day: "2026-11-03", attacks: 4 }]);

    // Late events for the 3rd: its total moves from 4 to 9, so its digest is rebuilt.
    await seedEvents(
      seeded.accountId,
      hits("2026-11-03T11:00:00Z", 5, { attack: "xxe", block: "blocked", host: "h", path: "/", ip: "2.2.2.2" }),
    );
    const top = await week();
    expect(top.attack_types.map((r: { key: string; count: number }) => [r.key, r.count])).toEqual([
      ["xxe", 5],
      ["sqli", 4],
    ]);
    expect(top.attack_types[0].share).toBeCloseTo(5 / 9, 6);
  });

  it("marks multi-day tables approximate when a day had more keys than its digest keeps", async () => {
    const seeded = await seedAccount("Many IPs", "UTC");
    const manyAdmin = await login(seeded.users.admin.email);
    const rows = [];
    for (let i = 0; i < 130; i++) {
      rows.push(
        ...hits("2026-11-04T10:00:00Z", 1 + (i % 3), {
          attack: "scanner",
          block: "blocked",
          host: "h",
          path: "/",
          ip: `10.0.0.${i}`,
        }),
      );
    }
    await seedEvents(seeded.accountId, rows);
    const weekly = (
      await json(await api(manyAdmin, "POST", "/api/reports", { frequency: "weekly", period_start: "2026-11-02" }))
    ).report.data;
    expect(weekly.top.approximate).toEqual(["source_ips"]);
    expect(weekly.top.source_ips).toHaveLength(10);
    expect(weekly.top.source_ips[0].count).toBe(3);
    // One day's own list is exact.
    const daily = (
      await json(await api(manyAdmin, "POST", "/api/reports", { frequency: "daily", period_start: "2026-11-04" }))
    ).report.data;
    expect(daily.top.approximate).toEqual([]);
    expect(daily.totals.hits.current).toBe(rows.length);
  });
});
