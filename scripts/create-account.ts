/**
 * `npm run create-account -- --name "Acme" --admin-email sec@acme.com [--time-zone Europe/Berlin] [--local]`
 *
 * Creates an account and its first admin in the deployment's D1 (`--remote` by default; `--local`
 * for wrangler dev's database). The admin's password is generated, printed once, and must be
 * changed at first sign-in.
 */
import { parseArgs } from "node:util";
import { accountSql, generatePassword } from "./account-sql.ts";
import { executeSql } from "./demo-seed.ts";

const { values: args } = parseArgs({
  options: {
    name: { type: "string" },
    "admin-email": { type: "string" },
    "time-zone": { type: "string", default: "UTC" },
    local: { type: "boolean", default: false },
  },
});

const name = args.name?.trim();
const email = args["admin-email"]?.trim().toLowerCase();
const timeZone = args["time-zone"];
const problems: string[] = [];
if (!name || name.length > 100) problems.push("--name: 1 to 100 characters");
if (!email || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) problems.push("--admin-email: an email address");
try {
  new Intl.DateTimeFormat("en", { timeZone });
} catch {
  problems.push(`--time-zone: "${timeZone}" is not an IANA time zone`);
}
if (problems.length > 0 || !name || !email) {
  console.error(`Cannot create the account:\n  ${problems.join("\n  ")}`);
  process.exit(2);
}

const password = generatePassword();
const { sql, accountId } = accountSql({
  name,
  timeZone,
  createdAt: Date.now(),
  users: [
    {
      email,
      name: "",
      role: "admin",
      password,
      mustChangePassword: true,
      notifications: { system: true, reports: ["weekly"] },
    },
  ],
});
executeSql(sql, [args.local ? "--local" : "--remote"]);
console.log(`Created account "${name}" (${accountId}) in the ${args.local ? "local" : "remote"} database.
First admin: ${email}
One-time password (shown once; they choose their own at first sign-in): ${password}`);
