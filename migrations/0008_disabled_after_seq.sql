-- The commit-ordered marker of a disable (worker/db/schema.ts, integrations.disabled_after_seq).
ALTER TABLE `integrations` ADD `disabled_after_seq` integer;--> statement-breakpoint
-- Integrations disabled before the marker existed: the closest marker to the old rule (events
-- received since the disable), i.e. just before the first event received at or after it.
UPDATE `integrations` SET `disabled_after_seq` = coalesce(
  (SELECT e.`seq` - 1 FROM `events` AS e WHERE e.`received_at` >= coalesce(`integrations`.`disabled_at`, `integrations`.`updated_at`)
    ORDER BY e.`received_at`, e.`seq` LIMIT 1),
  (SELECT coalesce(max(`seq`), 0) FROM `events`))
WHERE `status` = 'disabled';
