/** The Dataverse system's public face: the resource, its provider, the client, our vocabulary and the pure planner. */

export { type PresenceWaitOptions, presenceWait } from "./apply.ts";
export { checkInputs, resolveBusinessUnit, resolveRoles } from "./check.ts";
export {
  createDataverseClient,
  type DataverseClient,
  type DataverseClientOptions,
  MAX_PAGE_SIZE,
  type WhoAmI,
} from "./client.ts";
export * from "./model.ts";
export {
  choosePresence,
  type DataverseOperation,
  describeOperation,
  diff,
  type PresenceStrategy,
  planRemoval,
  planUser,
  type UserPlan,
} from "./plan.ts";
export { DataverseUser, type DataverseUserArgs, provider, spec } from "./resources.ts";
export { dataverse as dataverseService, powerPlatform as powerPlatformService } from "./service.ts";
