import type { Env } from "../env";

/**
 * Tells the account's ingest object that its triggers or silences changed, so it reloads them
 * before the next batch (docs/triggers.md#evaluation). A no-op until the per-account ingest
 * object exists: the data-plane work fills it in (README, "Triggers and silences").
 */
export async function announceControlChange(_env: Env, _accountId: string): Promise<void> {}
