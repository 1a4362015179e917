/**
 * Helpers for tests inside workerd: seed an account with users, sign in, and call the real app
 * (the Worker's own fetch handler) with the session cookie and CSRF header a browser would send.
 */
import { env, exports } from "cloudflare:workers";
import { createDb } from "../../worker/db/client";
import type { Role } from "../../worker/db/schema";
import { accounts, users } from "../../worker/db/schema";
import { uuidv7 } from "../../worker/lib/ids";
import { hashPassword } from "../../worker/security/hashing";

export const db = () => createDb(env.DB);
export const PASSWORD = "correct horse battery";

export interface SeededAccount {
  accountId: string;
  users: Record<Role, { id: string; email: string }>;
}

let passwordHashCache: string | undefined;

/** An account with one user of each role (admin, analyst, read_only). */
export async function seedAccount(name = "Acme", timeZone = "UTC"): Promise<SeededAccount> {
  passwordHashCache ??= await hashPassword(PASSWORD);
  const accountId = uuidv7();
  const now = Date.now();
  const slug = `${name.toLowerCase().replace(/\W+/g, "")}-${accountId.slice(-6)}`;
  const seeded = {} as SeededAccount["users"];
  await db().insert(accounts).values({ id: accountId, name, timeZone, createdAt: now });
  for (const role of ["admin", "analyst", "read_only"] as const) {
    const id = uuidv7();
    const email = `${role}@${slug}.test`;
    await db().insert(users).values({
      id,
      accountId,
      email,
      name: role,
      role,
      passwordHash: passwordHashCache,
      createdAt: now,
      updatedAt: now,
    });
    seeded[role] = { id, email };
  }
  return { accountId, users: seeded };
}

export interface Session {
  cookie: string;
  csrf: string;
}

export async function call(path: string, init: RequestInit = {}): Promise<Response> {
  // The Worker's own default export, running in this isolate (what SELF used to be).
  const worker = (exports as unknown as { default: Fetcher }).default;
  return worker.fetch(new Request(`https://herald.test${path}`, init));
}

export async function login(email: string, password = PASSWORD): Promise<Session> {
  const res = await call("/api/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const setCookie = res.headers.get("Set-Cookie") ?? "";
  const cookie = setCookie.split(";")[0] ?? "";
  const body = (await res.json()) as { csrf_token: string };
  return { cookie, csrf: body.csrf_token };
}

/** Calls the API as a signed-in browser would: cookie always, CSRF header on writes. */
export async function api(session: Session | null, method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (session) {
    headers.Cookie = session.cookie;
    if (method !== "GET") headers["X-CSRF-Token"] = session.csrf;
  }
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return call(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

export async function json<T = any>(res: Response): Promise<T> {
  return (await res.json()) as T;
}
