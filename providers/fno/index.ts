/**
 * The F&O system folder's public face (style.md principle 11): the `fno:User` resource and its
 * provider, the OData client, and the pure planner. Imports only `core/` (design.md principle 9).
 */
export { createFnoClient, type FnoClient, type FnoClientOptions } from "./client.ts";
export type {
  SecurityRoleDto,
  SecurityUserRoleDto,
  SecurityUserRoleOrganizationDto,
  SysAadClientDto,
  SystemUserDto,
} from "./dto.ts";
export {
  BUILT_IN_SERVICE_USERS,
  type DeclaredRole,
  type DesiredFnoUser,
  type FnoOperation,
  FnoPlanError,
  type FnoUserPlan,
  type ManagedRole,
  planDiff,
  planRemoval,
  planUser,
  SYSTEM_USER_ROLE,
} from "./plan.ts";
export { FnoUser, type FnoUserArgs, type FnoUserInputs, type FnoUserOutputs, provider } from "./resources.ts";
