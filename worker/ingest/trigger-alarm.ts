/**
 * The account object's trigger work outside a group of requests (docs/triggers.md#evaluation):
 * node-silence notices at their deadline, trigger items whose enqueue failed, silenced counts
 * copied to D1, and the notices of a security issue closed or reopened.
 */
import { createDb } from "../db/client";
import { enqueuePlan } from "../outbox/enqueue";
import { recordSilencedCounts } from "../triggers/store";
import type { AccountIngestDO } from "./account-do";
import type { SecurityIssueRow } from "./account-store";
import { type ItemPlan, mergePlans } from "./trigger-hook";

async function queue(account: AccountIngestDO, plan: ItemPlan): Promise<void> {
  if (plan.size === 0) return;
  try {
    await enqueuePlan(account.environment, plan);
  } catch (error) {
    console.error("queueing trigger notices failed", { accountId: account.accountId, error: String(error) });
    account.triggers.defer(plan);
  }
}

/** Runs in the object's alarm, before it sets the next one. Never throws. */
export async function runTriggerAlarm(account: AccountIngestDO, now: number): Promise<void> {
  try {
    account.triggers.persist(now);
    const control = await account.currentControl();
    if (!control) return;
    const context = { accountName: control.accountName, publicUrl: account.environment.PUBLIC_URL };
    await queue(
      account,
      mergePlans(account.triggers.takePending(), account.triggers.dueNotices(control, context, now)),
    );
    const counts = account.triggers.countsToCopy(now);
    if (counts) {
      try {
        await recordSilencedCounts(createDb(account.environment.DB), account.accountId, counts);
        account.triggers.countsCopied(now);
      } catch (error) {
        // Not copied: retried a minute on (the alarm must not spin on a failing D1).
        account.triggers.countsRetryLater(now);
        console.error("copying silenced counts failed", { accountId: account.accountId, error: String(error) });
      }
    }
  } catch (error) {
    console.error("trigger alarm failed", { accountId: account.accountId, error: String(error) });
  }
}

/**
 * A security issue was closed or reopened: its notice goes to the integrations that would have
 * received the issue. A failed enqueue is kept for the alarm (the change itself stands).
 */
export async function issueStatusChanged(
  account: AccountIngestDO,
  state: "closed" | "reopened",
  issue: SecurityIssueRow,
  actor: string,
  at: number,
): Promise<void> {
  const control = await account.currentControl();
  if (!control) return;
  const plan = account.triggers.issueStatusItems(
    control,
    state,
    {
      id: issue.id,
      fingerprint: issue.fingerprint,
      risk: issue.risk,
      title: issue.title,
      host: issue.host,
      path: issue.path,
      vulnType: issue.vuln_type,
      nodeId: null,
    },
    actor,
    at,
    { accountName: control.accountName, publicUrl: account.environment.PUBLIC_URL },
  );
  await queue(account, plan);
  await account.scheduleAlarm();
}
