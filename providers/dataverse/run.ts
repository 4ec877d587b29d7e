/**
 * The run-wide state of `dataverse:User` in the provider process: one client per environment
 * (with the Power Platform admin client for on-demand syncs), and the bulk reads shared by every
 * resource: the catalog (business units and roles) and the users.
 */

import type { Change } from "../core/describe.ts";
import { isApiError } from "../core/errors.ts";
import { errorLine, warning } from "../core/provider.ts";
import { type Runtime, settled } from "../core/runtime.ts";
import { findEnvironment } from "../core/settings.ts";
import {
  type DescribeRequest,
  type ExportContext,
  type ExportedPart,
  type ExportedSystem,
  environmentsOf,
  type PreflightInput,
  type PreflightProblem,
  type PreflightResult,
} from "../core/system.ts";
import { nameKey, normalizeNames, resolveBusinessUnit, resolveRoles, rootBusinessUnit } from "./check.ts";
import { createDataverseClient, type DataverseClient } from "./client.ts";
import { checkedInputs, describeRemoval, describeUser } from "./describe.ts";
import {
  type ActualUser,
  type Caller,
  type Catalog,
  type DataversePerson,
  type DataverseUserOutputs,
  SYSTEM_ADMINISTRATOR_TEMPLATE,
  type SystemUser,
  type TeamRole,
} from "./model.ts";
import { diff, mayAssign, NOT_ASSIGNABLE } from "./plan.ts";
import { dataverse, missingPrivilege, powerPlatform } from "./service.ts";

/** The client of one environment. */
export function clientFor(rt: Runtime, environment: string): DataverseClient {
  const env = findEnvironment(rt.settings, environment);
  return createDataverseClient({
    environment,
    dataverse: rt.client(dataverse, environment),
    powerPlatform: rt.has(powerPlatform) ? rt.client(powerPlatform) : undefined,
    powerPlatformEnvironmentId: env.values.powerPlatformEnvironmentId,
  });
}

/** The environment's business units and roles: two bulk reads per environment and run. */
export function loadCatalog(rt: Runtime, client: DataverseClient): Promise<Catalog> {
  return rt.cached(`dataverse:${client.environment}:catalog`, async () => {
    const [businessUnits, roles] = await settled([client.listBusinessUnits(), client.listRoles()]);
    return { environment: client.environment, businessUnits, roles };
  });
}

/** Every human user of the environment by object id: one bulk read per environment and run. */
export function loadUsers(rt: Runtime, client: DataverseClient): Promise<Map<string, SystemUser>> {
  return rt.cached(`dataverse:${client.environment}:users`, async () => {
    const byObjectId = new Map<string, SystemUser>();
    for (const u of await client.listSystemUsers()) if (u.objectId) byObjectId.set(u.objectId, u);
    return byObjectId;
  });
}

/** After a write the bulk user list of that environment is stale. */
export function forgetUsers(rt: Runtime, environment: string): void {
  rt.invalidate(`dataverse:${environment}:users`);
}

/**
 * The caller (our app's application user): whether it holds System Administrator directly, which
 * decides which roles it may assign. Two requests per environment and run (WhoAmI, its row).
 * Undefined when it cannot be read: then nothing is predicted and Dataverse's answer decides.
 */
export function loadCaller(rt: Runtime, client: DataverseClient): Promise<Caller | undefined> {
  return rt.cached(`dataverse:${client.environment}:caller`, async () => {
    const [me, catalog] = await settled([client.whoAmI(), loadCatalog(rt, client)]);
    const row = await client.getSystemUser(me.userId);
    if (!row?.roles) return undefined;
    const templates = new Map(catalog.roles.map((r) => [r.roleId, r.templateId]));
    return {
      systemAdministrator: row.roles.some(
        (r) => (r.templateId ?? templates.get(r.roleId)) === SYSTEM_ADMINISTRATOR_TEMPLATE,
      ),
    };
  });
}

/**
 * The roles users hold through teams, by lower-case systemuserid: one bulk read per environment
 * and run, for reports only. Empty (with one warning) when the app may not read teams.
 */
export function loadTeamRoles(rt: Runtime, client: DataverseClient): Promise<Map<string, TeamRole[]>> {
  return rt.cached(`dataverse:${client.environment}:team-roles`, async () => {
    try {
      return await client.listTeamRoles();
    } catch (e) {
      if (!isApiError(e, "Forbidden")) throw e;
      warning(
        "dataverse:User",
        { environment: client.environment },
        `cannot read teams (${e.message}): roles held through teams are not reported`,
      );
      return new Map();
    }
  });
}

/** The planner's view of a Dataverse user. */
export function toActual(user: SystemUser, teamRoles?: readonly TeamRole[]): ActualUser {
  return {
    systemUserId: user.systemUserId,
    businessUnitId: user.businessUnitId,
    disabled: user.disabled,
    roles: user.roles ?? [],
    ...(teamRoles ? { teamRoles: [...teamRoles] } : {}),
  };
}

/**
 * What `up` will do to each Dataverse user of the request (core/system.ts `Describer`): per
 * environment the bulk reads the run shares (catalog, users, caller), then the pure descriptions
 * of describe.ts. A declared user with a last deployment changes when the engine will update it:
 * after a refresh whenever the plan against the live user changes something; without, when
 * users.yaml changed it. A declaration with names the environment does not have is left to the
 * provider's check, which reports it.
 */
export async function describeChanges(
  rt: Runtime,
  request: DescribeRequest<DataversePerson>,
): Promise<Map<string, Change>> {
  const out = new Map<string, Change>();
  for (const environment of environmentsOf(request)) {
    const client = clientFor(rt, environment);
    const [catalog, users, caller] = await settled([
      loadCatalog(rt, client),
      loadUsers(rt, client),
      loadCaller(rt, client),
    ]);
    const actualOf = (objectId: unknown) => {
      const user = typeof objectId === "string" ? users.get(objectId.toLowerCase()) : undefined;
      return user ? toActual(user) : undefined;
    };
    for (const item of request.declared.filter((d) => d.environment === environment)) {
      const inputs = checkedInputs(item.user, environment, item.objectId);
      if (!inputs) continue;
      const last = item.last as DataverseUserOutputs | undefined;
      const actual = item.objectId ? actualOf(item.objectId) : undefined;
      let change: Change;
      try {
        change = describeUser(inputs, catalog, actual, {
          verb: last ? "updates" : "adopts",
          managedRoles: last?.managedRoles ?? [],
          caller,
        });
      } catch {
        continue; // unknown names: the provider's check reports them, with their property
      }
      if (last && !(diff(last, inputs).changes || (request.refresh && change.changes.length > 0))) continue;
      out.set(item.name, change);
    }
    for (const item of request.removed.filter((r) => r.outputs.environment === environment)) {
      const outputs = item.outputs as unknown as DataverseUserOutputs;
      out.set(item.name, describeRemoval(outputs, actualOf(outputs.objectId), caller));
    }
  }
  return out;
}

/**
 * The privileges d365-access needs in every environment it writes to, each for what it does
 * (docs/real-tenant.md, "Least privilege"): read users, roles, business units and teams; move a
 * user between business units; grant and revoke roles. A caller that is not System
 * Administrator may only assign roles whose privileges it holds itself (no elevation:
 * https://learn.microsoft.com/power-platform/admin/prevent-elevation-security-role-privilege),
 * so the roles users.yaml assigns may need more.
 */
export const REQUIRED_PRIVILEGES: readonly string[] = [
  "prvReadUser",
  "prvReadRole",
  "prvReadBusinessUnit",
  "prvReadTeam",
  "prvWriteUser",
  "prvAssignRole",
];

/** The privilege names the app's application user holds: WhoAmI, then RetrieveUserPrivileges. */
export function loadCallerPrivileges(rt: Runtime, client: DataverseClient): Promise<Set<string>> {
  return rt.cached(`dataverse:${client.environment}:privileges`, async () => {
    const me = await client.whoAmI();
    return new Set((await client.retrieveUserPrivileges(me.userId)).map((p) => p.toLowerCase()));
  });
}

/**
 * The pre-flight of one environment (core/system.ts): the app's application user and each
 * privilege it needs (one line per missing privilege), the Power Platform management-app
 * registration when users must be synced, and every business unit and role resolved in the
 * catalogue (roles within the user's business unit). Bulk reads only; nothing is written.
 */
export async function preflight(
  rt: Runtime,
  input: PreflightInput<DataversePerson>,
  environment: string,
): Promise<PreflightResult<DataversePerson>> {
  const client = clientFor(rt, environment);
  const label = `Dataverse environment "${environment}"`;
  const problems: PreflightProblem[] = [];
  const missing = new Set<string>();
  const other: string[] = [];
  const fail = (e: unknown) => {
    const privilege = missingPrivilege(e);
    if (privilege) missing.add(privilege);
    else if (!other.includes(errorLine(e))) other.push(errorLine(e));
  };
  const [catalog, users, privileges] = await Promise.all([
    loadCatalog(rt, client).catch(fail),
    loadUsers(rt, client).catch(fail),
    loadCallerPrivileges(rt, client).catch(fail),
  ]);
  for (const p of REQUIRED_PRIVILEGES) if (privileges && !privileges.has(p.toLowerCase())) missing.add(p);
  const declared = input.users.filter((u) => u.dataverse.some((d) => d.environment === environment));
  // Users that are not in Dataverse yet are synced through the Power Platform admin API.
  const toSync = declared.some((u) => {
    const id = input.objectIds.get(u.upn.toLowerCase());
    return id === undefined || (users !== undefined && !users.has(id));
  });
  if (toSync) await client.readPowerPlatformEnvironment().catch(fail);
  for (const line of other) problems.push({ message: `${label}: ${line}` });
  for (const p of [...missing].sort())
    problems.push({
      message: `${label}: the app's application user lacks the privilege ${p}: add it to its security role (docs/real-tenant.md, "Least privilege")`,
    });
  if (!catalog) return { problems };

  const seen = new Set<string>();
  const unitOf = (user: DataversePerson) => {
    const access = user.dataverse.find((d) => d.environment === environment);
    try {
      return resolveBusinessUnit(catalog, access?.businessUnit);
    } catch (e) {
      const name = access?.businessUnit ?? "";
      if (!seen.has(`bu|${name.toLowerCase()}`))
        problems.push({ message: errorLine(e), at: input.where("business-unit", name, environment) });
      seen.add(`bu|${name.toLowerCase()}`);
      return undefined;
    }
  };
  for (const user of declared) {
    const unit = unitOf(user);
    if (!unit) continue;
    for (const role of user.dataverse.find((d) => d.environment === environment)?.roles ?? []) {
      const key = `role|${unit.businessUnitId}|${role.trim().toLowerCase()}`;
      if (seen.has(key)) continue;
      seen.add(key);
      try {
        resolveRoles(catalog, unit, [role]);
      } catch (e) {
        problems.push({ message: errorLine(e), at: input.where("dataverse-role", role, environment) });
      }
    }
  }
  return {
    problems,
    // A role's key is its name as the catalogue spells it, within the user's business unit (a
    // rule, naming no unit, matches the name in any unit).
    roleKey(role, user) {
      const unit = user ? unitOf(user) : undefined;
      const found = catalog.roles.find(
        (r) =>
          r.name.trim().toLowerCase() === role.trim().toLowerCase() &&
          (unit === undefined || r.businessUnitId === unit.businessUnitId),
      );
      return found?.name.trim().toLowerCase();
    },
  };
}

/**
 * `export`: every human user of the environment with its business unit and the direct roles
 * d365-access may own (those of its own unit the app may assign); team roles, roles of other
 * units and roles only a System Administrator may assign are notes, never declarations. Bulk
 * reads: business units, roles, users with their roles, teams with roles and members, the caller.
 */
export async function exportAccess(
  rt: Runtime,
  context: ExportContext,
  environment: string,
): Promise<ExportedSystem> {
  const client = clientFor(rt, environment);
  const [catalog, users, teamRoles, caller] = await settled([
    loadCatalog(rt, client),
    loadUsers(rt, client),
    loadTeamRoles(rt, client),
    loadCaller(rt, client),
  ]);
  const root = rootBusinessUnit(catalog);
  const unitName = (id: string) => catalog.businessUnits.find((b) => b.businessUnitId === id)?.name ?? id;
  const templates = new Map(catalog.roles.map((r) => [r.roleId, r.templateId]));
  // users.yaml names roles; a name two roles of one unit share could not be resolved.
  const namesInUnit = new Map<string, number>();
  for (const r of catalog.roles) {
    const k = `${r.businessUnitId}\n${nameKey(r.name)}`;
    namesInUnit.set(k, (namesInUnit.get(k) ?? 0) + 1);
  }
  const parts = new Map<string, ExportedPart>();
  const skipped: string[] = [];
  for (const user of users.values()) {
    const objectId = user.objectId?.toLowerCase();
    if (!objectId || !context.objectIds.has(objectId)) {
      skipped.push(`user ${user.domainName ?? user.systemUserId}: no Entra user has its object id`);
      continue;
    }
    const notes: string[] = [];
    const owned: string[] = [];
    for (const role of user.roles ?? []) {
      const withTemplate = { ...role, templateId: role.templateId ?? templates.get(role.roleId) };
      if (role.businessUnitId !== user.businessUnitId)
        notes.push(
          `holds "${role.name}" of business unit ${unitName(role.businessUnitId)}: an admin's, not declared`,
        );
      else if (!mayAssign(withTemplate, caller))
        notes.push(`holds "${role.name}", not declared: ${NOT_ASSIGNABLE}`);
      else if ((namesInUnit.get(`${role.businessUnitId}\n${nameKey(role.name)}`) ?? 0) > 1)
        notes.push(`holds "${role.name}", not declared: several roles of its business unit have that name`);
      else owned.push(role.name);
    }
    for (const t of teamRoles.get(user.systemUserId.toLowerCase()) ?? [])
      notes.push(`"${t.role}" through team ${t.team}: the team's, not declared`);
    if (user.disabled) notes.push("disabled in Dataverse");
    const roles = normalizeNames(owned);
    const inRoot = user.businessUnitId === root.businessUnitId;
    parts.set(objectId, {
      fields: inRoot ? {} : { businessUnit: unitName(user.businessUnitId) },
      grants: roles,
      labels: roles,
      shared: { enabled: !user.disabled },
      notes,
      // A synced user with no direct role in the root unit has nothing users.yaml would own.
      declare: roles.length > 0 || !inRoot,
      footprint: true,
      attributes: { businessUnit: unitName(user.businessUnitId) },
    });
  }
  return { parts, skipped: skipped.sort(), environment: { dataverse: true } };
}
