import type { Role } from "../db/schema";

/** Who is calling: a signed-in user (session cookie) or an API token acting in one account. */
export interface Principal {
  kind: "session" | "api_token";
  accountId: string;
  role: Role;
  /** The user behind a session; null for API tokens. */
  userId: string | null;
  /** Email for users, token name for API tokens: what the audit log shows. */
  label: string;
  /** Session only: the CSRF token state-changing requests must echo in X-CSRF-Token. */
  csrfToken?: string;
  /** API token id (for audit). */
  tokenId?: string;
  /** API token only: the user who created it (a token made by a token inherits this). */
  creatorId?: string;
}
