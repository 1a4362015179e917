ALTER TABLE `report_runs` ADD `attempts` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `report_runs_status_idx` ON `report_runs` (`status`,`claimed_at`);