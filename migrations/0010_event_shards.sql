CREATE TABLE `event_shards` (
	`name` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`period_start` integer NOT NULL,
	`period_end` integer NOT NULL,
	`sub` integer NOT NULL,
	`fanout` integer NOT NULL,
	`events` integer DEFAULT 0 NOT NULL,
	`bytes` integer DEFAULT 0 NOT NULL,
	`max_seq` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `event_shards_account_period_idx` ON `event_shards` (`account_id`,`period_start`);--> statement-breakpoint
CREATE INDEX `event_shards_period_end_idx` ON `event_shards` (`period_end`);