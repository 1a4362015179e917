import type { integrations } from "../db/schema";
import { uuidv7 } from "../lib/ids";

/** Subscriptions a new user's personal email starts with: the weekly report only, nothing noisy. */
const PERSONAL_EMAIL_DEFAULT_EVENTS = { reports: ["weekly"] };

/** The personal email integration every user has: their login address, managed from the profile. */
export function personalEmailRow(
  accountId: string,
  user: { id: string; email: string },
  now = Date.now(),
): typeof integrations.$inferInsert {
  return {
    id: uuidv7(now),
    accountId,
    type: "personal_email",
    name: `Personal email (${user.email})`,
    status: "enabled",
    settings: {},
    secrets: null,
    events: PERSONAL_EMAIL_DEFAULT_EVENTS,
    userId: user.id,
    createdAt: now,
    updatedAt: now,
  };
}
