-- An integration may name another of its account that receives the notifications of its dead
-- deliveries (docs/delivery.md#fallback); the API clears it when that integration is deleted.
ALTER TABLE `integrations` ADD `fallback_integration_id` text;
