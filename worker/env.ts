import type { IntegrationDO } from "./delivery/integration-do";
import type { EventShardDO } from "./events/shard-do";
import type { AccountIngestDO } from "./ingest/account-do";
import type { ReportJob } from "./reports/schedule";

/** Bindings and deployment settings (wrangler.toml [vars] and secrets). All vars are strings. */
export interface Env {
  DB: D1Database;
  INTEGRATION_DO: DurableObjectNamespace<IntegrationDO>;
  /** One object per account: its ingest, seq, security issues (docs/data-plane.md). */
  ACCOUNT_DO: DurableObjectNamespace<AccountIngestDO>;
  /** One object per (account, period, sub-shard) of events (docs/data-plane.md). */
  EVENT_SHARD_DO: DurableObjectNamespace<EventShardDO>;
  ASSETS?: Fetcher;
  SEND_EMAIL?: SendEmail;
  /** Scheduled report jobs (Cloudflare Queues); without it the cron builds a few reports itself. */
  REPORT_JOBS?: Queue<ReportJob>;

  PUBLIC_URL: string;
  MAIL_TRANSPORT: string;
  MAIL_FROM: string;
  SMTP_HOST: string;
  SMTP_PORT: string;
  SMTP_SECURE: string;
  SMTP_USER?: string;
  SMTP_PASSWORD?: string;
  ALLOW_HTTP_DESTINATIONS: string;
  ALLOW_PRIVATE_DESTINATIONS: string;
  RETRY_SCHEDULE: string;
  FAILURE_WINDOW_SECONDS: string;
  FAILURE_RATIO: string;
  FAILURE_MIN_REQUESTS: string;
  EVENT_RETENTION_DAYS: string;
  REPORT_RETENTION_DAYS: string;
  /** Length of an event shard's period in hours, a divisor of 24 (default 24). */
  EVENT_SHARD_HOURS?: string;
  /** A new period gets enough sub-shards to keep each under this many bytes (default 1 GiB). */
  EVENT_SHARD_TARGET_BYTES?: string;
  /** A shard this large refuses new events (default 4 GiB). */
  EVENT_SHARD_MAX_BYTES?: string;
  /** Rows the upgrade's import moves from D1 into the account objects per minute (default 5000). */
  LEGACY_IMPORT_BATCH?: string;
  DELIVERY_LOG_RETENTION_DAYS: string;
  /** The newest notifications an integration keeps the history of, at most (docs/delivery.md#retention). */
  DELIVERY_LOG_MAX_NOTIFICATIONS?: string;
  NODE_RATE_LIMIT_PER_MINUTE: string;
  /** Events older than this when they arrive are stored but not notified (seconds or 90s, 30m, 1h, 2d; 0 = no limit). */
  NOTIFY_MAX_AGE?: string;
  /** On-demand report builds per account and hour (default 30). */
  REPORT_BUILDS_PER_HOUR?: string;
  SESSION_IDLE_MINUTES: string;
  SESSION_ABSOLUTE_HOURS: string;
  TELEGRAM_API_BASE: string;
  PAGERDUTY_EVENTS_URL: string;
  OPSGENIE_API_URL_US: string;
  OPSGENIE_API_URL_EU: string;

  ENCRYPTION_KEY?: string;
  ENCRYPTION_KEYS_PREVIOUS?: string;
}
