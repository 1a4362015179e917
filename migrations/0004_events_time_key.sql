-- Events are keyed by (account, occurred_at, id) instead of (account, id): ids are random UUIDs, and
-- an index keyed by them cost a page write per inserted row (see README, "Ingest benchmark").
-- Existing rows keep being found by id alone (lookup_by_id = 1).
CREATE TABLE `__new_events` (
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
INSERT INTO `__new_events`("account_id", "id", "node_id", "type", "occurred_at", "received_at", "risk", "attack_type", "host", "path", "remote_addr", "remote_country", "block_status", "system_type", "data", "ingest_id", "notified_at", "lookup_by_id") SELECT "account_id", "id", "node_id", "type", "occurred_at", "received_at", "risk", "attack_type", "host", "path", "remote_addr", "remote_country", "block_status", "system_type", "data", "ingest_id", "notified_at", 1 FROM `events`;--> statement-breakpoint
DROP TABLE `events`;--> statement-breakpoint
ALTER TABLE `__new_events` RENAME TO `events`;--> statement-breakpoint
CREATE UNIQUE INDEX `events_key_idx` ON `events` (`account_id`,`occurred_at`,`id`);--> statement-breakpoint
CREATE INDEX `events_account_type_time_idx` ON `events` (`account_id`,`type`,`occurred_at`);--> statement-breakpoint
CREATE INDEX `events_received_idx` ON `events` (`received_at`);--> statement-breakpoint
CREATE INDEX `events_lookup_id_idx` ON `events` (`account_id`,`id`) WHERE "lookup_by_id" = 1;