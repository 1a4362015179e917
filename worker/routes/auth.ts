import { createRoute, z } from "@hono/zod-openapi";
import { and, asc, eq, ne } from "drizzle-orm";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Db } from "../db/client";
import { accounts, sessions, users } from "../db/schema";
import { auditInsert } from "../domain/audit";
import { ApiError } from "../lib/errors";
import { randomToken } from "../lib/ids";
import type { Principal } from "../lib/principal";
import { clientIp } from "../lib/request";
import { createRouter, errorResponses, jsonBody, jsonContent } from "../lib/router";
import { requireAuth, SESSION_COOKIE } from "../security/auth";
import { DUMMY_PASSWORD_HASH, hashPassword, sha256Hex, verifyPassword } from "../security/hashing";
import { clearRateLimit, hitRateLimit, refundRateLimit } from "../security/rate-limit";
import { MeSchema, toMe } from "./me-schema";

const SessionProbeSchema = z
  .discriminatedUnion("signed_in", [
    z.object({ signed_in: z.literal(false) }),
    z.object({ signed_in: z.literal(true), me: MeSchema }),
  ])
  .openapi("SessionProbe");

/** The caller as /api/me describes it. */
async function loadMe(db: Db, principal: Principal) {
  const [account, user] = await Promise.all([
    db.query.accounts.findFirst({ where: eq(accounts.id, principal.accountId) }),
    principal.userId ? db.query.users.findFirst({ where: eq(users.id, principal.userId) }) : null,
  ]);
  if (!account) throw new ApiError(401, "unauthorized", "Sign in again.");
  return toMe(user ?? null, account, principal.csrfToken ?? null, principal);
}

const LOGIN_FAILURE_LIMIT = 10;
const LOGIN_WINDOW_MS = 15 * 60_000;

const PasswordSchema = z.string().min(10, "Use at least 10 characters.").max(200, "Use at most 200 characters.");

const LoginBody = z
  .object({
    email: z.string().trim().toLowerCase().pipe(z.email("Enter a valid email address.")),
    password: z.string().min(1, "Enter your password.").max(200),
  })
  .openapi("LoginRequest");

/**
 * Counts one password check against each key (the email and the client address) and refuses it
 * with 429 once any key is past the limit. Sign-ins and password changes share the email's count.
 */
async function countSignInAttempt(db: Db, keys: string[]): Promise<void> {
  const hits = await Promise.all(keys.map((key) => hitRateLimit(db, key, LOGIN_FAILURE_LIMIT, LOGIN_WINDOW_MS)));
  const refused = hits.filter((hit) => !hit.allowed);
  if (refused.length === 0) return;
  const retryAfter = Math.max(...refused.map((hit) => hit.retryAfterSeconds));
  throw new ApiError(
    429,
    "too_many_attempts",
    `Too many failed password attempts. Try again in ${Math.ceil(retryAfter / 60)} minutes.`,
    undefined,
    { "Retry-After": String(retryAfter) },
  );
}

/** At most this many accounts are tried for one email (each costs a password check). */
const MAX_ACCOUNTS_PER_EMAIL = 5;

/**
 * The user this email and password sign in as. An email is unique per account, so it may belong
 * to users of several accounts: the first (oldest) whose password matches. Unknown emails are
 * checked against a dummy hash so timing does not tell which emails exist.
 */
async function userWithPassword(db: Db, email: string, password: string) {
  const candidates = await db
    .select()
    .from(users)
    .where(eq(users.email, email))
    .orderBy(asc(users.createdAt))
    .limit(MAX_ACCOUNTS_PER_EMAIL);
  if (candidates.length === 0) await verifyPassword(password, DUMMY_PASSWORD_HASH);
  for (const candidate of candidates) {
    if (await verifyPassword(password, candidate.passwordHash)) return candidate;
  }
  return null;
}

const router = createRouter();

// Mounted at /api; /api/me/notifications is a router of its own, with its own requireAuth.
router.use("/me", requireAuth);
router.use("/me/password", requireAuth);

const ChangePasswordBody = z
  .object({ current_password: z.string().min(1).max(200), new_password: PasswordSchema })
  .openapi("ChangePasswordRequest");

// Chained so each route's types reach AppType (hc<AppType> in the UI).
const routes = router
  .openapi(
    createRoute({
      method: "post",
      path: "/auth/login",
      tags: ["Auth"],
      summary: "Sign in with email and password; sets the session cookie",
      request: { body: jsonBody(LoginBody) },
      responses: {
        200: jsonContent(MeSchema, "Signed in"),
        400: errorResponses[400],
        401: errorResponses[401],
        429: jsonContent(z.object({ error: z.object({ code: z.string(), message: z.string() }) }), "Too many failures"),
      },
    }),
    async (c) => {
      const db = c.get("db");
      const { email, password } = c.req.valid("json");
      const ip = clientIp(c.req.raw);
      const emailKey = `login:email:${email}`;
      const ipKey = `login:ip:${ip}`;
      // Counted before the password check, atomically: a burst of concurrent sign-ins gets no more
      // password checks than the limit allows. A success takes its attempt back.
      await countSignInAttempt(db, [emailKey, ipKey]);

      const user = await userWithPassword(db, email, password);
      if (!user) throw new ApiError(401, "invalid_credentials", "The email or password is wrong.");
      await Promise.all([clearRateLimit(db, emailKey), refundRateLimit(db, ipKey, LOGIN_WINDOW_MS)]);

      const token = randomToken("hs");
      const csrfToken = randomToken("csrf", 24);
      const now = Date.now();
      await db.insert(sessions).values({
        tokenHash: await sha256Hex(token),
        userId: user.id,
        accountId: user.accountId,
        csrfToken,
        createdAt: now,
        lastSeenAt: now,
        expiresAt: now + Number(c.env.SESSION_ABSOLUTE_HOURS) * 3_600_000,
        ip,
        userAgent: c.req.header("User-Agent")?.slice(0, 300) ?? null,
      });
      setCookie(c, SESSION_COOKIE, token, {
        httpOnly: true,
        secure: true,
        sameSite: "Strict",
        path: "/",
        maxAge: Number(c.env.SESSION_ABSOLUTE_HOURS) * 3600,
      });
      const account = await db.query.accounts.findFirst({ where: eq(accounts.id, user.accountId) });
      return c.json(toMe(user, account!, csrfToken), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/auth/logout",
      tags: ["Auth"],
      summary: "Sign out: deletes the session",
      responses: { 204: { description: "Signed out" } },
    }),
    async (c) => {
      const cookie = getCookie(c, SESSION_COOKIE);
      if (cookie)
        await c
          .get("db")
          .delete(sessions)
          .where(eq(sessions.tokenHash, await sha256Hex(cookie)));
      deleteCookie(c, SESSION_COOKIE, { path: "/", secure: true, httpOnly: true, sameSite: "Strict" });
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/me",
      tags: ["Auth"],
      summary: "The signed-in user, the account, and the CSRF token for state-changing requests",
      responses: { 200: jsonContent(MeSchema, "The caller"), 401: errorResponses[401] },
    }),
    async (c) => c.json(await loadMe(c.get("db"), c.get("principal")), 200),
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/auth/session",
      tags: ["Auth"],
      summary: "Whether the request carries a live session (and then who it is), answered 200 either way",
      description:
        "The UI's start-up probe: a browser that is simply not signed in is not an error, so it gets no 401 to log.",
      responses: { 200: jsonContent(SessionProbeSchema, "Signed in or not") },
    }),
    async (c) => {
      if (!getCookie(c, SESSION_COOKIE)) return c.json({ signed_in: false as const }, 200);
      try {
        await requireAuth(c, async () => {});
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return c.json({ signed_in: false as const }, 200);
        throw error;
      }
      return c.json({ signed_in: true as const, me: await loadMe(c.get("db"), c.get("principal")) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/me/password",
      tags: ["Auth"],
      summary: "Change the signed-in user's password (other sessions are signed out)",
      request: { body: jsonBody(ChangePasswordBody) },
      responses: { 204: { description: "Changed" }, ...errorResponses },
    }),
    async (c) => {
      const principal = c.get("principal");
      const db = c.get("db");
      if (!principal.userId) throw new ApiError(400, "not_a_user", "API tokens have no password.");
      const body = c.req.valid("json");
      const user = await db.query.users.findFirst({ where: eq(users.id, principal.userId) });
      if (!user) throw new ApiError(401, "unauthorized", "Sign in again.");
      // A stolen session must not become a password oracle: the same count as sign-ins.
      const emailKey = `login:email:${user.email}`;
      await countSignInAttempt(db, [emailKey]);
      if (!(await verifyPassword(body.current_password, user.passwordHash))) {
        throw new ApiError(400, "validation_failed", "Invalid current_password: it is not your current password.", [
          { field: "current_password", message: "It is not your current password." },
        ]);
      }
      await clearRateLimit(db, emailKey);
      const cookie = getCookie(c, SESSION_COOKIE) ?? "";
      const currentHash = await sha256Hex(cookie);
      await db.batch([
        db
          .update(users)
          .set({
            passwordHash: await hashPassword(body.new_password),
            mustChangePassword: false,
            updatedAt: Date.now(),
          })
          .where(eq(users.id, user.id)),
        // Sign out every other session: a changed password must lock out whoever knew the old one.
        db.delete(sessions).where(and(eq(sessions.userId, user.id), ne(sessions.tokenHash, currentHash))),
        auditInsert(
          db,
          principal,
          principal.accountId,
          { action: "user.password_changed", targetType: "user", targetId: user.id, details: { email: user.email } },
          clientIp(c.req.raw),
        ),
      ]);
      return c.body(null, 204);
    },
  );

export default routes;
