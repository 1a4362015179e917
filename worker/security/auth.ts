import { and, eq, isNull } from "drizzle-orm";
import { getCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { accounts, apiTokens, type Role, sessions, users } from "../db/schema";
import { ApiError, forbidden, unauthorized } from "../lib/errors";
import type { Principal } from "../lib/principal";
import type { AppEnv } from "../lib/router";
import { sha256Hex, timingSafeEqual } from "./hashing";

const ROLE_RANK: Record<Role, number> = { read_only: 0, analyst: 1, admin: 2 };

/** The role with fewer rights of the two. */
function lesserRole(a: Role, b: Role): Role {
  return ROLE_RANK[a] <= ROLE_RANK[b] ? a : b;
}

export const SESSION_COOKIE = "herald_session";
const CSRF_HEADER = "X-CSRF-Token";
export const API_TOKEN_PREFIX = "hrld";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** What a session may do before its user replaced a one-time password. */
const PASSWORD_CHANGE_PATHS = new Set([
  "GET /api/me",
  "GET /api/auth/session",
  "POST /api/me/password",
  "POST /api/auth/logout",
]);
/** Touch last_seen_at at most this often: idle expiry needs minutes, not per-request writes. */
const SESSION_TOUCH_MS = 60_000;

/**
 * Resolves the caller from an API token (Authorization: Bearer hrld_…) or the session cookie,
 * enforcing session expiry and, for cookie-authenticated state-changing requests, the CSRF token.
 */
export const requireAuth = createMiddleware<AppEnv>(async (c, next) => {
  const db = c.get("db");
  const now = Date.now();
  const authorization = c.req.header("Authorization");

  if (authorization) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match?.[1]?.startsWith(`${API_TOKEN_PREFIX}_`)) throw unauthorized("The API token is malformed.");
    const tokenHash = await sha256Hex(match[1]);
    const [row] = await db
      .select({ token: apiTokens, creatorRole: users.role })
      .from(apiTokens)
      .innerJoin(users, and(eq(users.id, apiTokens.createdBy), eq(users.accountId, apiTokens.accountId)))
      .where(and(eq(apiTokens.tokenHash, tokenHash), isNull(apiTokens.revokedAt)))
      .limit(1);
    // No row also when the creator is gone: a token never outlives the user who made it.
    if (!row) throw unauthorized("The API token is wrong or revoked.");
    const { token } = row;
    c.set("principal", {
      kind: "api_token",
      accountId: token.accountId,
      // Never more than its creator may do now (a demoted admin's admin token acts as analyst).
      role: lesserRole(token.role, row.creatorRole),
      userId: null,
      label: `token:${token.name}`,
      tokenId: token.id,
      creatorId: row.token.createdBy ?? undefined,
    });
    if (!token.lastUsedAt || now - token.lastUsedAt > SESSION_TOUCH_MS) {
      c.executionCtx.waitUntil(
        db
          .update(apiTokens)
          .set({ lastUsedAt: now })
          .where(eq(apiTokens.id, token.id))
          .run()
          .then(() => undefined),
      );
    }
    return next();
  }

  const cookie = getCookie(c, SESSION_COOKIE);
  if (!cookie) throw unauthorized();
  const tokenHash = await sha256Hex(cookie);
  const [row] = await db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.tokenHash, tokenHash))
    .limit(1);
  const idleMs = Number(c.env.SESSION_IDLE_MINUTES) * 60_000;
  if (!row || row.session.expiresAt <= now || row.session.lastSeenAt + idleMs <= now) {
    if (row) await db.delete(sessions).where(eq(sessions.tokenHash, tokenHash));
    throw unauthorized("Your session has expired. Sign in again.");
  }

  if (!SAFE_METHODS.has(c.req.method)) {
    const sent = c.req.header(CSRF_HEADER) ?? "";
    const enc = new TextEncoder();
    if (!timingSafeEqual(enc.encode(sent), enc.encode(row.session.csrfToken))) {
      throw new ApiError(403, "csrf_failed", `Missing or wrong ${CSRF_HEADER} header.`);
    }
  }

  // A user holding a one-time password may only read who they are, choose a password, or sign out.
  if (row.user.mustChangePassword && !PASSWORD_CHANGE_PATHS.has(`${c.req.method} ${c.req.path}`)) {
    throw new ApiError(403, "password_change_required", "Choose your own password first (POST /api/me/password).");
  }

  c.set("principal", {
    kind: "session",
    accountId: row.user.accountId,
    role: row.user.role,
    userId: row.user.id,
    label: row.user.email,
    csrfToken: row.session.csrfToken,
  });
  if (now - row.session.lastSeenAt > SESSION_TOUCH_MS) {
    c.executionCtx.waitUntil(
      db
        .update(sessions)
        .set({ lastSeenAt: now })
        .where(eq(sessions.tokenHash, tokenHash))
        .run()
        .then(() => undefined),
    );
  }
  return next();
});

/** Allows only the given roles; everyone else gets 403 (after authentication). */
function requireRole(...roles: Role[]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!roles.includes(c.get("principal").role)) throw forbidden();
    return next();
  });
}

export const requireAdmin = requireRole("admin");

/** The caller's account row (time zone, name). */
export async function loadAccount(c: { get(key: "db"): AppEnv["Variables"]["db"] }, principal: Principal) {
  const account = await c.get("db").query.accounts.findFirst({ where: eq(accounts.id, principal.accountId) });
  if (!account) throw unauthorized();
  return account;
}
