import type { Env } from "../env";

/**
 * The one way to address an account's AccountIngestDO (worker/ingest/account-do.ts): one object
 * per account, named by the account id (docs/data-plane.md).
 */
export function accountIngestObject(env: Pick<Env, "ACCOUNT_DO">, accountId: string) {
  return env.ACCOUNT_DO.get(env.ACCOUNT_DO.idFromName(accountId));
}
