import type { Env } from "../env";
import { accountIngestObject } from "./account-object";

/**
 * Tells the account's AccountIngestDO that its nodes, integrations, triggers or silences changed in
 * D1 (call it after the D1 write, before answering): the next ingest request loads them again, so a
 * revocation or a disable takes effect at once. Resolves once the group of requests in flight is
 * written; `committedSeq` is the last account seq written under the old state (a disable records it
 * as `disabled_after_seq`, docs/delivery.md).
 */
export async function announceControlChange(env: Env, accountId: string): Promise<{ committedSeq: number }> {
  return accountIngestObject(env, accountId).controlChanged();
}
