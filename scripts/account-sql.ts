/**
 * SQL that creates an account with its users (each with their personal email integration) and,
 * optionally, a node — for the local demo (`npm start`) and for `npm run create-account` in
 * production, so nobody writes these rows by hand. Formats match the Worker's: PBKDF2-SHA256
 * password hashes (worker/security/hashing.ts), SHA-256 node token hashes (worker/routes/nodes.ts).
 */
import { createHash, pbkdf2Sync, randomBytes, randomUUID } from "node:crypto";

export interface NewUser {
  email: string;
  name: string;
  role: "admin" | "analyst" | "read_only";
  password: string;
  mustChangePassword: boolean;
  /** The personal email integration's subscriptions. */
  notifications: Record<string, unknown>;
}

export interface NewAccount {
  name: string;
  timeZone: string;
  /** When the account counts as created: reports are owed only for periods after it. */
  createdAt: number;
  users: NewUser[];
  /** Names of nodes to create; their tokens are returned once, in the same order. */
  nodeNames?: string[];
}

function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = pbkdf2Sync(password, salt, 100_000, 32, "sha256");
  return `pbkdf2-sha256$100000$${salt.toString("base64")}$${hash.toString("base64")}`;
}

const q = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** Random password for a first admin: shown once, changed at first sign-in. */
export function generatePassword(): string {
  return randomBytes(12).toString("base64url");
}

export function accountSql(
  account: NewAccount,
  now = Date.now(),
): { sql: string; accountId: string; nodeTokens: string[] } {
  const accountId = randomUUID();
  const statements = [
    `INSERT INTO accounts (id, name, time_zone, created_at) VALUES (${q(accountId)}, ${q(account.name)}, ${q(account.timeZone)}, ${account.createdAt});`,
  ];
  for (const user of account.users) {
    const userId = randomUUID();
    statements.push(
      `INSERT INTO users (id, account_id, email, name, role, password_hash, must_change_password, created_at, updated_at) VALUES (${q(userId)}, ${q(accountId)}, ${q(user.email.toLowerCase())}, ${q(user.name)}, ${q(user.role)}, ${q(hashPassword(user.password))}, ${user.mustChangePassword ? 1 : 0}, ${now}, ${now});`,
      `INSERT INTO integrations (id, account_id, type, name, status, settings, secrets, events, user_id, created_at, updated_at) VALUES (${q(randomUUID())}, ${q(accountId)}, 'personal_email', ${q(`Personal email (${user.email.toLowerCase()})`)}, 'enabled', '{}', NULL, ${q(JSON.stringify(user.notifications))}, ${q(userId)}, ${now}, ${now});`,
    );
  }
  const nodeTokens: string[] = [];
  for (const nodeName of account.nodeNames ?? []) {
    const nodeToken = `hnode_${randomBytes(32).toString("base64url")}`;
    nodeTokens.push(nodeToken);
    statements.push(
      `INSERT INTO nodes (id, account_id, name, token_hash, token_prefix, created_at, events_count) VALUES (${q(randomUUID())}, ${q(accountId)}, ${q(nodeName)}, ${q(createHash("sha256").update(nodeToken).digest("hex"))}, ${q(nodeToken.slice(0, 12))}, ${now}, 0);`,
    );
  }
  return { sql: statements.join("\n"), accountId, nodeTokens };
}
