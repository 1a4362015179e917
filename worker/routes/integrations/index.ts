import { createRouter } from "../../lib/router";
import { requireAdmin, requireAuth } from "../../security/auth";
import catalog from "./catalog";
import crud from "./crud";
import state from "./state";
import testSend from "./test-send";

/**
 * Integrations management (docs/api.md#integrations): the catalog, CRUD, enable/disable, secret rotation and test
 * sends. Admin only: analysts and read-only users get 403, other accounts' ids 404.
 */
const router = createRouter();
router.use("/api/integration-types", requireAuth, requireAdmin);
router.use("/api/integrations", requireAuth, requireAdmin);
router.use("/api/integrations/*", requireAuth, requireAdmin);

// The test route is mounted before /{id} routes so "test" is never taken for an id.
const routes = router.route("/", catalog).route("/", testSend).route("/", crud).route("/", state);

export default routes;
