import type { z } from "zod";
import type { Notification, ReportAttachment } from "../domain/notification";
import type { Category } from "../domain/subscriptions";
import type { Env } from "../env";

export const INTEGRATION_TYPES = [
  "personal_email",
  "email",
  "slack",
  "telegram",
  "opsgenie",
  "insightconnect",
  "pagerduty",
  "splunk",
  "sumologic",
  "webhook",
] as const;
export type IntegrationType = (typeof INTEGRATION_TYPES)[number];

export const CATALOG_BLOCKS = ["email_and_messengers", "incident_management_and_siem", "other"] as const;
export type CatalogBlock = (typeof CATALOG_BLOCKS)[number];

/** What a channel needs to send: the integration's full (decrypted) settings and the deployment. */
export interface SendContext<Settings> {
  integrationId: string;
  accountName: string;
  settings: Settings;
  env: Env;
  /** Injected so tests can route requests; production passes the global fetch. */
  fetch: typeof fetch;
  /** The delivery's stable id across attempts (webhook-id, dedup_key, alias). */
  deliveryId: string;
  /** Email recipients resolved by the caller (personal_email: the user's login address). */
  recipients?: string[];
  /** True for test sends: they are marked "[Test message]". */
  test?: boolean;
  /**
   * The integration's secret values (from its channel's `secretFields`): a channel hands them to
   * sendHttp so request logs and error texts never carry them.
   */
  secrets: readonly string[];
}

/**
 * The outcome of one request, classified for the delivery engine. Channels never throw for a
 * receiver's failure; they return it.
 */
export type SendOutcome =
  | { ok: true; status: number; latencyMs: number; requestBody: string }
  | {
      ok: false;
      /** "status": the receiver answered non-2xx (3xx included, redirects are not followed). */
      kind: "status" | "network" | "timeout" | "invalid_settings";
      status?: number;
      latencyMs: number;
      error: string;
      /** Seconds the receiver asked to wait (Retry-After on 429/503). */
      retryAfterSeconds?: number;
      /** 410 Gone: the destination is gone; the integration is disabled at once. */
      gone?: boolean;
      requestBody: string;
    };

/** One system: its settings, what it may subscribe to, and how it renders and sends. */
export interface Channel<Settings = Record<string, unknown>> {
  type: IntegrationType;
  title: string;
  block: CatalogBlock;
  /** zod schema of the full settings (secrets included), with the API's snake_case names. */
  settingsSchema: z.ZodType<Settings>;
  /**
   * Settings paths that are secrets (encrypted at rest, masked in the API, redacted in logs):
   * top-level keys, or `"list[].key"` for a key inside each item of a list (webhook header values).
   */
  secretFields: readonly string[];
  /** Settings keys holding destination URLs, checked against the deployment's URL rules on save. */
  urlFields: readonly string[];
  /**
   * Settings the server generates and the admin never enters (webhook signing secret): the API
   * drops them from create/update input and keeps the stored values.
   */
  generatedFields?: readonly string[];
  /** Values for `generatedFields` on create; returned once in the create response. */
  generateSecrets?(): Record<string, string>;
  /** Categories this system may subscribe to (`reports` = report_daily|weekly|monthly). */
  categories: readonly Category[];
  /** One per user, created with the user and managed from their profile, never by the admin API. */
  userManaged?: boolean;
  /** Most notifications one request may carry (1 for messengers and incident systems). */
  batchLimit: number;
  /** Sends notifications (at most batchLimit) in one request (or one message each, for batchLimit 1). */
  send(ctx: SendContext<Settings>, notifications: Notification[]): Promise<SendOutcome>;
  /** Sends a report notification, carrying the PDF where the system can (email, Telegram). */
  sendReport?(ctx: SendContext<Settings>, notification: Notification, report: ReportAttachment): Promise<SendOutcome>;
}
