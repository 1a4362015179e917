-- Events too old to notify (NOTIFY_MAX_AGE) are announced per node, at most once per spacing; the
-- sweep finds events whose fan-out never happened through a partial index that holds only those.
CREATE TABLE `held_back_notices` (
	`node_id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`pending` integer DEFAULT 0 NOT NULL,
	`oldest_at` integer,
	`newest_at` integer,
	`since` integer,
	`last_notice_at` integer,
	FOREIGN KEY (`node_id`) REFERENCES `nodes`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `events_unnotified_idx` ON `events` (`received_at`) WHERE "events"."notified_at" IS NULL;