import type { Notification } from "../domain/notification";
import { buildNotification, type NotifiableEvent } from "../domain/notify-build";
import { type Category, type EventSubscriptions, RISKS } from "../domain/subscriptions";
import { uuidv7 } from "../lib/ids";
import { uiLink } from "../lib/links";
import { DAY_MS, HOUR_MS, iso } from "../lib/time";

/**
 * Realistic sample notifications for test sends: one per subscribed category, built by the same
 * notification builder real events go through, so a test shows the receiver exactly the shape
 * it will get. Ids are fresh on every test so receivers that deduplicate (PagerDuty dedup_key,
 * Opsgenie alias) show each test.
 */

/**
 * The sample vulnerability of test sends, also the tests' and golden files' sample (one
 * definition, so what a test send shows is what the tests check).
 */
export const SAMPLE_SECURITY_ISSUE = {
  title: "SQL injection in /api/login",
  vuln_type: "sqli",
  host: "shop.example.com",
  method: "POST",
  path: "/api/login",
  parameter: "username",
  discovered_by: "scanner",
  description:
    "The username parameter is concatenated into an SQL query.\nThe payload ' OR 1=1-- returned every user row.",
} as const;

function sampleEvent(category: Exclude<Category, "reports">, events: EventSubscriptions, now: number): NotifiableEvent {
  const id = uuidv7(now);
  const occurred_at = iso(now);
  switch (category) {
    case "security_issue": {
      // The most severe risk the integration subscribes to: that is what it will see first.
      const risk = RISKS.find((r) => events.security_issue?.includes(r)) ?? "high";
      return {
        id,
        type: "security_issue",
        risk,
        occurredAt: now,
        data: {
          type: "security_issue",
          occurred_at,
          risk,
          ...SAMPLE_SECURITY_ISSUE,
        },
      };
    }
    case "hit":
    case "incident":
      return {
        id,
        type: category,
        occurredAt: now,
        data: {
          type: category,
          occurred_at,
          attack_type: "sqli",
          host: "shop.example.com",
          method: "POST",
          path: "/api/login",
          remote_addr: "203.0.113.45",
          remote_country: "NL",
          response_status: category === "incident" ? 200 : 403,
          block_status: category === "incident" ? "monitored" : "blocked",
          payload: "username=admin' OR '1'='1' --",
          point: "post.username",
          request_id: "a1b2c3d4e5f6",
          application: "shop",
          ...(category === "incident" ? { security_issue_id: uuidv7(now - HOUR_MS) } : {}),
        },
      };
    case "scope_change":
      return {
        id,
        type: "scope_change",
        occurredAt: now,
        data: { type: "scope_change", occurred_at, change: "added", object_type: "host", value: "staging.example.com" },
      };
    case "system":
      return {
        id,
        type: "system",
        systemType: "integration_created",
        occurredAt: now,
        data: {
          type: "system",
          system_type: "integration_created",
          occurred_at,
          actor: "admin@example.com",
          message: 'Integration "Security alerts" (webhook) was created.',
          subject: { integration_id: uuidv7(now), integration_name: "Security alerts", integration_type: "webhook" },
        },
      };
  }
}

const PERIOD_DAYS = { daily: 1, weekly: 7, monthly: 30 } as const;

/** A report notification for the first subscribed frequency, with plausible totals. */
function sampleReport(
  frequency: "daily" | "weekly" | "monthly",
  accountName: string,
  publicUrl: string,
  now: number,
): Notification {
  const id = uuidv7(now);
  const end = new Date(now - (now % DAY_MS));
  const start = new Date(end.getTime() - PERIOD_DAYS[frequency] * DAY_MS);
  const day = (d: Date) => d.toISOString().slice(0, 10);
  const periodEnd = day(new Date(end.getTime() - DAY_MS));
  const notificationType = `report_${frequency}` as const;
  const link = uiLink(publicUrl, `/reports/${id}`);
  return {
    id,
    summary: `[Herald] ${frequency[0]!.toUpperCase()}${frequency.slice(1)} security report`,
    description: [
      `Notification type: ${notificationType}`,
      `Period: ${day(start)} – ${periodEnd}`,
      "Hits: 12840 (blocked 12611, monitored 229)",
      "Incidents: 2",
      "New security issues: critical 1, high 3, medium 5",
      "Scope changes: 4",
    ].join("\n"),
    details: {
      client_name: accountName,
      notification_type: notificationType,
      occurred_at: iso(now),
      link,
      report: {
        id,
        frequency,
        period_start: day(start),
        period_end: periodEnd,
        totals: { hits: 12840, blocked: 12611, monitored: 229, incidents: 2, scope_changes: 4 },
        new_security_issues: { critical: 1, high: 3, medium: 5, low: 0, info: 0 },
      },
    },
  };
}

interface TestSample {
  category: Category;
  notification: Notification;
}

/** One sample per subscribed category, in the catalog's category order. */
export function buildTestSamples(
  categories: readonly Category[],
  events: EventSubscriptions,
  accountName: string,
  publicUrl: string,
  now = Date.now(),
): TestSample[] {
  return categories.map((category, i) => {
    const at = now + i;
    if (category === "reports") {
      const frequency = events.reports?.[0] ?? "weekly";
      return { category, notification: sampleReport(frequency, accountName, publicUrl, at) };
    }
    return { category, notification: buildNotification(sampleEvent(category, events, at), accountName, publicUrl) };
  });
}
