/**
 * Dataverse's rules for the emulated tables: who the caller is (its application user), what its
 * roles let it do (privileges), how a user key resolves (primary key or the
 * `azureactivedirectoryobjectid` alternate key, with just-in-time creation of an eligible user,
 * https://learn.microsoft.com/power-apps/developer/data-platform/aad-group-team), and when a role
 * can be assigned to a user (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/associate-disassociate-entities-using-web-api).
 */

import { isGuid, stableGuid } from "../core/ids.ts";
import { incompatibleOperandsMessage } from "../core/odata/index.ts";
import type { SandboxRequest } from "../core/types.ts";
import { badQuery, DataverseErrorCode, DataverseHttpError, notFound } from "./errors.ts";
import type { Call } from "./handlers.ts";
import { type EntityInfo, SYSTEMUSER } from "./rows.ts";
import type { DataverseEnvironmentState, DataversePrivilege, RoleRow, SystemUserRow } from "./state.ts";
import { isEligibleForDataverse, provisionSystemUser } from "./sync.ts";

/** The calling application user; 403 0x80072560 when the app has no enabled application user. */
export function identifyCaller(env: DataverseEnvironmentState, req: SandboxRequest): SystemUserRow {
  const appId = req.token.appid;
  const caller = env.systemUsers.find(
    (u) =>
      u.applicationid !== null &&
      u.applicationid.toLowerCase() === appId.toLowerCase() &&
      u.deletedstate === 0,
  );
  if (!caller || caller.isdisabled) {
    throw new DataverseHttpError(
      403,
      DataverseErrorCode.notMemberOfOrganization,
      "The user is not a member of the organization.",
    );
  }
  return caller;
}

export function privilegesOf(env: DataverseEnvironmentState, user: SystemUserRow): Set<string> {
  const out = new Set<string>();
  // Effective privileges are the union of the user's roles and its teams' roles.
  const teamRoles = (env.teams ?? [])
    .filter((t) => t.memberids.includes(user.systemuserid))
    .flatMap((t) => t.roleids);
  for (const id of [...user.roleids, ...teamRoles]) {
    const role = env.roles.find((r) => r.roleid === id);
    for (const p of role?.privileges ?? []) out.add(p);
  }
  return out;
}

/** 403 0x80040220 "Principal user ... is missing <privilege>" unless the caller holds it. */
export function requirePrivilege(call: Call, privilege: DataversePrivilege, entity: EntityInfo): void {
  const held = privilegesOf(call.env, call.caller);
  if (held.has("*") || held.has(privilege)) return;
  const u = call.caller;
  throw new DataverseHttpError(
    403,
    DataverseErrorCode.privilegeDenied,
    `Principal user (Id=${u.systemuserid}, type=8, roleCount=${u.roleids.length}, privilegeCount=${held.size}, accessMode=${u.accessmode}), is missing ${privilege} privilege (Id=${stableGuid("privilege", privilege)}) on OTC=${entity.objectTypeCode} for entity '${entity.logicalName}'. context.Caller=${u.systemuserid}. Consider assigning a role with the required privilege to the user or team.`,
  );
}

export function parseKeyGuid(entity: EntityInfo, key: string): string {
  if (!isGuid(key)) {
    throw badQuery(
      `Bad Request - Error in query syntax. The key value '${key}' is not a valid ${entity.primaryKey} (Edm.Guid).`,
    );
  }
  return key.toLowerCase();
}

/**
 * Resolves `systemusers(<guid>)` or `systemusers(azureactivedirectoryobjectid=<guid>)`.
 * With `jit`, a missing but eligible Entra user is created just in time (reference §2.4, §13 7b).
 */
export function resolveSystemUser(call: Call, key: string, jit: boolean): SystemUserRow {
  const alt = /^\s*azureactivedirectoryobjectid\s*=\s*(.*?)\s*$/.exec(key);
  if (!alt) {
    if (key.includes("=")) {
      throw badQuery(`The key '${key}' is not a primary key or an alternate key of systemuser.`);
    }
    const id = parseKeyGuid(SYSTEMUSER, key);
    const row = call.env.systemUsers.find((u) => u.systemuserid === id);
    if (!row) throw notFound("systemuser", id);
    return row;
  }
  const oid = (alt[1] as string).toLowerCase();
  if (!isGuid(oid)) {
    throw badQuery(incompatibleOperandsMessage("Edm.Guid", "Edm.String", "eq"));
  }
  const existing = call.env.systemUsers.find((u) => u.azureactivedirectoryobjectid?.toLowerCase() === oid);
  const entraUser = call.ctx.state.entra.users.find((u) => u.id.toLowerCase() === oid);
  const eligible =
    entraUser !== undefined && isEligibleForDataverse(entraUser, call.ctx.state.entra, "onDemand");
  if (
    jit &&
    entraUser &&
    eligible &&
    (!existing || (existing.isdisabled && existing.applicationid === null))
  ) {
    // On-demand add also re-enables a disabled user who is entitled again (reference §8.1).
    const row = provisionSystemUser(call.env, entraUser, call.ctx.state.entra, call.ctx.now());
    call.ctx.changed();
    return row;
  }
  if (existing) return existing;
  // A user who is not eligible is not created; Dataverse answers as for an alternate-key miss
  // (0x80060891, reference §5 [COMMUNITY]; the exact answer for an ineligible user is UNCONFIRMED).
  throw new DataverseHttpError(
    404,
    DataverseErrorCode.alternateKeyNotFound,
    "A record with the specified key values does not exist in systemuser entity",
  );
}

/** Template ids of the roles only a System Administrator may assign (role template table). */
const SYSTEM_ADMINISTRATOR_TEMPLATE = "627090ff-40a3-4053-8790-584edc5be201";
const SYSTEM_CUSTOMIZER_TEMPLATE = "119f245c-3cc8-4b62-b31c-d1a046ced15d";

/**
 * Whether `caller` may assign `role`: a caller who is not System Administrator "cannot assign
 * System Administrator, System Customizer, or any security roles that have a higher privilege"
 * than its own (https://learn.microsoft.com/power-platform/admin/prevent-elevation-security-role-privilege).
 * The refusal's code and text are UNCONFIRMED: 403 `0x80040220` PrivilegeDenied (see docs/fidelity.md).
 */
export function checkNoElevation(env: DataverseEnvironmentState, caller: SystemUserRow, role: RoleRow): void {
  const held = privilegesOf(env, caller);
  if (held.has("*")) return;
  const reserved =
    role.roletemplateid === SYSTEM_ADMINISTRATOR_TEMPLATE ||
    role.roletemplateid === SYSTEM_CUSTOMIZER_TEMPLATE;
  const beyond = role.privileges.filter((p) => p === "*" || !held.has(p));
  if (!reserved && beyond.length === 0) return;
  throw new DataverseHttpError(
    403,
    DataverseErrorCode.privilegeDenied,
    `The user does not hold the necessary privileges. Principal user (Id=${caller.systemuserid}) cannot assign the security role '${role.name}' (Id=${role.roleid}): it ${reserved ? "is reserved to System Administrators" : `has privileges the user does not hold (${beyond.join(", ")})`}.`,
  );
}

/**
 * Whether `role` may be assigned to `user` (throws the refusal): enabled users only unless
 * `allowRoleAssignmentOnDisabledUsers`, the user's own business unit unless record ownership
 * across business units is on (`UserInWrongBusiness`, documented with its text in
 * https://learn.microsoft.com/power-apps/developer/data-platform/reference/web-service-error-codes),
 * and no duplicate.
 */
export function checkRoleAssignment(
  env: DataverseEnvironmentState,
  user: SystemUserRow,
  role: RoleRow,
): void {
  const roleid = role.roleid;
  const { settings } = env;
  if (user.isdisabled && !settings.allowRoleAssignmentOnDisabledUsers) {
    // The documented code for a disabled user; the HTTP status is UNCONFIRMED (400 chosen).
    throw new DataverseHttpError(
      400,
      DataverseErrorCode.userDisabled,
      "The specified user is either disabled or is not a member of any business unit.",
    );
  }
  if (role.businessunitid !== user.businessunitid && !settings.recordOwnershipAcrossBusinessUnits) {
    // HTTP status UNCONFIRMED (400 chosen); code and text are the documented ones.
    throw new DataverseHttpError(
      400,
      DataverseErrorCode.userInWrongBusiness,
      `Cannot associate security role because the security role's Business Unit is not the same as the user's Business Unit. Details: userid=${user.systemuserid}, userBU=${user.businessunitid}, roleId=${role.roleid}, roleBU=${role.businessunitid}`,
    );
  }
  if (user.roleids.includes(roleid)) {
    // 0x80040237 DuplicateRecord; the docs map DuplicateRecord to 412.
    throw new DataverseHttpError(
      412,
      DataverseErrorCode.duplicateRecord,
      "Cannot insert duplicate key. A record with matching key values already exists.",
    );
  }
}
