import { z } from "@hono/zod-openapi";
import { type accounts, ROLES, type users } from "../db/schema";
import type { Principal } from "../lib/principal";

/** A user as the API shows them (also the base of the users API's `User`). */
export const UserFieldsSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  must_change_password: z.boolean(),
});

export const MeSchema = z
  .object({
    user: UserFieldsSchema.nullable(),
    account: z.object({ id: z.string(), name: z.string(), time_zone: z.string() }),
    role: z.enum(ROLES),
    /** Echo in X-CSRF-Token on every POST/PATCH/PUT/DELETE made with the session cookie. */
    csrf_token: z.string().nullable(),
  })
  .openapi("Me");

export function toMe(
  user: typeof users.$inferSelect | null,
  account: typeof accounts.$inferSelect,
  csrfToken: string | null,
  principal?: Principal,
): z.infer<typeof MeSchema> {
  return {
    user: user
      ? {
          id: user.id,
          email: user.email,
          name: user.name,
          role: user.role,
          must_change_password: user.mustChangePassword,
        }
      : null,
    account: { id: account.id, name: account.name, time_zone: account.timeZone },
    role: user?.role ?? principal?.role ?? "read_only",
    csrf_token: csrfToken,
  };
}
