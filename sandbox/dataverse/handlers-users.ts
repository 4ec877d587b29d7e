/**
 * Handlers of `systemusers`: list, get (by primary or alternate key), create (application users
 * only), update (names, `isdisabled`, business unit), delete (soft, then purge).
 * https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/systemuser
 */

import { isGuid, stableGuid } from "../core/ids.ts";
import type { SandboxResponse } from "../core/types.ts";
import {
  badQuery,
  DataverseErrorCode,
  DataverseHttpError,
  dataverseJson,
  dataverseNoContent,
  notFound,
} from "./errors.ts";
import { bodyObject, bump, type Call, collection, single } from "./handlers.ts";
import { entityResponse } from "./query.ts";
import { SYSTEMUSER, systemUserNavigations, systemUserToWire } from "./rows.ts";
import { privilegesOf, requirePrivilege, resolveSystemUser } from "./rules.ts";
import { DATAVERSE_PRIVILEGES, type SystemUserRow } from "./state.ts";
import { hasDataverseLicense, isEligibleForDataverse, rootBusinessUnitId } from "./sync.ts";

const WRITABLE_SYSTEMUSER_COLUMNS = [
  "firstname",
  "lastname",
  "domainname",
  "internalemailaddress",
  "isdisabled",
];

const READONLY_SYSTEMUSER_COLUMNS = [
  "systemuserid",
  "azureactivedirectoryobjectid",
  "islicensed",
  "fullname",
  "windowsliveid",
  "applicationid",
  "accessmode",
  "caltype",
  "issyncwithdirectory",
  "setupuser",
];

function parseBusinessUnitBind(call: Call, value: unknown): string {
  const m = typeof value === "string" ? /businessunits\(([^)]*)\)\s*$/.exec(value) : null;
  if (!m || !isGuid(m[1] as string))
    throw badQuery(`The value of 'businessunitid@odata.bind' is not a valid URI.`);
  const id = (m[1] as string).toLowerCase();
  if (!call.env.businessUnits.some((b) => b.businessunitid === id)) throw notFound("businessunit", id);
  return id;
}

function checkColumns(body: Record<string, unknown>, allowed: string[]): void {
  for (const key of Object.keys(body)) {
    if (key.startsWith("@")) continue;
    if (allowed.includes(key) || READONLY_SYSTEMUSER_COLUMNS.includes(key)) continue;
    throw badQuery(
      `The property '${key}' does not exist on type 'Microsoft.Dynamics.CRM.systemuser'. Make sure to only use property names that are defined by the type.`,
    );
  }
}

/** `GET systemusers`. */
export function listSystemUsers(call: Call): SandboxResponse {
  requirePrivilege(call, "prvReadUser", SYSTEMUSER);
  const env = call.env;
  return collection(
    call,
    SYSTEMUSER,
    env.systemUsers.map((u) => systemUserToWire(env, u)),
    systemUserNavigations(env),
  );
}

/**
 * `GET systemusers(<key>)/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()`: the privileges the
 * user holds through its roles and its teams' (RolePrivileges with Depth, PrivilegeId,
 * BusinessUnitId, PrivilegeName; https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/retrieveuserprivileges).
 * Reading them needs prvReadUser (UNCONFIRMED: the page names none; the safe, stricter choice).
 */
export function retrieveUserPrivileges(call: Call, key: string): SandboxResponse {
  requirePrivilege(call, "prvReadUser", SYSTEMUSER);
  const user = resolveSystemUser(call, key, false);
  const held = privilegesOf(call.env, user);
  const names = held.has("*") ? [...DATAVERSE_PRIVILEGES] : DATAVERSE_PRIVILEGES.filter((p) => held.has(p));
  return dataverseJson(call.req, 200, {
    "@odata.context": `${call.apiBase}/$metadata#Microsoft.Dynamics.CRM.RetrieveUserPrivilegesResponse`,
    RolePrivileges: names.map((name) => ({
      Depth: "Global",
      PrivilegeId: stableGuid("privilege", name),
      BusinessUnitId: user.businessunitid,
      PrivilegeName: name,
    })),
  });
}

/** `GET systemusers(<key>)`. */
export function getSystemUser(call: Call, key: string): SandboxResponse {
  requirePrivilege(call, "prvReadUser", SYSTEMUSER);
  const user = resolveSystemUser(call, key, false);
  return single(call, SYSTEMUSER, systemUserToWire(call.env, user), systemUserNavigations(call.env));
}

export function updateSystemUser(call: Call, userKey: string): SandboxResponse {
  requirePrivilege(call, "prvWriteUser", SYSTEMUSER);
  const user = resolveSystemUser(call, userKey, false);
  const body = bodyObject(call.req);
  checkColumns(body, [...WRITABLE_SYSTEMUSER_COLUMNS, "businessunitid@odata.bind"]);
  if ("isdisabled" in body) {
    if (typeof body.isdisabled !== "boolean") throw badQuery("The value of 'isdisabled' must be a boolean.");
    if (
      !body.isdisabled &&
      user.isdisabled &&
      user.applicationid === null &&
      user.azureactivedirectoryobjectid
    ) {
      // Only licensed (or support / non-interactive) users can be enabled
      // (https://learn.microsoft.com/power-apps/developer/data-platform/user-team-entities; code UNCONFIRMED).
      const entraUser = call.ctx.state.entra.users.find((u) => u.id === user.azureactivedirectoryobjectid);
      if (entraUser?.accountEnabled && !hasDataverseLicense(entraUser, call.ctx.state.entra, "onDemand")) {
        // UserCannotEnableWithoutLicense (documented code and text); status UNCONFIRMED (400 chosen).
        throw new DataverseHttpError(
          400,
          DataverseErrorCode.userCannotEnableWithoutLicense,
          "Cannot enable an unlicensed user",
        );
      }
      if (!entraUser || !isEligibleForDataverse(entraUser, call.ctx.state.entra, "onDemand")) {
        throw new DataverseHttpError(
          400,
          DataverseErrorCode.invalidArgument,
          `The user with SystemUserId = ${user.systemuserid} cannot be enabled: the user is not enabled in Microsoft Entra ID.`,
        );
      }
    }
    user.isdisabled = body.isdisabled;
  }
  for (const column of ["firstname", "lastname", "domainname", "internalemailaddress"] as const) {
    if (column in body) {
      const v = body[column];
      if (v !== null && typeof v !== "string") throw badQuery(`The value of '${column}' must be a string.`);
      if (column === "domainname") user.domainname = (v as string | null) ?? "";
      else user[column] = v as string | null;
    }
  }
  if ("businessunitid@odata.bind" in body) {
    const bu = parseBusinessUnitBind(call, body["businessunitid@odata.bind"]);
    if (bu !== user.businessunitid) {
      user.businessunitid = bu;
      // Changing a user's business unit removes all their roles unless
      // DoNotRemoveRolesOnChangeBusinessUnit is set
      // (https://learn.microsoft.com/power-platform/admin/create-edit-business-units).
      if (!call.env.settings.doNotRemoveRolesOnChangeBusinessUnit) user.roleids = [];
    }
  }
  bump(call, user);
  if (/return=representation/i.test(call.req.headers.prefer ?? "")) {
    return single(call, SYSTEMUSER, systemUserToWire(call.env, user), systemUserNavigations(call.env));
  }
  return dataverseNoContent(call.req, {
    "OData-EntityId": `${call.apiBase}/systemusers(${user.systemuserid})`,
  });
}

export function createSystemUser(call: Call): SandboxResponse {
  requirePrivilege(call, "prvCreateUser", SYSTEMUSER);
  const body = bodyObject(call.req);
  checkColumns(body, [
    ...WRITABLE_SYSTEMUSER_COLUMNS,
    "businessunitid@odata.bind",
    "applicationid",
    "accessmode",
  ]);
  const appId = typeof body.applicationid === "string" ? body.applicationid.toLowerCase() : undefined;
  if (!appId) {
    // Humans come from Entra through the sync, addUser or JIT; a direct create is refused
    // (https://learn.microsoft.com/power-platform/admin/create-users; community scripts report a
    // direct create "rejected with 400"; the exact code is UNCONFIRMED).
    throw new DataverseHttpError(
      400,
      DataverseErrorCode.invalidArgument,
      "Users are added to Dataverse from Microsoft Entra ID. Create an application user by setting applicationid, or add the user through the Power Platform admin center or API.",
    );
  }
  if (!isGuid(appId)) throw badQuery("The value of 'applicationid' must be a GUID.");
  const app = call.ctx.state.entra.apps.find((a) => a.appId.toLowerCase() === appId);
  if (!app) {
    throw new DataverseHttpError(
      400,
      DataverseErrorCode.invalidArgument,
      `The application with id ${appId} was not found in the tenant's Microsoft Entra ID.`,
    );
  }
  if (call.env.systemUsers.some((u) => u.applicationid?.toLowerCase() === appId && u.deletedstate === 0)) {
    throw new DataverseHttpError(
      400,
      DataverseErrorCode.duplicateApplicationUser,
      `An application user with applicationid ${appId} already exists in this organization.`,
    );
  }
  const bu =
    "businessunitid@odata.bind" in body
      ? parseBusinessUnitBind(call, body["businessunitid@odata.bind"])
      : rootBusinessUnitId(call.env);
  const now = new Date(call.ctx.now()).toISOString();
  const row: SystemUserRow = {
    systemuserid: stableGuid(
      call.env.organizationId,
      "systemuser",
      "app",
      appId,
      String(call.env.nextVersion),
    ),
    azureactivedirectoryobjectid: app.servicePrincipalId,
    domainname: `${appId}@${call.ctx.state.entra.verifiedDomains[0] ?? "contoso.example"}`,
    internalemailaddress: null,
    windowsliveid: null,
    fullname: `# ${app.displayName}`,
    firstname: "#",
    lastname: app.displayName,
    isdisabled: body.isdisabled === true,
    islicensed: false,
    accessmode: 4,
    caltype: 0,
    applicationid: appId,
    businessunitid: bu,
    setupuser: false,
    issyncwithdirectory: false,
    deletedstate: 0,
    versionnumber: call.env.nextVersion++,
    createdon: now,
    modifiedon: now,
    roleids: [],
  };
  call.env.systemUsers.push(row);
  call.ctx.changed();
  const entityId = `${call.apiBase}/systemusers(${row.systemuserid})`;
  if (/return=representation/i.test(call.req.headers.prefer ?? "")) {
    const body201 = entityResponse(call.req, SYSTEMUSER, systemUserToWire(call.env, row), {}, call.apiBase);
    return dataverseJson(call.req, 201, body201, { "OData-EntityId": entityId, Location: entityId });
  }
  return dataverseNoContent(call.req, { "OData-EntityId": entityId, Location: entityId });
}

export function deleteSystemUser(call: Call, userKey: string): SandboxResponse {
  requirePrivilege(call, "prvDeleteUser", SYSTEMUSER);
  const user = resolveSystemUser(call, userKey, false);
  if (user.systemuserid === call.caller.systemuserid) {
    throw new DataverseHttpError(400, DataverseErrorCode.invalidArgument, "A user cannot delete themselves.");
  }
  if (user.applicationid === null) {
    const entraUser = call.ctx.state.entra.users.find((u) => u.id === user.azureactivedirectoryobjectid);
    if (entraUser) {
      // Delete the user in Entra first, unless AuthorizationSkipAadUserStateValidation is set
      // (https://learn.microsoft.com/power-platform/admin/delete-users).
      throw new DataverseHttpError(
        400,
        DataverseErrorCode.invalidArgument,
        `The user with SystemUserId = ${user.systemuserid} still exists in Microsoft Entra ID; delete the user there first.`,
      );
    }
  }
  if (user.deletedstate === 0) {
    // First DELETE soft-deletes, a second one purges (delete-users; terraform-provider-power-platform
    // PermanentlyDeleteSystemUser deletes twice).
    user.deletedstate = 1;
    user.isdisabled = true;
    bump(call, user);
  } else {
    call.env.systemUsers = call.env.systemUsers.filter((u) => u !== user);
    call.ctx.changed();
  }
  return dataverseNoContent(call.req);
}
