/**
 * The D1 schema: the single source of truth for tables, generated migrations (drizzle-kit)
 * and row types. Times are integer milliseconds since the epoch unless named otherwise.
 * Every tenant-owned table carries account_id, and every query filters on it.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const ROLES = ["admin", "analyst", "read_only"] as const;
export type Role = (typeof ROLES)[number];

export const accounts = sqliteTable("accounts", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  timeZone: text("time_zone").notNull().default("UTC"),
  createdAt: integer("created_at").notNull(),
});

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    name: text("name").notNull().default(""),
    role: text("role", { enum: ROLES }).notNull(),
    /** "pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>" */
    passwordHash: text("password_hash").notNull(),
    /** Set for users created with a one-time password: they must choose their own at first sign-in. */
    mustChangePassword: integer("must_change_password", { mode: "boolean" }).notNull().default(false),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("users_account_email_unique").on(t.accountId, t.email),
    index("users_email_idx").on(t.email),
    index("users_account_idx").on(t.accountId),
  ],
);

export const sessions = sqliteTable(
  "sessions",
  {
    /** SHA-256 of the cookie value (hex): a leaked table does not yield usable sessions. */
    tokenHash: text("token_hash").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    accountId: text("account_id").notNull(),
    csrfToken: text("csrf_token").notNull(),
    createdAt: integer("created_at").notNull(),
    lastSeenAt: integer("last_seen_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    ip: text("ip"),
    userAgent: text("user_agent"),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

/** API tokens for automation: act with the role they were given, in one account. */
export const apiTokens = sqliteTable(
  "api_tokens",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    role: text("role", { enum: ROLES }).notNull(),
    tokenHash: text("token_hash").notNull(),
    /** First characters of the token, shown in lists so a token can be recognised. */
    tokenPrefix: text("token_prefix").notNull(),
    createdBy: text("created_by"),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("api_tokens_hash_unique").on(t.tokenHash), index("api_tokens_account_idx").on(t.accountId)],
);

/** Fixed-window counters for rate limits (login failures per email / IP, node requests, test sends). */
export const rateLimits = sqliteTable("rate_limits", {
  key: text("key").primaryKey(),
  windowStart: integer("window_start").notNull(),
  count: integer("count").notNull(),
});

export const nodes = sqliteTable(
  "nodes",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    tokenHash: text("token_hash").notNull(),
    tokenPrefix: text("token_prefix").notNull(),
    createdAt: integer("created_at").notNull(),
    revokedAt: integer("revoked_at"),
    lastSeenAt: integer("last_seen_at"),
    eventsCount: integer("events_count").notNull().default(0),
  },
  (t) => [uniqueIndex("nodes_token_hash_unique").on(t.tokenHash), index("nodes_account_idx").on(t.accountId)],
);

export const INTEGRATION_STATUSES = ["enabled", "disabled"] as const;

/** Why an integration is disabled: by an admin, or automatically (worker/integrations/lifecycle.ts). */
export const DISABLE_REASONS = ["manual", "auto_failure_ratio", "destination_gone"] as const;
export type DisableReason = (typeof DISABLE_REASONS)[number];
/** The reasons Herald disables an integration by itself (reports list these). */
export const AUTO_DISABLE_REASONS = [
  "auto_failure_ratio",
  "destination_gone",
] as const satisfies readonly DisableReason[];
export type AutoDisableReason = (typeof AUTO_DISABLE_REASONS)[number];

export const integrations = sqliteTable(
  "integrations",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    type: text("type").notNull(),
    name: text("name").notNull(),
    status: text("status", { enum: INTEGRATION_STATUSES }).notNull().default("enabled"),
    disabledReason: text("disabled_reason", { enum: DISABLE_REASONS }),
    /** Human-readable figures of an automatic disable (ratio, counts, window). */
    disabledDetails: text("disabled_details", { mode: "json" }),
    disabledAt: integer("disabled_at"),
    /**
     * The last events.seq committed before the disable (read in the disable's own statement): the
     * events after it are what the integration missed (replayed on enable when asked), the events
     * up to it are still queued for it when their fan-out comes late (a re-send, a system event).
     * Commit order, not arrival time: an ingest request that began before the disable and wrote
     * after it is after the marker. README, "Delivery".
     */
    disabledAfterSeq: integer("disabled_after_seq"),
    /** Non-secret settings as JSON. */
    settings: text("settings", { mode: "json" }).notNull(),
    /** Secret settings: AES-256-GCM envelope "keyId:iv:ciphertext" bound to the row id. */
    secrets: text("secrets"),
    /** Event subscriptions (docs/api.md#integrations) as JSON. */
    events: text("events", { mode: "json" }).notNull(),
    /** personal_email integrations belong to one user. */
    userId: text("user_id"),
    /**
     * Another integration of the account that receives the notifications of this one's dead
     * deliveries (docs/delivery.md#fallback). Cleared when that integration is deleted.
     */
    fallbackIntegrationId: text("fallback_integration_id"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("integrations_account_idx").on(t.accountId, t.status),
    uniqueIndex("integrations_personal_unique").on(t.userId),
  ],
);

export const EVENT_TYPES = ["security_issue", "hit", "incident", "scope_change", "system"] as const;
export type StoredEventType = (typeof EVENT_TYPES)[number];

/**
 * Events as D1 held them before they moved into Durable Objects (docs/data-plane.md): renamed by
 * migration 0013 and kept only until the resumable import moves them into the shards; nothing
 * writes to it any more.
 */
export const events = sqliteTable(
  "legacy_events",
  {
    /** Insertion order, never reused (AUTOINCREMENT). */
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    accountId: text("account_id").notNull(),
    /**
     * The node's idempotency key (or a generated UUIDv7). A re-sent event carries the same id and
     * occurred_at, and (account, occurred_at, id) is unique: see events_key_idx below.
     */
    id: text("id").notNull(),
    nodeId: text("node_id"),
    type: text("type", { enum: EVENT_TYPES }).notNull(),
    occurredAt: integer("occurred_at").notNull(),
    receivedAt: integer("received_at").notNull(),
    risk: text("risk"),
    attackType: text("attack_type"),
    host: text("host"),
    path: text("path"),
    remoteAddr: text("remote_addr"),
    remoteCountry: text("remote_country"),
    blockStatus: text("block_status"),
    /** System events: user_created, integration_auto_disabled, ... */
    systemType: text("system_type"),
    data: text("data", { mode: "json" }).notNull(),
    /** Random id of the ingest request that inserted the row (ingest before the move). */
    ingestId: integer("ingest_id"),
    /** When its notifications were queued in every matching IntegrationDO (NULL: never). */
    notifiedAt: integer("notified_at"),
    /**
     * 1 when the event can be found by its id alone (events_lookup_id_idx): every event except
     * hits that no integration wanted at ingest, which are found by (occurred_at, id) instead.
     * Notification links (/events/<id>) only ever point at events with 1.
     */
    lookupById: integer("lookup_by_id").notNull().default(1),
  },
  // Why no index on the random id for every event: a node's event ids are random UUIDs, and an index
  // keyed by them dirties one page per inserted row wherever it lands, which made that index most of
  // the cost of ingest (README, "Ingest benchmark"). Keys that begin with the account and the time
  // are appended at the end of their index instead.
  (t) => [
    uniqueIndex("events_key_idx").on(t.accountId, t.occurredAt, t.id),
    index("events_account_type_time_idx").on(t.accountId, t.type, t.occurredAt),
    index("events_received_idx").on(t.receivedAt),
    index("events_lookup_id_idx").on(t.accountId, t.id).where(sql`${t.lookupById} = 1`),
    // The events never marked notified (the D1 sweep before the move looked for them).
    index("events_unnotified_idx").on(t.receivedAt).where(sql`${t.notifiedAt} IS NULL`),
  ],
);

/**
 * The condition that lets SQLite use events_lookup_id_idx when looking an event up by its id alone:
 * a partial index serves a query only when the query repeats its WHERE literally.
 */
export const findableById = sql`${events.lookupById} = 1`;

/**
 * Per node: events too old to notify (NOTIFY_MAX_AGE) not yet announced in a system notice, and
 * when the last notice went out; at most one notice per node per spacing (worker/ingest/held-back.ts).
 */
export const heldBackNotices = sqliteTable("held_back_notices", {
  nodeId: text("node_id")
    .primaryKey()
    .references(() => nodes.id, { onDelete: "cascade" }),
  accountId: text("account_id").notNull(),
  /** Held back since the last notice (0: nothing to announce). */
  pending: integer("pending").notNull().default(0),
  oldestAt: integer("oldest_at"),
  newestAt: integer("newest_at"),
  /** When the first of `pending` was held back. */
  since: integer("since"),
  lastNoticeAt: integer("last_notice_at"),
});

/**
 * System events written atomically with the change that raised them, until the account's
 * AccountIngestDO has stored them with the account's events (worker/ingest/publish-system-events.ts); rows older
 * than 30 s are published again by the minute cron.
 */
export const systemEventOutbox = sqliteTable(
  "system_event_outbox",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    occurredAt: integer("occurred_at").notNull(),
    systemType: text("system_type").notNull(),
    data: text("data", { mode: "json" }).notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("system_event_outbox_created_idx").on(t.createdAt)],
);

/**
 * The directory of event shards (docs/data-plane.md#directory-d1): one row per EventShardDO, named
 * `<account>/<period start>/<sub>` (worker/events/shard-names.ts). Written by the account's ingest
 * object before its first write to a shard; readers list an account's shards here, retention finds
 * expired ones. The counters are refreshed from the shard now and then, not at every write.
 */
export const eventShards = sqliteTable(
  "event_shards",
  {
    name: text("name").primaryKey(),
    accountId: text("account_id").notNull(),
    /** The period of occurred_at the shard holds: [period_start, period_end). */
    periodStart: integer("period_start").notNull(),
    periodEnd: integer("period_end").notNull(),
    sub: integer("sub").notNull(),
    /** Sub-shards of this period (a power of two, the same for every shard of the period). */
    fanout: integer("fanout").notNull(),
    events: integer("events").notNull().default(0),
    bytes: integer("bytes").notNull().default(0),
    maxSeq: integer("max_seq"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("event_shards_account_period_idx").on(t.accountId, t.periodStart),
    index("event_shards_period_end_idx").on(t.periodEnd),
  ],
);

export const REPORT_FREQUENCIES = ["daily", "weekly", "monthly"] as const;
export type ReportFrequency = (typeof REPORT_FREQUENCIES)[number];

export const reports = sqliteTable(
  "reports",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    frequency: text("frequency", { enum: REPORT_FREQUENCIES }).notNull(),
    /** Local calendar date (YYYY-MM-DD) in the account's time zone at build time. */
    periodStart: text("period_start").notNull(),
    periodEnd: text("period_end").notNull(),
    timeZone: text("time_zone").notNull(),
    /** "schedule" or "manual". */
    origin: text("origin").notNull(),
    /**
     * The report JSON of rows written before the bodies moved to the account's object (null for
     * newer ones: docs/storage.md#reports).
     */
    data: text("data", { mode: "json" }),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("reports_account_idx").on(t.accountId, t.createdAt)],
);

/** The claim that makes a scheduled report happen once per (account, frequency, period). */
export const reportRuns = sqliteTable(
  "report_runs",
  {
    accountId: text("account_id").notNull(),
    frequency: text("frequency").notNull(),
    periodStart: text("period_start").notNull(),
    /** "queued" (claimed, waiting for a job) | "building" | "done" | "failed" (gave up after retries). */
    status: text("status").notNull(),
    reportId: text("report_id"),
    claimedAt: integer("claimed_at").notNull(),
    finishedAt: integer("finished_at"),
    error: text("error"),
    /** How many times a job took the claim; also its fencing token (a stale taker's writes miss). */
    attempts: integer("attempts").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.frequency, t.periodStart] }),
    index("report_runs_status_idx").on(t.status, t.claimedAt),
  ],
);

export const auditLog = sqliteTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    /** "user" | "api_token" | "system" */
    actorType: text("actor_type").notNull(),
    actorId: text("actor_id"),
    /** Email or token name at the time of the action (kept when the actor is deleted). */
    actorLabel: text("actor_label").notNull(),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id"),
    /** What changed, secrets redacted. */
    details: text("details", { mode: "json" }),
    ip: text("ip"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("audit_account_time_idx").on(t.accountId, t.createdAt)],
);

export const SECURITY_ISSUE_STATUSES = ["open", "closed"] as const;

/**
 * Security issues as D1 held them before they moved into each account's AccountIngestDO
 * (worker/ingest/account-store.ts): renamed by migration 0013 and kept only until the import
 * moves them; nothing writes to it any more.
 */
export const securityIssues = sqliteTable(
  "legacy_security_issues",
  {
    accountId: text("account_id").notNull(),
    /** "<vuln_type>|<host>|<METHOD>|<path>|<parameter>", lower-cased host and vuln_type. */
    fingerprint: text("fingerprint").notNull(),
    id: text("id").notNull(),
    lastEventId: text("last_event_id").notNull(),
    risk: text("risk").notNull(),
    title: text("title").notNull(),
    host: text("host").notNull(),
    path: text("path").notNull(),
    vulnType: text("vuln_type").notNull(),
    status: text("status", { enum: SECURITY_ISSUE_STATUSES }).notNull().default("open"),
    firstSeen: integer("first_seen").notNull(),
    lastSeen: integer("last_seen").notNull(),
    /** When and by whom it was closed as fixed (PATCH /api/security-issues/{id}); a re-report reopens it. */
    closedAt: integer("closed_at"),
    closedBy: text("closed_by"),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.fingerprint] }),
    index("security_issues_status_idx").on(t.accountId, t.status, t.risk),
  ],
);

/**
 * Triggers (docs/triggers.md): admin-defined rules that notify chosen integrations. The JSON
 * columns hold the API's validated shapes (worker/domain/triggers.ts); the per-account ingest
 * object evaluates them, so nothing reads this table on the ingest path.
 */
export const triggers = sqliteTable(
  "triggers",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    condition: text("condition", { mode: "json" }).notNull(),
    filters: text("filters", { mode: "json" }).notNull(),
    groupBy: text("group_by", { mode: "json" }).notNull(),
    throttleMinutes: integer("throttle_minutes").notNull(),
    integrationIds: text("integration_ids", { mode: "json" }).notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    /** Email or token name of the creator, kept when the user is deleted. */
    createdBy: text("created_by").notNull(),
  },
  (t) => [index("triggers_account_idx").on(t.accountId, t.createdAt)],
);

/** Silences (docs/triggers.md#silences): matching events are stored and reported, not notified. */
export const silences = sqliteTable(
  "silences",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    comment: text("comment"),
    filters: text("filters", { mode: "json" }).notNull(),
    startsAt: integer("starts_at").notNull(),
    endsAt: integer("ends_at").notNull(),
    /** {days, from, to} in the account's zone, or NULL for one continuous window. */
    recurrence: text("recurrence", { mode: "json" }),
    /** Events muted so far, copied here from the ingest object's counts. */
    silencedCount: integer("silenced_count").notNull().default(0),
    /** When the minute cron wrote the silence_expired audit entry (once per silence). */
    expiryAuditedAt: integer("expiry_audited_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    createdBy: text("created_by").notNull(),
  },
  (t) => [
    index("silences_account_idx").on(t.accountId, t.startsAt),
    // Only silences whose expiry is not yet audited: what the minute cron looks at.
    index("silences_expiry_idx").on(t.endsAt).where(sql`${t.expiryAuditedAt} IS NULL`),
  ],
);
