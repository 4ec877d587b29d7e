/** The Dataverse system's public face: the resource, its provider, the client and the pure planner. */
export {
  createDataverseClient,
  type DataverseClient,
  type DataverseClientOptions,
  MAX_PAGE_SIZE,
  type WhoAmI,
} from "./client.ts";
export type { BusinessUnit, Role, SystemUser } from "./dto.ts";
export {
  type ActualUser,
  type Catalog,
  choosePresence,
  type DataverseUserInputs,
  type DataverseUserOutputs,
  diffUser,
  type Operation,
  PlanError,
  type PresenceStrategy,
  planRemoval,
  planUser,
  resolveBusinessUnit,
  resolveRoles,
  type UserPlan,
} from "./plan.ts";
export {
  DataversePartialFailure,
  DataverseUser,
  type DataverseUserArgs,
  type PresenceWaitOptions,
  presenceWait,
  provider,
} from "./resources.ts";
