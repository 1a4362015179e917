import { it } from "vitest";
import { base64 } from "../../../worker/lib/ids";
import { renderReportPdf } from "../../../worker/reports/pdf";
import { api, json, login, seedAccount } from "../helpers";
import { hitRollups, mergeRollups, seedIssue, seedRollups } from "./seed";

it("dump", async () => {
  const s = await seedAccount("Acme Ромашка", "Europe/Berlin");
  const admin = await login(s.users.admin.email);
  const rows = [];
  for (let d = 1; d <= 30; d++) {
    const day = String(d).padStart(2, "0");
    for (const h of ["03", "11", "17"]) {
      rows.push(
        ...hitRollups(`2026-11-${day}T${h}:00:00Z`, 50 + d * 7 + Number(h), {
          attack: ["sqli", "xss", "rce", "ptrav"][d % 4]!,
          block: d % 3 ? "blocked" : "monitored",
          host: `host${d % 5}.example.com`,
          path: `/api/v1/resource/${d % 7}/very/long/path/segment/that/keeps/going/${d}`,
          ip: `10.0.${d % 9}.${d}`,
          country: ["DE", "US", "FR", "CN", "RU"][d % 5],
        }),
      );
    }
  }
  await seedRollups(s.accountId, mergeRollups(rows));
  for (let i = 0; i < 60; i++)
    await seedIssue(s.accountId, {
      risk: ["critical", "high", "medium", "low", "info"][i % 5]!,
      title: `Issue number ${i} — SQL injection “quoted” in параметр`,
      firstSeen: `2026-11-${String((i % 28) + 1).padStart(2, "0")}T10:00:00Z`,
      path: `/p/${i}`,
      withEvent: i % 2 === 0,
      parameter: "id",
    });
  const res = await api(admin, "POST", "/api/reports", { frequency: "monthly", period_start: "2026-11-01" });
  const report = (await json(res)).report;
  const pdf = await renderReportPdf({
    id: report.id,
    frequency: "monthly",
    periodStart: "2026-11-01",
    periodEnd: "2026-11-30",
    timeZone: "Europe/Berlin",
    createdAt: Date.now(),
    data: report.data,
  });
  console.log(`PDFB64:${base64(pdf)}:END`);
  const d = await api(admin, "POST", "/api/reports", { frequency: "daily", period_start: "2026-11-10" });
  const r2 = (await json(d)).report;
  const pdf2 = await renderReportPdf({
    id: r2.id,
    frequency: "daily",
    periodStart: "2026-11-10",
    periodEnd: "2026-11-10",
    timeZone: "Europe/Berlin",
    createdAt: Date.now(),
    data: r2.data,
  });
  console.log(`PDFB64DAY:${base64(pdf2)}:END`);
});
