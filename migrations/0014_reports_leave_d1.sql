-- Report day digests and report bodies leave D1 (docs/storage.md#reports): each account's
-- AccountIngestDO keeps them. The digests are a cache (rebuilt on demand); rows written before
-- this keep their data in reports.data, which newer rows leave null.
DROP TABLE `report_day_tops`;--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_reports` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`frequency` text NOT NULL,
	`period_start` text NOT NULL,
	`period_end` text NOT NULL,
	`time_zone` text NOT NULL,
	`origin` text NOT NULL,
	`data` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_reports`("id", "account_id", "frequency", "period_start", "period_end", "time_zone", "origin", "data", "created_at") SELECT "id", "account_id", "frequency", "period_start", "period_end", "time_zone", "origin", "data", "created_at" FROM `reports`;--> statement-breakpoint
DROP TABLE `reports`;--> statement-breakpoint
ALTER TABLE `__new_reports` RENAME TO `reports`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `reports_account_idx` ON `reports` (`account_id`,`created_at`);