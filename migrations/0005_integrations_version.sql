-- Ingest keeps each account's fan-out targets (enabled integrations and their subscriptions) in
-- memory and writes events only while this version still matches its copy: every change to what an
-- account's integrations receive bumps it, whichever code path makes the change.
ALTER TABLE `accounts` ADD `integrations_version` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE TRIGGER `integrations_version_on_insert` AFTER INSERT ON `integrations` BEGIN
  UPDATE `accounts` SET `integrations_version` = `integrations_version` + 1 WHERE `id` = NEW.`account_id`;
END;--> statement-breakpoint
CREATE TRIGGER `integrations_version_on_delete` AFTER DELETE ON `integrations` BEGIN
  UPDATE `accounts` SET `integrations_version` = `integrations_version` + 1 WHERE `id` = OLD.`account_id`;
END;--> statement-breakpoint
CREATE TRIGGER `integrations_version_on_update` AFTER UPDATE OF `status`, `events`, `account_id` ON `integrations`
WHEN OLD.`status` IS NOT NEW.`status` OR OLD.`events` IS NOT NEW.`events` OR OLD.`account_id` IS NOT NEW.`account_id` BEGIN
  UPDATE `accounts` SET `integrations_version` = `integrations_version` + 1 WHERE `id` IN (OLD.`account_id`, NEW.`account_id`);
END;
