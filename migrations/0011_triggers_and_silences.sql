CREATE TABLE `silences` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`name` text NOT NULL,
	`comment` text,
	`filters` text NOT NULL,
	`starts_at` integer NOT NULL,
	`ends_at` integer NOT NULL,
	`recurrence` text,
	`silenced_count` integer DEFAULT 0 NOT NULL,
	`expiry_audited_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`created_by` text NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `silences_account_idx` ON `silences` (`account_id`,`starts_at`);--> statement-breakpoint
CREATE INDEX `silences_expiry_idx` ON `silences` (`ends_at`) WHERE "silences"."expiry_audited_at" IS NULL;--> statement-breakpoint
CREATE TABLE `triggers` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`name` text NOT NULL,
	`enabled` integer NOT NULL,
	`condition` text NOT NULL,
	`filters` text NOT NULL,
	`group_by` text NOT NULL,
	`throttle_minutes` integer NOT NULL,
	`integration_ids` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`created_by` text NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `triggers_account_idx` ON `triggers` (`account_id`,`created_at`);