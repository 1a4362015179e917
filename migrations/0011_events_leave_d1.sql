-- Events leave D1 (docs/data-plane.md): each account's AccountIngestDO and its EventShardDOs hold
-- them from now on. Written by hand (drizzle-kit cannot tell a rename from a drop and a create
-- without asking); the snapshot 0011 matches the schema after it.
-- The raw events and the security issues are kept under new names until the resumable import moves
-- them into the shards (SQLite keeps the index names of a renamed table, as the schema does).
ALTER TABLE `events` RENAME TO `legacy_events`;--> statement-breakpoint
ALTER TABLE `security_issues` RENAME TO `legacy_security_issues`;--> statement-breakpoint
-- The rollups are rebuilt by the import from the events they count (each shard keeps its own).
DROP TABLE `event_rollups`;--> statement-breakpoint
DROP TABLE `event_rollup_cursor`;--> statement-breakpoint
-- System events wait here, written with the change that raised them, until they are published.
CREATE TABLE `system_event_outbox` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`occurred_at` integer NOT NULL,
	`system_type` text NOT NULL,
	`data` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `system_event_outbox_created_idx` ON `system_event_outbox` (`created_at`);
--> statement-breakpoint
-- Ingest no longer caches targets by integrations_version: the account object is told of every
-- change (worker/ingest/control-change.ts).
DROP TRIGGER `integrations_version_on_insert`;--> statement-breakpoint
DROP TRIGGER `integrations_version_on_delete`;--> statement-breakpoint
DROP TRIGGER `integrations_version_on_update`;--> statement-breakpoint
ALTER TABLE `accounts` DROP COLUMN `integrations_version`;
