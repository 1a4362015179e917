/**
 * The account object's answers to readers and jobs: security issues (list, close, reopen, the
 * report figures), the replay of missed events on re-enable, and retention by whole shards.
 */
import type { EventSubscriptions } from "../domain/subscriptions";
import { subscribesTo } from "../domain/subscriptions";
import { forgetShards } from "../events/directory";
import { eventShardObject } from "../events/objects";
import type { StoredShardEvent } from "../events/shard-types";
import { enqueueItems } from "../outbox/enqueue";
import { eventOutboxItem } from "../outbox/fan-out";
import type { AccountIngestDO } from "./account-do";
import type { IssueQuery, SecurityIssueRow } from "./account-store";

/** Events per page read from a shard and enqueued. */
const REPLAY_PAGE = 500;
/**
 * A replay queues at most this many matching events: an integration disabled for weeks under a
 * flood should not turn one click into millions of requests.
 */
export const MAX_REPLAYED_EVENTS = 50_000;

export interface ReplayOutcome {
  replayed: number;
  /** More matching events were stored than the cap allowed to queue. */
  truncated: boolean;
}

export interface ReportIssuesQuery {
  /** Start of the previous period (new issues are counted from here). */
  previousFrom: number;
  currentFrom: number;
  currentTo: number;
  listLimit: number;
}

export function accountQueries(account: AccountIngestDO) {
  return {
    securityIssues(query: IssueQuery): SecurityIssueRow[] {
      return account.store.listIssues(query);
    },

    /** What a report shows of the issues: new ones by risk (current and previous period), the list, open ones. */
    issuesForReport(query: ReportIssuesQuery) {
      return {
        newByRisk: account.store.newIssuesByRisk(query.previousFrom, query.currentFrom, query.currentTo),
        newList: account.store.newIssues(query.currentFrom, query.currentTo, query.listLimit),
        openByRisk: account.store.openIssuesByRisk(query.currentTo),
      };
    },

    /**
     * Queues the events with seq in (afterSeq, untilSeq] that the integration subscribes to (the
     * one matcher, `subscribesTo`), page by page, at most MAX_REPLAYED_EVENTS. Items are built as
     * fan-out builds them, so an event already in the outbox dedupes by id; their links carry the
     * time, so they resolve like any other notification's.
     */
    async replay(
      integrationId: string,
      afterSeq: number,
      untilSeq: number,
      maxEvents = MAX_REPLAYED_EVENTS,
    ): Promise<ReplayOutcome> {
      const row = await account.environment.DB.prepare(
        "SELECT events FROM integrations WHERE id = ?1 AND account_id = ?2",
      )
        .bind(integrationId, account.accountId)
        .first<{ events: string }>();
      const control = await account.currentControl();
      if (!row || !control) return { replayed: 0, truncated: false };
      const subscriptions = JSON.parse(row.events ?? "{}") as EventSubscriptions;
      let replayed = 0;
      for (const { shard } of account.store.shardsOverlapping(afterSeq, untilSeq)) {
        let after = afterSeq;
        for (;;) {
          const page: StoredShardEvent[] = await eventShardObject(account.environment, shard).afterSeq({
            afterSeq: after,
            untilSeq,
            limit: REPLAY_PAGE,
          });
          const wanted = page.filter((e) => subscribesTo(subscriptions, { type: e.type, risk: e.risk }));
          const room = maxEvents - replayed;
          const taken = wanted.slice(0, room);
          if (taken.length > 0) {
            await enqueueItems(
              account.environment,
              integrationId,
              taken.map((e) =>
                eventOutboxItem(
                  {
                    id: e.id,
                    seq: e.seq,
                    type: e.type,
                    risk: e.risk,
                    occurredAt: e.occurredAt,
                    systemType: e.systemType,
                    data: JSON.parse(e.data),
                  },
                  control.accountName,
                  account.environment.PUBLIC_URL,
                ),
              ),
            );
            replayed += taken.length;
          }
          if (wanted.length > room) return { replayed, truncated: true };
          const last = page[page.length - 1];
          if (!last || page.length < REPLAY_PAGE) break;
          after = last.seq;
        }
      }
      return { replayed, truncated: false };
    },

    /**
     * Drops the account's shards whose period ended at or before `before`: their low-cardinality
     * counters are archived here, the shard deletes all its storage, its links and directory row
     * go. Cost grows with the number of shards, not of events.
     */
    async dropExpiredShards(before: number): Promise<{ dropped: number }> {
      const d1 = account.environment.DB;
      const { results } = await d1
        .prepare("SELECT name FROM event_shards WHERE account_id = ?1 AND period_end <= ?2")
        .bind(account.accountId, before)
        .all<{ name: string }>();
      let dropped = 0;
      for (const { name } of results) {
        const shard = eventShardObject(account.environment, name);
        account.store.archiveAndForget(name, await shard.counters());
        await shard.destroy();
        await forgetShards(d1, [name]);
        account.directory.forget(name);
        account.pendingMarks.delete(name);
        account.shardSizes.delete(name);
        dropped++;
      }
      return { dropped };
    },
  };
}

export type AccountQueries = ReturnType<typeof accountQueries>;
