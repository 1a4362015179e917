-- An email is unique within an account, not across accounts: adding a user must not reveal that
-- the address is a user of another account (README "Security").
DROP INDEX `users_email_unique`;--> statement-breakpoint
CREATE UNIQUE INDEX `users_account_email_unique` ON `users` (`account_id`,`email`);--> statement-breakpoint
CREATE INDEX `users_email_idx` ON `users` (`email`);