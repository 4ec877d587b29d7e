/**
 * Microsoft Graph v1.0, the part the tool uses: users (list/get/create/update/delete),
 * assignLicense, licenseDetails, licenseAssignmentStates, subscribedSkus and JSON batching,
 * over the directory (the Entra slice of the state, which this service owns and seeds).
 * Learn pages: https://learn.microsoft.com/graph/api/resources/user,
 * https://learn.microsoft.com/graph/api/user-assignlicense, https://learn.microsoft.com/graph/json-batching.
 */
import { GRAPH_APP_ID } from "../core/tenant.ts";
import type { ServiceModule } from "../core/types.ts";
import { GRAPH_ADMIN_ROUTES } from "./admin.ts";
import { graphThrottled, graphUnauthorized, graphUnavailable } from "./errors.ts";
import { isBatch, routeGraph } from "./routes.ts";
import { seedDirectory } from "./seed.ts";
import { seedLivedInDirectory } from "./seed-lived-in.ts";
import type { EntraState } from "./state.ts";

export type { EntraGroup, EntraSku, EntraState, EntraUser } from "./state.ts";

/** The Graph service module. */
export const graphService: ServiceModule<EntraState> = {
  name: "graph",
  // Graph accepts its resource URI and its well-known app id as the audience (access-token docs).
  audiences: (ctx) => [ctx.endpoints.graphUrl, GRAPH_APP_ID],
  appRoles: (app) => app.graphAppRoles,
  unauthorized: graphUnauthorized,
  throttled: graphThrottled,
  unavailable: graphUnavailable,
  handle: routeGraph,
  admin: { prefix: "graph", routes: GRAPH_ADMIN_ROUTES },
  // A $batch envelope changes nothing itself; its items are journaled (and throttled) one by one.
  faultsPerItem: isBatch,
  isWrite: (req) => !isBatch(req) && !["GET", "HEAD", "OPTIONS"].includes(req.method.toUpperCase()),
  seed: (info) => (info.seed.name === "lived-in" ? seedLivedInDirectory(info) : seedDirectory(info)),
};
