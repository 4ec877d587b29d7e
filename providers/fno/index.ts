/**
 * The F&O system folder's public face: the `fno:User` resource and its provider, the OData
 * client, our vocabulary and the pure planner. Imports only `core/`.
 */
export { checkInputs, resolveRoles } from "./check.ts";
export { createFnoClient, type FnoClient, type FnoClientOptions } from "./client.ts";
export * from "./model.ts";
export {
  describeOperation,
  diff,
  type FnoOperation,
  type FnoUserPlan,
  liveView,
  planRemoval,
  planUser,
} from "./plan.ts";
export { FnoUser, type FnoUserArgs, provider, spec } from "./resources.ts";
export { fno as fnoService } from "./service.ts";
