/**
 * The minute cron's step (worker/scheduled.ts): system events whose publish did not finish are
 * published again from the D1 outbox `system_event_outbox` (worker/ingest/publish-system-events.ts), and the
 * held-back notices that are due go out (worker/ingest/held-back.ts). Node events left unfinished
 * by a crash are each account object's own alarm's business (docs/data-plane.md), not this step's.
 */
import { notifyMaxAge } from "../domain/notify-age";
import type { Env } from "../env";
import { announceHeldBack } from "../ingest/held-back";
import { republishSystemEvents } from "../ingest/publish-system-events";

interface SweepResult {
  /** System events published again from the outbox. */
  republished: number;
  /** Held-back notices announced. */
  announced: number;
}

export async function sweepOutboxes(env: Env, now = Date.now()): Promise<SweepResult> {
  const republished = await republishSystemEvents(env, now);
  const announced = await announceHeldBack(env, notifyMaxAge(env), now);
  return { republished, announced };
}

export async function sweepStep(controller: ScheduledController, env: Env, _ctx: ExecutionContext) {
  const result = await sweepOutboxes(env, controller.scheduledTime);
  if (result.republished + result.announced > 0) console.log("sweep", result);
}
