CREATE TABLE `security_issues` (
	`account_id` text NOT NULL,
	`fingerprint` text NOT NULL,
	`id` text NOT NULL,
	`last_event_id` text NOT NULL,
	`risk` text NOT NULL,
	`title` text NOT NULL,
	`host` text NOT NULL,
	`path` text NOT NULL,
	`vuln_type` text NOT NULL,
	`status` text DEFAULT 'open' NOT NULL,
	`first_seen` integer NOT NULL,
	`last_seen` integer NOT NULL,
	PRIMARY KEY(`account_id`, `fingerprint`)
);
--> statement-breakpoint
CREATE INDEX `security_issues_status_idx` ON `security_issues` (`account_id`,`status`,`risk`);--> statement-breakpoint
ALTER TABLE `events` ADD `ingest_id` integer;--> statement-breakpoint
ALTER TABLE `events` ADD `notified_at` integer;