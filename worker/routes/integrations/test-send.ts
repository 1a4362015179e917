import { createRoute } from "@hono/zod-openapi";
import { secretValues } from "../../integrations/secret-fields";
import { loadWithRecipientContext, recipientsFor } from "../../integrations/send-target";
import { prepareCreateSettings } from "../../integrations/settings-input";
import { openSettings } from "../../integrations/store";
import { runTestSend } from "../../integrations/test-send";
import { validateSubscriptions } from "../../integrations/validate";
import { ApiError, type FieldError, notFound, validationError } from "../../lib/errors";
import { uuidv7 } from "../../lib/ids";
import { createRouter, errorResponses, jsonBody, jsonContent, rateLimitedResponse } from "../../lib/router";
import { loadAccount } from "../../security/auth";
import { destinationPolicy } from "../../security/destination-url";
import { limitPerAccount } from "../../security/rate-limit";
import { IdParam, TestIntegrationBody, TestResultsSchema } from "./schemas";
import { type Ctx, channelOf, refuseUserManaged } from "./shared";

/** Test sends per account: each one makes real requests to a third party. */
const TEST_SENDS = { max: 10, windowMs: 60_000, what: "test sends" };

const limitTestSends = (c: Ctx) =>
  limitPerAccount(c.get("db"), "integration-test", c.get("principal").accountId, TEST_SENDS);

const noSubscriptions = () =>
  validationError([{ field: "events", message: "Subscribe to at least one category to send a test." }]);

const rateLimited = rateLimitedResponse("test sends");

const router = createRouter();

const routes = router
  .openapi(
    createRoute({
      method: "post",
      path: "/test",
      tags: ["Integrations"],
      summary: "Test unsaved settings: one [Test message] sample per subscribed category, sent now",
      request: { body: jsonBody(TestIntegrationBody) },
      responses: {
        200: jsonContent(TestResultsSchema, "One result per category"),
        429: rateLimited,
        ...errorResponses,
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const channel = channelOf(body.type);
      refuseUserManaged(channel, "tested before they exist");
      const prepared = prepareCreateSettings(channel, body.settings, destinationPolicy(c.env));
      const errors: FieldError[] = [
        ...(prepared.ok ? [] : prepared.errors),
        ...validateSubscriptions(channel, body.events),
      ];
      if (!prepared.ok || errors.length) throw validationError(errors);
      await limitTestSends(c);
      const account = await loadAccount(c, c.get("principal"));
      const results = await runTestSend(c.env, {
        channel,
        integrationId: uuidv7(),
        accountName: account.name,
        settings: prepared.settings,
        events: body.events,
        recipients: recipientsFor(prepared.settings, null),
        secrets: secretValues(prepared.settings, channel.secretFields),
      });
      if (results.length === 0) throw noSubscriptions();
      return c.json({ results }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/test",
      tags: ["Integrations"],
      summary: "Test a saved integration (enabled or not); does not count in its failure window",
      request: { params: IdParam },
      responses: {
        200: jsonContent(TestResultsSchema, "One result per category"),
        429: rateLimited,
        ...errorResponses,
      },
    }),
    async (c) => {
      // The row, its account's name and its owner's address in one query (not three).
      const loaded = await loadWithRecipientContext(c.get("db"), c.req.valid("param").id, c.get("principal").accountId);
      if (!loaded) throw notFound("integration");
      const { integration: row, accountName, userEmail } = loaded;
      const channel = channelOf(row.type);
      const opened = await openSettings(c.env, row);
      if (opened.unreadable) {
        throw new ApiError(
          409,
          "secrets_unreadable",
          "The integration's secrets must be re-entered before it can send.",
        );
      }
      await limitTestSends(c);
      const results = await runTestSend(c.env, {
        channel,
        integrationId: row.id,
        accountName,
        settings: opened.settings,
        events: (row.events ?? {}) as Parameters<typeof runTestSend>[1]["events"],
        recipients: recipientsFor(opened.settings, userEmail),
        secrets: secretValues(opened.settings, channel.secretFields),
      });
      if (results.length === 0) throw noSubscriptions();
      return c.json({ results }, 200);
    },
  );

export default routes;
