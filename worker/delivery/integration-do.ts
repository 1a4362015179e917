import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import type { OutboxItem } from "./outbox-item";

/**
 * One per integration (addressed by idFromName(integrationId)): its outbox, the alarm that drives
 * sending and retries, the 12-hour failure window and the attempt log. The delivery engine issue
 * builds the sending side; the outbox contract (enqueue stores durably before it returns) is fixed.
 */
export class IntegrationDO extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        notification_id TEXT NOT NULL UNIQUE,
        item TEXT NOT NULL,
        created_at INTEGER NOT NULL
      )`);
    });
  }

  /** Stores the items (deduplicated by notification id) before returning. */
  async enqueue(integrationId: string, items: OutboxItem[]): Promise<void> {
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      for (const item of items) {
        this.ctx.storage.sql.exec(
          "INSERT OR IGNORE INTO outbox (notification_id, item, created_at) VALUES (?, ?, ?)",
          item.notification.id,
          JSON.stringify({ integrationId, ...item }),
          now,
        );
      }
    });
  }
}
