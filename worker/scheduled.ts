import { sweepStep } from "./delivery/sweep";
import type { Env } from "./env";
import { reencryptStep } from "./integrations/reencrypt";
import { reportScheduleStep } from "./reports/schedule";
import { retentionStep } from "./retention";
import { housekeepingStep } from "./security/housekeeping";

/** A step of a cron. Each is idempotent: a cron firing twice does no harm. */
type ScheduledStep = (controller: ScheduledController, env: Env, ctx: ExecutionContext) => Promise<void>;

/** The cron of wrangler.toml that runs only the sweep; every other cron (the hourly one) runs every step. */
export const SWEEP_CRON = "* * * * *";

/** The cron's steps, run side by side; one failing does not stop the others. */
const steps: { name: string; run: ScheduledStep; everyMinute?: true }[] = [
  { name: "event-retention", run: retentionStep },
  { name: "reencrypt-integration-secrets", run: reencryptStep },
  { name: "scheduled-reports", run: reportScheduleStep },
  { name: "expired-sessions-and-counters", run: housekeepingStep },
  { name: "system-event-outbox-and-held-back-notices", run: sweepStep, everyMinute: true },
];

export async function runScheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext) {
  const due = controller.cron === SWEEP_CRON ? steps.filter((step) => step.everyMinute) : steps;
  const results = await Promise.allSettled(due.map((step) => step.run(controller, env, ctx)));
  results.forEach((result, i) => {
    if (result.status === "rejected") {
      console.error("scheduled step failed", { step: due[i]?.name, error: String(result.reason) });
    }
  });
}
