-- Admins close a security issue once it is fixed (PATCH /api/security-issues/{id}); a node reporting
-- it again after that reopens it.
ALTER TABLE `security_issues` ADD `closed_at` integer;--> statement-breakpoint
ALTER TABLE `security_issues` ADD `closed_by` text;