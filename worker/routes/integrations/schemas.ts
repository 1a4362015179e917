import { z } from "@hono/zod-openapi";
import { CATALOG_BLOCKS, INTEGRATION_TYPES } from "../../channels/types";
import { DISABLE_REASONS } from "../../db/schema";
import { CATEGORIES, EventSubscriptionsSchema } from "../../domain/subscriptions";

/** OpenAPI schemas of the integrations API (docs/api.md#integrations). */

const EventsSchema = EventSubscriptionsSchema.openapi("EventSubscriptions", {
  example: { system: true, security_issue: ["critical", "high"], incident: true },
});

export const IntegrationSchema = z
  .object({
    id: z.string(),
    type: z.enum(INTEGRATION_TYPES),
    name: z.string(),
    status: z.enum(["enabled", "disabled"]),
    disabled_reason: z.enum(DISABLE_REASONS).optional(),
    disabled_details: z.unknown().optional().openapi({ description: "Figures of an automatic disable" }),
    disabled_at: z.string().optional(),
    settings: z
      .record(z.string(), z.unknown())
      .openapi({ description: 'Secrets are masked ("••••a1b2"); null where they must be re-entered' }),
    events: EventsSchema,
    secrets_status: z.enum(["ok", "needs_reentry"]).openapi({
      description: '"needs_reentry" when the stored secrets cannot be decrypted (moved, or key removed)',
    }),
    user_id: z.string().optional().openapi({ description: "personal_email: the user it mails" }),
    fallback_integration_id: z.string().nullable().openapi({
      description: "The integration of the account that receives the notifications of this one's dead deliveries",
    }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Integration");

export const IntegrationEnvelope = z.object({ integration: IntegrationSchema });

const Name = z.string().trim().min(1, "Must not be empty.").max(100, "At most 100 characters.");
const FallbackInput = z.string().trim().min(1, "Must not be empty.").max(64).nullable().openapi({
  description:
    "Another integration of the account that receives the notifications of this one's dead deliveries; null for none. It must not have a fallback itself",
});
const SettingsInput = z
  .record(z.string(), z.unknown())
  .openapi({ description: "Per type, see GET /api/integration-types; secrets in clear on input" });

export const CreateIntegrationBody = z
  .object({
    type: z.enum(INTEGRATION_TYPES),
    name: Name,
    settings: SettingsInput.default({}),
    events: EventsSchema.default({}),
    fallback_integration_id: FallbackInput.default(null),
  })
  .openapi("CreateIntegrationRequest");

export const CreateIntegrationResponse = z
  .object({
    integration: IntegrationSchema,
    signing_secret: z.string().optional().openapi({ description: "Webhook: shown in this answer only" }),
  })
  .openapi("CreateIntegrationResponse");

/** Generated secrets answered once, next to the integration (webhook: `signing_secret`). */
export const onceSecrets = (generated: Record<string, string>) => generated as { signing_secret?: string };

export const UpdateIntegrationBody = z
  .object({
    name: Name.optional(),
    settings: SettingsInput.optional().openapi({
      description: "Keys given replace the stored ones; a secret left blank, absent or masked keeps its value",
    }),
    events: EventsSchema.optional(),
    fallback_integration_id: FallbackInput.optional(),
  })
  .openapi("UpdateIntegrationRequest");

export const TestIntegrationBody = z
  .object({
    type: z.enum(INTEGRATION_TYPES),
    name: Name.default("Test"),
    settings: SettingsInput.default({}),
    events: EventsSchema.default({}),
  })
  .openapi("TestIntegrationRequest");

export const TestResultsSchema = z
  .object({
    results: z.array(
      z.object({
        category: z.enum(CATEGORIES),
        ok: z.boolean(),
        status: z.number().int().nullable().openapi({ description: "The receiver's HTTP status" }),
        latency_ms: z.number().int(),
        error: z.string().nullable(),
      }),
    ),
  })
  .openapi("TestSendResults");

export const EnableBody = z
  .object({
    pending: z.enum(["resume", "drop"]).default("resume").openapi({
      description: "What to do with deliveries paused while disabled",
    }),
    replay_missed: z.boolean().default(false).openapi({
      description: "Also send the subscribed events stored after the disable (at most 50,000)",
    }),
    replay_dead: z.boolean().default(false).openapi({
      description: "Also replay the deliveries that died in the failure window before the disable, or since",
    }),
  })
  .openapi("EnableIntegrationRequest");

export const EnableResponse = z.object({
  integration: IntegrationSchema,
  resumed: z.number().int(),
  dropped: z.number().int(),
  replayed: z.number().int(),
  /** True when more missed events matched than one replay queues (the oldest were queued). */
  replay_truncated: z.boolean(),
  /** Dead deliveries queued again (replay_dead), each as a new delivery. */
  replayed_dead: z.number().int(),
  /** False when the outbox could not be told (the state change is stored regardless). */
  outbox_updated: z.boolean(),
});

export const ListQuery = z.object({
  status: z.enum(["all", "enabled", "disabled"]).default("all"),
  q: z.string().trim().max(100).optional(),
});

export const IdParam = z.object({ id: z.string().min(1).max(64) });

const IntegrationTypeSchema = z
  .object({
    type: z.enum(INTEGRATION_TYPES),
    title: z.string(),
    block: z.enum(CATALOG_BLOCKS),
    settings_schema: z.record(z.string(), z.unknown()).openapi({
      description: "JSON Schema of the settings; secrets are writeOnly (x-secret), generated ones readOnly",
    }),
    secret_fields: z.array(z.string()),
    generated_fields: z.array(z.string()),
    url_fields: z.array(z.string()),
    categories: z.array(z.enum(CATEGORIES)),
    batch_limit: z.number().int(),
    /** personal_email: one per user, managed from the profile, not created by admins. */
    managed_by_user: z.boolean(),
    counts: z.object({ enabled: z.number().int(), disabled: z.number().int() }),
  })
  .openapi("IntegrationType");

export const CatalogSchema = z
  .object({
    blocks: z.array(
      z.object({ block: z.enum(CATALOG_BLOCKS), title: z.string(), types: z.array(IntegrationTypeSchema) }),
    ),
  })
  .openapi("IntegrationCatalog");
