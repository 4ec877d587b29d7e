/**
 * The run-wide state of `dataverse:User` in the provider process: one client per environment
 * (with the Power Platform admin client for on-demand syncs), and the bulk reads shared by every
 * resource: the catalog (business units and roles) and the users (design.md principle 5).
 */
import { isApiError } from "../core/errors.ts";
import { warning } from "../core/provider.ts";
import { type Runtime, settled } from "../core/runtime.ts";
import { findEnvironment } from "../core/settings.ts";
import type { ExportContext, ExportedPart, ExportedSystem } from "../core/system.ts";
import { createDataverseClient, type DataverseClient } from "./client.ts";
import {
  type Caller,
  type Catalog,
  SYSTEM_ADMINISTRATOR_TEMPLATE,
  type SystemUser,
  type TeamRole,
} from "./model.ts";
import { mayAssign, NOT_ASSIGNABLE, nameKey, normalizeNames, rootBusinessUnit } from "./plan.ts";
import { dataverse, powerPlatform } from "./service.ts";

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
