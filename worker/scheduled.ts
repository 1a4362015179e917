import { republishStep } from "./delivery/republish";
import type { Env } from "./env";
import { reencryptStep } from "./integrations/reencrypt";
import { reportScheduleStep } from "./reports/schedule";
import { retentionStep } from "./retention";
import { housekeepingStep } from "./security/housekeeping";

/** A step of the hourly cron. Each is idempotent: a cron firing twice does no harm. */
type ScheduledStep = (controller: ScheduledController, env: Env, ctx: ExecutionContext) => Promise<void>;

/** The hourly cron's steps, run side by side; one failing does not stop the others. */
const steps: { name: string; run: ScheduledStep }[] = [
  { name: "event-retention", run: retentionStep },
  { name: "reencrypt-integration-secrets", run: reencryptStep },
  { name: "scheduled-reports", run: reportScheduleStep },
  { name: "expired-sessions-and-counters", run: housekeepingStep },
  { name: "republish-system-events", run: republishStep },
];

export async function runScheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext) {
  const results = await Promise.allSettled(steps.map((step) => step.run(controller, env, ctx)));
  results.forEach((result, i) => {
    if (result.status === "rejected") {
      console.error("scheduled step failed", { step: steps[i]?.name, error: String(result.reason) });
    }
  });
}
