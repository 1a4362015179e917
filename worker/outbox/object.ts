import type { Env } from "../env";

/**
 * The one way to address an integration's Durable Object (worker/delivery/integration-do.ts):
 * one object per integration, named by the integration's id (docs/delivery.md).
 */
export function integrationObject(env: Pick<Env, "INTEGRATION_DO">, integrationId: string) {
  return env.INTEGRATION_DO.get(env.INTEGRATION_DO.idFromName(integrationId));
}
