-- Events are stored in insertion order (seq) and keyed by (account, occurred_at, id) instead of
-- (account, id): ids are random UUIDs, and an index keyed by them cost a page write per inserted
-- row (README, "Ingest benchmark"). Existing rows stay findable by id alone (lookup_by_id = 1) and
-- are already counted in the rollups, so the rollup cursor starts after them.
CREATE TABLE `event_rollup_cursor` (
	`id` integer PRIMARY KEY NOT NULL,
	`last_seq` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `__new_events` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`account_id` text NOT NULL,
	`id` text NOT NULL,
	`node_id` text,
	`type` text NOT NULL,
	`occurred_at` integer NOT NULL,
	`received_at` integer NOT NULL,
	`risk` text,
	`attack_type` text,
	`host` text,
	`path` text,
	`remote_addr` text,
	`remote_country` text,
	`block_status` text,
	`system_type` text,
	`data` text NOT NULL,
	`ingest_id` integer,
	`notified_at` integer,
	`lookup_by_id` integer DEFAULT 1 NOT NULL
);
--> statement-breakpoint
INSERT INTO `__new_events`("account_id", "id", "node_id", "type", "occurred_at", "received_at", "risk", "attack_type", "host", "path", "remote_addr", "remote_country", "block_status", "system_type", "data", "ingest_id", "notified_at", "lookup_by_id") SELECT "account_id", "id", "node_id", "type", "occurred_at", "received_at", "risk", "attack_type", "host", "path", "remote_addr", "remote_country", "block_status", "system_type", "data", "ingest_id", "notified_at", 1 FROM `events` ORDER BY "received_at";--> statement-breakpoint
DROP TABLE `events`;--> statement-breakpoint
ALTER TABLE `__new_events` RENAME TO `events`;--> statement-breakpoint
CREATE UNIQUE INDEX `events_key_idx` ON `events` (`account_id`,`occurred_at`,`id`);--> statement-breakpoint
CREATE INDEX `events_account_type_time_idx` ON `events` (`account_id`,`type`,`occurred_at`);--> statement-breakpoint
CREATE INDEX `events_received_idx` ON `events` (`received_at`);--> statement-breakpoint
CREATE INDEX `events_lookup_id_idx` ON `events` (`account_id`,`id`) WHERE "lookup_by_id" = 1;--> statement-breakpoint
INSERT INTO `event_rollup_cursor` (`id`, `last_seq`) SELECT 1, coalesce(max(`seq`), 0) FROM `events`;