/**
 * The run-wide state of `dataverse:User` in the provider process: one client per environment
 * (with the Power Platform admin client for on-demand syncs), and the bulk reads shared by every
 * resource: the catalog (business units and roles) and the users (design.md principle 5).
 */
import { type Runtime, settled } from "../core/runtime.ts";
import { findEnvironment } from "../core/settings.ts";
import { createDataverseClient, type DataverseClient } from "./client.ts";
import type { Catalog, SystemUser } from "./model.ts";
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
