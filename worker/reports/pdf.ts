import { PDFDocument, type PDFFont, type PDFPage, rgb, StandardFonts } from "pdf-lib";
import { RISKS } from "../domain/subscriptions";
import { toWinAnsi } from "./pdf-text";
import type { Change, RankedRow, ReportData } from "./schema";
import { reportTitle } from "./schema";

/**
 * The report as a PDF, drawn in the Worker with pdf-lib: the same sections as the report page,
 * as tables and bar charts on A4 pages with a running footer. Standard fonts only (see
 * pdf-text.ts); object streams off, so each page's text sits in its own content stream.
 */

interface PdfReport {
  id: string;
  frequency: "daily" | "weekly" | "monthly";
  periodStart: string;
  periodEnd: string;
  timeZone: string;
  createdAt: number;
  data: ReportData;
}

const PAGE = { width: 595.28, height: 841.89 };
const MARGIN = 42;
const CONTENT_WIDTH = PAGE.width - 2 * MARGIN;
const FOOTER_SPACE = 36;

const INK = rgb(0.13, 0.15, 0.2);
const MUTED = rgb(0.42, 0.45, 0.5);
const RULE = rgb(0.85, 0.87, 0.9);
const BLOCKED = rgb(0.2, 0.4, 0.75);
const MONITORED = rgb(0.95, 0.6, 0.2);
const BAR = rgb(0.35, 0.5, 0.8);
const RISK_COLORS: Record<string, ReturnType<typeof rgb>> = {
  critical: rgb(0.7, 0.1, 0.15),
  high: rgb(0.9, 0.35, 0.2),
  medium: rgb(0.95, 0.65, 0.15),
  low: rgb(0.35, 0.6, 0.85),
  info: rgb(0.6, 0.62, 0.66),
};

interface Column {
  title: string;
  width: number;
  align?: "left" | "right";
}

const numberFormat = new Intl.NumberFormat("en-US");
const fmt = (n: number) => numberFormat.format(n);

function changeText(change: Change): string {
  if (change.change_pct === null) return change.current === 0 ? "-" : "new";
  const sign = change.change_pct > 0 ? "+" : "";
  return `${sign}${change.change_pct}%`;
}

const span = (start: string, end: string) => (start === end ? start : `${start} – ${end}`);

/** A cursor over pages: adds a page when the next block does not fit. */
class Layout {
  readonly pages: PDFPage[] = [];
  page!: PDFPage;
  y = 0;

  constructor(
    private readonly doc: PDFDocument,
    readonly font: PDFFont,
    readonly bold: PDFFont,
  ) {
    this.newPage();
  }

  newPage() {
    this.page = this.doc.addPage([PAGE.width, PAGE.height]);
    this.pages.push(this.page);
    this.y = PAGE.height - MARGIN;
  }

  /** Starts a new page unless `height` points still fit above the footer. */
  ensure(height: number): boolean {
    if (this.y - height < MARGIN + FOOTER_SPACE) {
      this.newPage();
      return true;
    }
    return false;
  }

  /** Text cut to `maxWidth` with an ellipsis, in what the font can encode. */
  fit(text: string, size: number, maxWidth: number, font = this.font): string {
    let safe = toWinAnsi(text);
    if (font.widthOfTextAtSize(safe, size) <= maxWidth) return safe;
    while (safe.length > 1 && font.widthOfTextAtSize(`${safe}…`, size) > maxWidth) safe = safe.slice(0, -1);
    return `${safe}…`;
  }

  text(
    text: string,
    x: number,
    y: number,
    options: {
      size?: number;
      font?: PDFFont;
      color?: ReturnType<typeof rgb>;
      maxWidth?: number;
      align?: "left" | "right";
    } = {},
  ) {
    const size = options.size ?? 9;
    const font = options.font ?? this.font;
    const content = this.fit(text, size, options.maxWidth ?? CONTENT_WIDTH, font);
    const width = font.widthOfTextAtSize(content, size);
    const left = options.align === "right" ? x + (options.maxWidth ?? 0) - width : x;
    this.page.drawText(content, { x: left, y, size, font, color: options.color ?? INK });
  }

  heading(title: string, subtitle?: string) {
    this.ensure(48);
    this.y -= 18;
    this.text(title, MARGIN, this.y, { size: 13, font: this.bold });
    if (subtitle)
      this.text(subtitle, MARGIN + this.bold.widthOfTextAtSize(toWinAnsi(title), 13) + 8, this.y, {
        size: 8,
        color: MUTED,
      });
    this.y -= 6;
    this.page.drawLine({
      start: { x: MARGIN, y: this.y },
      end: { x: PAGE.width - MARGIN, y: this.y },
      thickness: 0.6,
      color: RULE,
    });
    this.y -= 4;
  }

  note(text: string) {
    this.ensure(14);
    this.y -= 12;
    this.text(text, MARGIN, this.y, { size: 8.5, color: MUTED });
  }

  /** A table; a cell may be a bar (share 0–1) drawn across its width. Repeats the header on new pages. */
  table(columns: Column[], rows: (string | { bar: number; color?: ReturnType<typeof rgb> })[][]) {
    const rowHeight = 14;
    const drawHeader = () => {
      this.y -= rowHeight;
      let x = MARGIN;
      for (const column of columns) {
        this.text(column.title, x + 2, this.y + 4, {
          size: 8,
          font: this.bold,
          color: MUTED,
          maxWidth: column.width - 4,
          align: column.align,
        });
        x += column.width;
      }
      this.page.drawLine({
        start: { x: MARGIN, y: this.y + 1 },
        end: { x: MARGIN + CONTENT_WIDTH, y: this.y + 1 },
        thickness: 0.5,
        color: RULE,
      });
    };
    this.ensure(rowHeight * 2);
    drawHeader();
    for (const row of rows) {
      if (this.ensure(rowHeight)) drawHeader();
      this.y -= rowHeight;
      let x = MARGIN;
      row.forEach((cell, i) => {
        const column = columns[i];
        if (!column) return;
        if (typeof cell === "string") {
          this.text(cell, x + 2, this.y + 4, { size: 8.5, maxWidth: column.width - 4, align: column.align });
        } else {
          const width = Math.max(0, Math.min(1, cell.bar)) * (column.width - 4);
          if (width > 0)
            this.page.drawRectangle({ x: x + 2, y: this.y + 3, width, height: 8, color: cell.color ?? BAR });
        }
        x += column.width;
      });
    }
  }

  /** Stacked bars (blocked + monitored) per time bucket, with sparse labels under them. */
  barChart(points: ReportData["hits_over_time"]["points"]) {
    const height = 120;
    this.ensure(height + 40);
    const top = this.y - 10;
    const bottom = top - height;
    const axisWidth = 40;
    const left = MARGIN + axisWidth;
    const width = CONTENT_WIDTH - axisWidth;
    const max = Math.max(1, ...points.map((p) => Math.max(p.hits, p.blocked + p.monitored)));
    this.page.drawLine({
      start: { x: left, y: bottom },
      end: { x: left + width, y: bottom },
      thickness: 0.6,
      color: MUTED,
    });
    this.text(fmt(max), MARGIN, top - 6, { size: 7, color: MUTED, maxWidth: axisWidth - 4, align: "right" });
    this.text("0", MARGIN, bottom - 2, { size: 7, color: MUTED, maxWidth: axisWidth - 4, align: "right" });
    const slot = width / Math.max(1, points.length);
    const barWidth = Math.max(1, slot * 0.7);
    const labelEvery = Math.max(1, Math.ceil(points.length / 12));
    points.forEach((point, i) => {
      const x = left + i * slot + (slot - barWidth) / 2;
      const blocked = (point.blocked / max) * height;
      const monitored = (point.monitored / max) * height;
      // Hits without a block status (should not happen) still show in the blocked colour's place.
      const rest = Math.max(0, ((point.hits - point.blocked - point.monitored) / max) * height);
      if (blocked > 0) this.page.drawRectangle({ x, y: bottom, width: barWidth, height: blocked, color: BLOCKED });
      if (monitored > 0)
        this.page.drawRectangle({ x, y: bottom + blocked, width: barWidth, height: monitored, color: MONITORED });
      if (rest > 0)
        this.page.drawRectangle({ x, y: bottom + blocked + monitored, width: barWidth, height: rest, color: BAR });
      if (i % labelEvery === 0) {
        const label = point.label.length > 5 ? point.label.slice(5) : point.label;
        this.text(label, x - 4, bottom - 10, { size: 6.5, color: MUTED, maxWidth: slot * labelEvery });
      }
    });
    this.y = bottom - 22;
    this.page.drawRectangle({ x: left, y: this.y + 2, width: 8, height: 6, color: BLOCKED });
    this.text("blocked", left + 11, this.y + 2, { size: 7.5, color: MUTED });
    this.page.drawRectangle({ x: left + 60, y: this.y + 2, width: 8, height: 6, color: MONITORED });
    this.text("monitored", left + 71, this.y + 2, { size: 7.5, color: MUTED });
  }
}

function rankedTable(layout: Layout, title: string, rows: RankedRow[], approximate: boolean) {
  layout.heading(title, approximate ? "approximate: summed from each day's top 100" : undefined);
  if (rows.length === 0) return layout.note("None in this period.");
  layout.table(
    [
      { title: "", width: 230 },
      { title: "Count", width: 70, align: "right" },
      { title: "Share", width: 50, align: "right" },
      { title: "", width: CONTENT_WIDTH - 350 },
    ],
    rows.map((row) => [row.key || "(none)", fmt(row.count), `${(row.share * 100).toFixed(1)}%`, { bar: row.share }]),
  );
}

/** Renders the report's PDF. */
export async function renderReportPdf(report: PdfReport): Promise<Uint8Array> {
  const data = report.data;
  const doc = await PDFDocument.create();
  const title = reportTitle(report.frequency, report.periodStart, report.periodEnd);
  doc.setTitle(toWinAnsi(`Herald: ${title}`));
  doc.setAuthor("Herald");
  doc.setCreator("Herald");
  doc.setProducer("Herald (pdf-lib)");
  doc.setCreationDate(new Date(report.createdAt));
  const layout = new Layout(
    doc,
    await doc.embedFont(StandardFonts.Helvetica),
    await doc.embedFont(StandardFonts.HelveticaBold),
  );

  // Title block.
  layout.y -= 14;
  layout.text("HERALD SECURITY REPORT", MARGIN, layout.y, { size: 8, font: layout.bold, color: MUTED });
  layout.y -= 22;
  layout.text(title, MARGIN, layout.y, { size: 17, font: layout.bold });
  layout.y -= 16;
  layout.text(
    `${data.account.name} · time zone ${report.timeZone} · ${data.period.start_at.slice(0, 16).replace("T", " ")} to ${data.period.end_at.slice(0, 16).replace("T", " ")} UTC`,
    MARGIN,
    layout.y,
    { size: 9, color: MUTED },
  );
  layout.y -= 12;
  layout.text(
    `Compared with ${span(data.previous_period.start, data.previous_period.end)}. Generated ${data.generated_at.slice(0, 16).replace("T", " ")} UTC.`,
    MARGIN,
    layout.y,
    { size: 9, color: MUTED },
  );

  // Totals.
  const t = data.totals;
  layout.heading("Totals", "this period against the previous one");
  const totalRows: [string, Change][] = [
    ["Hits", t.hits],
    ["  blocked", t.blocked],
    ["  monitored", t.monitored],
    ["Incidents", t.incidents],
    ["New security issues", t.new_security_issues],
    ...RISKS.map((risk): [string, Change] => [`  ${risk}`, t.new_security_issues_by_risk[risk]]),
    ["Scope changes", t.scope_changes],
  ];
  layout.table(
    [
      { title: "", width: 200 },
      { title: "This period", width: 100, align: "right" },
      { title: "Previous", width: 100, align: "right" },
      { title: "Change", width: CONTENT_WIDTH - 400, align: "right" },
    ],
    totalRows.map(([name, change]) => [name, fmt(change.current), fmt(change.previous), changeText(change)]),
  );

  layout.heading(
    "Hits over time",
    data.hits_over_time.bucket === "hour" ? "per hour, local time" : "per day, local time",
  );
  layout.barChart(data.hits_over_time.points);

  rankedTable(layout, "Top attack types", data.top.attack_types, data.top.approximate.includes("attack_types"));
  rankedTable(layout, "Top targeted hosts", data.top.hosts, data.top.approximate.includes("hosts"));
  rankedTable(layout, "Top targeted paths", data.top.paths, data.top.approximate.includes("paths"));
  rankedTable(layout, "Top source IPs", data.top.source_ips, data.top.approximate.includes("source_ips"));
  rankedTable(layout, "Top source countries", data.top.countries, data.top.approximate.includes("countries"));

  layout.heading("New security issues", `${fmt(data.new_security_issues.total)} first seen in this period`);
  if (data.new_security_issues.items.length === 0) layout.note("None in this period.");
  else {
    layout.table(
      [
        { title: "Risk", width: 52 },
        { title: "Title", width: 150 },
        { title: "Where", width: 160 },
        { title: "Type", width: 55 },
        { title: "First seen (UTC)", width: CONTENT_WIDTH - 417 },
      ],
      data.new_security_issues.items.map((issue) => [
        issue.risk,
        issue.title,
        `${issue.method ?? ""} ${issue.host ?? ""}${issue.path ?? ""}${issue.parameter ? ` [${issue.parameter}]` : ""}`.trim(),
        issue.vuln_type ?? "",
        issue.first_seen.slice(0, 16).replace("T", " "),
      ]),
    );
    if (data.new_security_issues.total > data.new_security_issues.items.length) {
      layout.note(
        `Showing ${data.new_security_issues.items.length} of ${fmt(data.new_security_issues.total)}; the full list is in Herald.`,
      );
    }
  }

  layout.heading("Open security issues by risk", `${fmt(data.open_security_issues.total)} open`);
  const openMax = Math.max(1, ...RISKS.map((risk) => data.open_security_issues.by_risk[risk]));
  layout.table(
    [
      { title: "Risk", width: 100 },
      { title: "Open", width: 80, align: "right" },
      { title: "", width: CONTENT_WIDTH - 180 },
    ],
    RISKS.map((risk) => [
      risk,
      fmt(data.open_security_issues.by_risk[risk]),
      { bar: data.open_security_issues.by_risk[risk] / openMax, color: RISK_COLORS[risk] },
    ]),
  );

  const scope = data.scope_changes;
  layout.heading("Scope changes", `${fmt(scope.added)} added, ${fmt(scope.removed)} removed`);
  if (scope.total === 0) layout.note("No changes to the perimeter in this period.");
  else {
    layout.table(
      [
        { title: "Object type", width: 150 },
        { title: "Added", width: 80, align: "right" },
        { title: "Removed", width: 80, align: "right" },
      ],
      scope.by_object_type.map((row) => [row.object_type, fmt(row.added), fmt(row.removed)]),
    );
    layout.table(
      [
        { title: "When (UTC)", width: 100 },
        { title: "Change", width: 60 },
        { title: "Type", width: 70 },
        { title: "Value", width: CONTENT_WIDTH - 230 },
      ],
      scope.items.map((item) => [
        item.occurred_at.slice(0, 16).replace("T", " "),
        item.change,
        item.object_type,
        item.value,
      ]),
    );
  }

  const health = data.integration_health;
  // A monthly period can start before the delivery log's horizon: say what the figures cover.
  const coveredDays = Math.max(0, ...health.integrations.map((row) => row.window_seconds ?? 0)) / 86_400;
  layout.heading(
    "Integration health",
    coveredDays > 0 && coveredDays < data.period.days - 0.05
      ? `delivery requests in the last ${Math.round(coveredDays)} days of the period (the delivery log's reach)`
      : "delivery requests during the period",
  );
  if (health.integrations.length === 0) layout.note("No integrations are configured.");
  else {
    layout.table(
      [
        { title: "Integration", width: 170 },
        { title: "Type", width: 80 },
        { title: "Status", width: 120 },
        { title: "Requests", width: 60, align: "right" },
        { title: "Success", width: CONTENT_WIDTH - 430, align: "right" },
      ],
      health.integrations.map((row) => [
        row.name,
        row.type,
        row.status === "disabled" ? `disabled (${row.disabled_reason ?? "manual"})` : row.status,
        row.requests === null ? "-" : fmt(row.requests),
        row.success_rate === null ? "-" : `${(row.success_rate * 100).toFixed(1)}%`,
      ]),
    );
  }
  if (health.auto_disabled.length > 0) {
    layout.note(`Disabled automatically: ${health.auto_disabled.map((row) => row.name).join(", ")}.`);
  }

  // Footer on every page, now that the page count is known.
  const total = layout.pages.length;
  layout.pages.forEach((page, i) => {
    const footer = toWinAnsi(`Herald · ${data.account.name} · ${title}`);
    page.drawText(layout.fit(footer, 7.5, CONTENT_WIDTH - 80), {
      x: MARGIN,
      y: MARGIN - 10,
      size: 7.5,
      font: layout.font,
      color: MUTED,
    });
    const pageText = `Page ${i + 1} of ${total}`;
    page.drawText(pageText, {
      x: PAGE.width - MARGIN - layout.font.widthOfTextAtSize(pageText, 7.5),
      y: MARGIN - 10,
      size: 7.5,
      font: layout.font,
      color: MUTED,
    });
  });

  return doc.save({ useObjectStreams: false });
}
