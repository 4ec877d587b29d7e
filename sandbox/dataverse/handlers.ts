/**
 * Routes of the Dataverse Web API (`/api/data/v9.x/...`) for one environment.
 *
 * Behaviour follows reference dataverse.md (§2 tables, §3 role association, §4 paging, §5 errors,
 * §8 users) and Microsoft Learn:
 * https://learn.microsoft.com/power-apps/developer/data-platform/webapi/associate-disassociate-entities-using-web-api
 * https://learn.microsoft.com/power-apps/developer/data-platform/aad-group-team (JIT by alternate key)
 * https://learn.microsoft.com/power-platform/admin/create-edit-business-units (roles on BU change)
 */
import { incompatibleOperandsMessage } from "../core/odata/index.ts";
import type { SandboxRequest, SandboxResponse, ServiceContext } from "../core/types.ts";
import {
  badQuery,
  DataverseErrorCode,
  DataverseHttpError,
  dataverseJson,
  dataverseNoContent,
  notEmulated,
  notFound,
} from "./errors.ts";
import { isGuid, stableGuid } from "./ids.ts";
import { collectionResponse, entityResponse, type Navigation } from "./query.ts";
import {
  BUSINESSUNIT,
  businessUnitToWire,
  type EntityInfo,
  ROLE,
  roleToWire,
  SYSTEMUSER,
  systemUserToWire,
} from "./rows.ts";
import type { DataverseEnvironmentState, DataversePrivilege, SystemUserRow } from "./state.ts";
import { isEligibleForDataverse, provisionSystemUser, rootBusinessUnitId } from "./sync.ts";

/** Entity sets that exist in real Dataverse but that the sandbox does not emulate: a loud 501. */
const KNOWN_UNEMULATED = new Set([
  "$batch",
  "$metadata",
  "teams",
  "accounts",
  "contacts",
  "organizations",
  "RetrieveAadUserRoles",
  "RetrieveAadUserPrivileges",
  "EntityDefinitions",
]);

/** One parsed path segment: `name`, `name(<guid>)` or `name(key=value,...)`. */
interface Segment {
  name: string;
  /** Raw text between the parentheses, if any. */
  key?: string;
}

function parseSegment(raw: string): Segment {
  const text = decodeURIComponent(raw);
  const m = /^([^()]+)(?:\((.*)\))?$/s.exec(text);
  if (!m) throw badQuery(`Resource not found for the segment '${text}'.`, 404);
  return m[2] === undefined ? { name: m[1] as string } : { name: m[1] as string, key: m[2] };
}

/** Everything a route needs. */
interface Call {
  req: SandboxRequest;
  ctx: ServiceContext;
  env: DataverseEnvironmentState;
  caller: SystemUserRow;
  /** `<origin>/api/data/v9.2` as the client addressed it. */
  apiBase: string;
}

/** The calling application user; 403 0x80072560 when the app has no enabled application user. */
function identifyCaller(env: DataverseEnvironmentState, req: SandboxRequest): SystemUserRow {
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

function privilegesOf(env: DataverseEnvironmentState, user: SystemUserRow): Set<string> {
  const out = new Set<string>();
  for (const id of user.roleids) {
    const role = env.roles.find((r) => r.roleid === id);
    for (const p of role?.privileges ?? []) out.add(p);
  }
  return out;
}

/** 403 0x80040220 "Principal user ... is missing <privilege>" unless the caller holds it. */
function requirePrivilege(call: Call, privilege: DataversePrivilege, entity: EntityInfo): void {
  const held = privilegesOf(call.env, call.caller);
  if (held.has("*") || held.has(privilege)) return;
  const u = call.caller;
  throw new DataverseHttpError(
    403,
    DataverseErrorCode.privilegeDenied,
    `Principal user (Id=${u.systemuserid}, type=8, roleCount=${u.roleids.length}, privilegeCount=${held.size}, accessMode=${u.accessmode}), is missing ${privilege} privilege (Id=${stableGuid("privilege", privilege)}) on OTC=${entity.objectTypeCode} for entity '${entity.logicalName}'. context.Caller=${u.systemuserid}. Consider assigning a role with the required privilege to the user or team.`,
  );
}

function parseKeyGuid(entity: EntityInfo, key: string): string {
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
function resolveSystemUser(call: Call, key: string, jit: boolean): SystemUserRow {
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
  const eligible = entraUser !== undefined && isEligibleForDataverse(entraUser, call.ctx.state.entra);
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

function rolesOf(env: DataverseEnvironmentState, user: SystemUserRow): Record<string, unknown>[] {
  return user.roleids.flatMap((id) => {
    const role = env.roles.find((r) => r.roleid === id);
    return role ? [roleToWire(env, role)] : [];
  });
}

/** `businessunitid`: the owning business unit of a systemuser or role row (single-valued). */
function businessUnitNavigation(env: DataverseEnvironmentState): Navigation {
  return {
    target: BUSINESSUNIT,
    collection: false,
    related: (parent) =>
      env.businessUnits
        .filter((b) => b.businessunitid === parent._businessunitid_value)
        .map((b) => businessUnitToWire(env, b)),
  };
}

function systemUserNavigations(env: DataverseEnvironmentState): Record<string, Navigation> {
  return {
    systemuserroles_association: {
      target: ROLE,
      collection: true,
      related: (parent) => {
        const user = env.systemUsers.find((u) => u.systemuserid === parent.systemuserid);
        return user ? rolesOf(env, user) : [];
      },
    },
    businessunitid: businessUnitNavigation(env),
  };
}

function roleNavigations(env: DataverseEnvironmentState): Record<string, Navigation> {
  return {
    businessunitid: businessUnitNavigation(env),
  };
}

function collection(
  call: Call,
  entity: EntityInfo,
  rows: Record<string, unknown>[],
  navs: Record<string, Navigation>,
): SandboxResponse {
  const { body, headers } = collectionResponse(call.req, entity, rows, navs, call.apiBase);
  return dataverseJson(call.req, 200, body, headers);
}

function single(
  call: Call,
  entity: EntityInfo,
  row: Record<string, unknown>,
  navs: Record<string, Navigation>,
): SandboxResponse {
  return dataverseJson(call.req, 200, entityResponse(call.req, entity, row, navs, call.apiBase));
}

/** Extracts the role id from an `@odata.id` (absolute or relative `roles(<guid>)`). */
function roleIdFromReference(reference: unknown): string {
  if (typeof reference !== "string" || reference.trim() === "") {
    throw badQuery("The payload must contain '@odata.id' with the URL of the related record.");
  }
  let path = reference.trim();
  if (/^https?:\/\//i.test(path)) {
    let url: URL;
    try {
      url = new URL(path);
    } catch {
      throw badQuery(`The URI '${reference}' is not valid.`);
    }
    path = decodeURIComponent(url.pathname).replace(/^\/api\/data\/v9\.\d\//, "");
  }
  const m = /^\/?roles\((.*)\)$/.exec(path);
  if (!m || !isGuid(m[1] as string)) {
    // TF maps 0x80060888 carrying the role id to "role with id X is not valid" (reference §3).
    throw badQuery(
      `The URI '${reference}' does not address a record of roles: invalid role id '${m?.[1] ?? path}'.`,
    );
  }
  return (m[1] as string).toLowerCase();
}

function bump(call: Call, user: SystemUserRow): void {
  user.versionnumber = call.env.nextVersion++;
  user.modifiedon = new Date(call.ctx.now()).toISOString();
  call.ctx.changed();
}

function associateRole(call: Call, userKey: string): SandboxResponse {
  requirePrivilege(call, "prvAssignRole", ROLE);
  const body = call.req.body as Record<string, unknown> | undefined;
  const roleid = roleIdFromReference(body?.["@odata.id"]);
  const user = resolveSystemUser(call, userKey, true);
  const role = call.env.roles.find((r) => r.roleid === roleid);
  if (!role) throw notFound("role", roleid);
  const { settings } = call.env;
  if (user.isdisabled && !settings.allowRoleAssignmentOnDisabledUsers) {
    // Reference §3: roles only on enabled users unless allowRoleAssignmentOnDisabledUsers (code UNCONFIRMED).
    throw new DataverseHttpError(
      400,
      DataverseErrorCode.userDisabled,
      `The user with SystemUserId = ${user.systemuserid} is disabled. Security roles cannot be assigned to disabled users.`,
    );
  }
  if (role.businessunitid !== user.businessunitid && !settings.recordOwnershipAcrossBusinessUnits) {
    // Reference §3 / §13 item 2: same business unit unless record ownership across BUs (payload UNCONFIRMED).
    throw new DataverseHttpError(
      400,
      DataverseErrorCode.invalidArgument,
      `The role with id ${role.roleid} belongs to business unit ${role.businessunitid}, but the user with id ${user.systemuserid} belongs to business unit ${user.businessunitid}. A user can only be assigned roles of their own business unit.`,
    );
  }
  if (user.roleids.includes(roleid)) {
    // Reference §5: 0x80040237 DuplicateRecord; the docs map DuplicateRecord to 412.
    throw new DataverseHttpError(
      412,
      DataverseErrorCode.duplicateRecord,
      "Cannot insert duplicate key. A record with matching key values already exists.",
    );
  }
  user.roleids.push(roleid);
  bump(call, user);
  return dataverseNoContent(call.req);
}

function disassociateRole(call: Call, userKey: string, roleid: string): SandboxResponse {
  requirePrivilege(call, "prvAssignRole", ROLE);
  const user = resolveSystemUser(call, userKey, false);
  if (!call.env.roles.some((r) => r.roleid === roleid)) throw notFound("role", roleid);
  // Removing a role the user lacks: the real answer is UNCONFIRMED (TF accepts 204/403/404);
  // the sandbox treats disassociation as idempotent and answers 204.
  if (user.roleids.includes(roleid)) {
    user.roleids = user.roleids.filter((id) => id !== roleid);
    bump(call, user);
  }
  return dataverseNoContent(call.req);
}

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

function bodyObject(req: SandboxRequest): Record<string, unknown> {
  if (req.body === null || typeof req.body !== "object" || Array.isArray(req.body)) {
    throw badQuery("The request body must be a JSON object.");
  }
  return req.body as Record<string, unknown>;
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

function updateSystemUser(call: Call, userKey: string): SandboxResponse {
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
      // Only licensed (or support / non-interactive) users can be enabled (reference §2.1; code UNCONFIRMED).
      const entraUser = call.ctx.state.entra.users.find((u) => u.id === user.azureactivedirectoryobjectid);
      if (!entraUser || !isEligibleForDataverse(entraUser, call.ctx.state.entra)) {
        throw new DataverseHttpError(
          400,
          DataverseErrorCode.invalidArgument,
          `The user with SystemUserId = ${user.systemuserid} cannot be enabled: the user is not enabled and licensed in Microsoft Entra ID.`,
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
      // DoNotRemoveRolesOnChangeBusinessUnit is set (reference §3, create-edit-business-units).
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

function createSystemUser(call: Call): SandboxResponse {
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
    // (reference §8.4, [COMMUNITY] "rejected with 400"; exact code UNCONFIRMED).
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

function deleteSystemUser(call: Call, userKey: string): SandboxResponse {
  requirePrivilege(call, "prvDeleteUser", SYSTEMUSER);
  const user = resolveSystemUser(call, userKey, false);
  if (user.systemuserid === call.caller.systemuserid) {
    throw new DataverseHttpError(400, DataverseErrorCode.invalidArgument, "A user cannot delete themselves.");
  }
  if (user.applicationid === null) {
    const entraUser = call.ctx.state.entra.users.find((u) => u.id === user.azureactivedirectoryobjectid);
    if (entraUser) {
      // Reference §8.5: delete the user in Entra first (unless AuthorizationSkipAadUserStateValidation).
      throw new DataverseHttpError(
        400,
        DataverseErrorCode.invalidArgument,
        `The user with SystemUserId = ${user.systemuserid} still exists in Microsoft Entra ID; delete the user there first.`,
      );
    }
  }
  if (user.deletedstate === 0) {
    // First DELETE soft-deletes (reference §8.5 step 4); a second one purges.
    user.deletedstate = 1;
    user.isdisabled = true;
    bump(call, user);
  } else {
    call.env.systemUsers = call.env.systemUsers.filter((u) => u !== user);
    call.ctx.changed();
  }
  return dataverseNoContent(call.req);
}

function whoAmI(call: Call): SandboxResponse {
  return dataverseJson(call.req, 200, {
    "@odata.context": `${call.apiBase}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`,
    BusinessUnitId: call.caller.businessunitid,
    UserId: call.caller.systemuserid,
    OrganizationId: call.env.organizationId,
  });
}

function methodNotAllowed(call: Call): SandboxResponse {
  throw badQuery(`The requested resource does not support http method '${call.req.method}'.`, 405);
}

function unrouted(req: SandboxRequest): SandboxResponse {
  return notEmulated(`The sandbox does not emulate ${req.method} ${req.url.pathname} (Dataverse Web API).`);
}

/** Routes one request below `/api/data/v9.x/`. */
export function routeDataverse(
  req: SandboxRequest,
  ctx: ServiceContext,
  env: DataverseEnvironmentState,
  rest: string[],
  apiBase: string,
): SandboxResponse {
  const caller = identifyCaller(env, req);
  const call: Call = { req, ctx, env, caller, apiBase };
  const method = req.method.toUpperCase();
  const [first, second, third, fourth] = rest.map(parseSegment);
  if (!first) return unrouted(req);
  if (first.name === "WhoAmI" && (first.key === undefined || first.key === "") && !second) {
    return method === "GET" ? whoAmI(call) : methodNotAllowed(call);
  }
  if (KNOWN_UNEMULATED.has(first.name)) return unrouted(req);
  if (first.name === "systemusers") {
    if (first.key === undefined) {
      if (second) return unrouted(req);
      if (method === "GET") {
        requirePrivilege(call, "prvReadUser", SYSTEMUSER);
        return collection(
          call,
          SYSTEMUSER,
          env.systemUsers.map((u) => systemUserToWire(env, u)),
          systemUserNavigations(env),
        );
      }
      if (method === "POST") return createSystemUser(call);
      return methodNotAllowed(call);
    }
    const key = first.key;
    if (!second) {
      if (method === "GET") {
        requirePrivilege(call, "prvReadUser", SYSTEMUSER);
        const user = resolveSystemUser(call, key, false);
        return single(call, SYSTEMUSER, systemUserToWire(env, user), systemUserNavigations(env));
      }
      if (method === "PATCH") return updateSystemUser(call, key);
      if (method === "DELETE") return deleteSystemUser(call, key);
      return methodNotAllowed(call);
    }
    if (second.name === "systemuserroles_association") {
      if (second.key === undefined && !third) {
        if (method !== "GET") return methodNotAllowed(call);
        requirePrivilege(call, "prvReadRole", ROLE);
        const user = resolveSystemUser(call, key, false);
        return collection(call, ROLE, rolesOf(env, user), roleNavigations(env));
      }
      if (second.key === undefined && third?.name === "$ref" && !fourth) {
        if (method === "POST") return associateRole(call, key);
        if (method === "DELETE") {
          const id = req.url.searchParams.get("$id");
          if (id === null)
            throw badQuery("The $id query option is required to delete a reference from a collection.");
          return disassociateRole(call, key, roleIdFromReference(id));
        }
        return methodNotAllowed(call);
      }
      if (second.key !== undefined && third?.name === "$ref" && !fourth) {
        if (method !== "DELETE") return methodNotAllowed(call);
        return disassociateRole(call, key, parseKeyGuid(ROLE, second.key));
      }
    }
    return unrouted(req);
  }
  if (first.name === "roles" || first.name === "businessunits") {
    if (second) return unrouted(req);
    if (method !== "GET") return unrouted(req);
    const isRole = first.name === "roles";
    const entity = isRole ? ROLE : BUSINESSUNIT;
    requirePrivilege(call, isRole ? "prvReadRole" : "prvReadBusinessUnit", entity);
    const navs = isRole ? roleNavigations(env) : {};
    if (first.key === undefined) {
      const rows = isRole
        ? env.roles.map((r) => roleToWire(env, r))
        : env.businessUnits.map((b) => businessUnitToWire(env, b));
      return collection(call, entity, rows, navs);
    }
    const id = parseKeyGuid(entity, first.key);
    const row = isRole
      ? env.roles.find((r) => r.roleid === id)
      : env.businessUnits.find((b) => b.businessunitid === id);
    if (!row) throw notFound(entity.logicalName, id);
    const wire = isRole
      ? roleToWire(env, row as (typeof env.roles)[number])
      : businessUnitToWire(env, row as (typeof env.businessUnits)[number]);
    return single(call, entity, wire, navs);
  }
  // Not a Dataverse entity set or function: the service's own 404 (reference §5).
  throw badQuery(`Resource not found for the segment '${first.name}'.`, 404);
}
