/**
 * Admin routes of Dataverse (`/dataverse/<env>/...` on the admin origin), to set up a case
 * without editing the state file:
 *
 *   PUT   /dataverse/<env>/apps/<appId>/roles {roles: [name], businessUnit?}
 *            → 200: the app's application user (created if missing) holds exactly these roles
 *   POST  /dataverse/<env>/roles {name, privileges?: [prv…], businessUnit?}
 *            → 201 {roleid}: a custom role (a root-unit role is copied into every other unit)
 *   POST  /dataverse/<env>/users/<objectId>/roles {roles: [name]}
 *            → 200: hand-granted roles (the user's row is created if the Entra user exists)
 *   PATCH /dataverse/<env>/settings {recordOwnershipAcrossBusinessUnits?,
 *            doNotRemoveRolesOnChangeBusinessUnit?, allowRoleAssignmentOnDisabledUsers?} → 200
 */
import { AdminInputError, adminJson, flag, text, texts } from "../core/admin-input.ts";
import { stableGuid } from "../core/ids.ts";
import type { Route } from "../core/routes.ts";
import type { AdminCall, ServiceContext } from "../core/types.ts";
import { addRoleRow } from "./seed.ts";
import {
  DATAVERSE_PRIVILEGES,
  type DataverseEnvironmentState,
  type DataversePrivilege,
  type SystemUserRow,
} from "./state.ts";
import { provisionSystemUser, rootBusinessUnitId } from "./sync.ts";

const PRIVILEGES: readonly string[] = [...DATAVERSE_PRIVILEGES, "*"];

function environment(ctx: ServiceContext, name: string): DataverseEnvironmentState {
  const env = ctx.state.dataverse[name];
  if (!env) throw new AdminInputError(`no Dataverse environment '${name}'`);
  return env;
}

function unitId(env: DataverseEnvironmentState, name: string | undefined): string {
  if (name === undefined) return rootBusinessUnitId(env);
  const unit = env.businessUnits.find((b) => b.name === name);
  if (!unit) throw new AdminInputError(`no business unit '${name}'`);
  return unit.businessunitid;
}

function rolesNamed(env: DataverseEnvironmentState, names: string[], unit: string): string[] {
  return names.map((name) => {
    const role = env.roles.find((r) => r.name === name && r.businessunitid === unit);
    if (!role) throw new AdminInputError(`no role '${name}' in business unit ${unit}`);
    return role.roleid;
  });
}

function bump(ctx: ServiceContext, env: DataverseEnvironmentState, row: SystemUserRow): void {
  row.versionnumber = env.nextVersion++;
  row.modifiedon = new Date(ctx.now()).toISOString();
  ctx.changed();
}

function setAppRoles({ ctx, body }: AdminCall, envName: string, appId: string) {
  const env = environment(ctx, envName);
  const app = ctx.state.entra.apps.find((a) => a.appId.toLowerCase() === appId.toLowerCase());
  if (!app) throw new AdminInputError(`no app registration ${appId}`);
  const unit = unitId(env, text(body, "businessUnit", true));
  let row = env.systemUsers.find(
    (u) => u.applicationid?.toLowerCase() === app.appId.toLowerCase() && u.deletedstate === 0,
  );
  if (!row) {
    const now = new Date(ctx.now()).toISOString();
    row = {
      systemuserid: stableGuid(env.organizationId, "systemuser", "app", app.appId.toLowerCase()),
      azureactivedirectoryobjectid: app.servicePrincipalId,
      domainname: `${app.appId}@${ctx.state.entra.verifiedDomains[0] ?? "contoso.example"}`,
      internalemailaddress: null,
      windowsliveid: null,
      fullname: `# ${app.displayName}`,
      firstname: "#",
      lastname: app.displayName,
      isdisabled: false,
      islicensed: false,
      accessmode: 4,
      caltype: 0,
      applicationid: app.appId.toLowerCase(),
      businessunitid: unit,
      setupuser: false,
      issyncwithdirectory: false,
      deletedstate: 0,
      versionnumber: env.nextVersion++,
      createdon: now,
      modifiedon: now,
      roleids: [],
    };
    env.systemUsers.push(row);
  }
  row.businessunitid = unit;
  row.roleids = rolesNamed(env, texts(body, "roles"), unit);
  bump(ctx, env, row);
  return adminJson(200, { systemuserid: row.systemuserid, roleids: row.roleids });
}

function addRole({ ctx, body }: AdminCall, envName: string) {
  const env = environment(ctx, envName);
  const name = text(body, "name");
  const unit = unitId(env, text(body, "businessUnit", true));
  if (env.roles.some((r) => r.name === name && r.businessunitid === unit))
    throw new AdminInputError(`a role '${name}' exists in that business unit`);
  const privileges = texts(body, "privileges");
  const unknown = privileges.find((p) => !PRIVILEGES.includes(p));
  if (unknown) throw new AdminInputError(`unknown privilege '${unknown}' (known: ${PRIVILEGES.join(", ")})`);
  const { roleid } = addRoleRow(env, {
    name,
    unit,
    managed: false,
    privileges: privileges as (DataversePrivilege | "*")[],
    now: new Date(ctx.now()).toISOString(),
  });
  ctx.changed();
  return adminJson(201, { roleid });
}

function grantUserRoles({ ctx, body }: AdminCall, envName: string, objectId: string) {
  const env = environment(ctx, envName);
  let row = env.systemUsers.find(
    (u) =>
      u.azureactivedirectoryobjectid?.toLowerCase() === objectId.toLowerCase() && u.applicationid === null,
  );
  if (!row) {
    const user = ctx.state.entra.users.find((u) => u.id.toLowerCase() === objectId.toLowerCase());
    if (!user) throw new AdminInputError(`no Entra user ${objectId}`);
    row = provisionSystemUser(env, user, ctx.state.entra, ctx.now());
  }
  for (const id of rolesNamed(env, texts(body, "roles"), row.businessunitid))
    if (!row.roleids.includes(id)) row.roleids.push(id);
  bump(ctx, env, row);
  return adminJson(200, { systemuserid: row.systemuserid, roleids: row.roleids });
}

function changeSettings({ ctx, body }: AdminCall, envName: string) {
  const env = environment(ctx, envName);
  for (const key of Object.keys(env.settings) as (keyof DataverseEnvironmentState["settings"])[]) {
    const value = flag(body, key);
    if (value !== undefined) env.settings[key] = value;
  }
  const unknown = Object.keys(body).find((k) => !(k in env.settings));
  if (unknown) throw new AdminInputError(`unknown setting '${unknown}'`);
  ctx.changed();
  return adminJson(200, env.settings);
}

const decode = (s: string | undefined) => decodeURIComponent(s ?? "");

export const DATAVERSE_ADMIN_ROUTES: Route<AdminCall>[] = [
  {
    method: "PUT",
    path: /^\/([^/]+)\/apps\/([^/]+)\/roles$/,
    handler: (call, [env, app]) => setAppRoles(call, decode(env), decode(app)),
  },
  { method: "POST", path: /^\/([^/]+)\/roles$/, handler: (call, [env]) => addRole(call, decode(env)) },
  {
    method: "POST",
    path: /^\/([^/]+)\/users\/([^/]+)\/roles$/,
    handler: (call, [env, oid]) => grantUserRoles(call, decode(env), decode(oid)),
  },
  {
    method: "PATCH",
    path: /^\/([^/]+)\/settings$/,
    handler: (call, [env]) => changeSettings(call, decode(env)),
  },
];
