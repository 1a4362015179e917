import { createRouter } from "../../lib/router";
import { requireAdmin, requireAuth } from "../../security/auth";
import deliveries from "../deliveries";
import catalog from "./catalog";
import crud from "./crud";
import state from "./state";
import testSend from "./test-send";

/**
 * Integrations management (docs/api.md#integrations): CRUD, enable/disable, secret rotation, test
 * sends and the delivery log, mounted at /api/integrations; the catalog at /api/integration-types.
 * Admin only: analysts and read-only users get 403, other accounts' ids 404.
 */
const router = createRouter();
router.use("*", requireAuth, requireAdmin);

// The test route is mounted before /{id} routes so "test" is never taken for an id.
const routes = router.route("/", testSend).route("/", crud).route("/", state).route("/", deliveries);

const types = createRouter();
types.use("*", requireAuth, requireAdmin);
export const integrationTypes = types.route("/", catalog);

export default routes;
