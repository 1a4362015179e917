CREATE TABLE `report_day_tops` (
	`account_id` text NOT NULL,
	`time_zone` text NOT NULL,
	`day` text NOT NULL,
	`attacks` integer NOT NULL,
	`tops` text NOT NULL,
	`truncated` text NOT NULL,
	`computed_at` integer NOT NULL,
	PRIMARY KEY(`account_id`, `time_zone`, `day`)
);
--> statement-breakpoint
CREATE INDEX `report_day_tops_computed_idx` ON `report_day_tops` (`computed_at`);