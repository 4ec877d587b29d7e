/**
 * The Dataverse registry entry (core/system.ts): one `dataverse:User` per user and Dataverse
 * environment, after the Entra user (Dataverse syncs users from Entra); its report column is
 * the business unit and direct roles; its grants count as role changes for the guards.
 */
import type { System } from "../core/system.ts";
import { grantKeys } from "../core/system.ts";
import { createDataverseClient } from "./client.ts";
import { type DataversePerson, SYSTEM_ADMINISTRATOR_TEMPLATE } from "./model.ts";
import { dataverse as dataverseService } from "./service.ts";

const accessIn = (user: DataversePerson, environment?: string) =>
  user.dataverse.find((d) => d.environment === environment);

/** Dataverse: users' presence, business unit and direct security roles per environment. */
export const dataverse: System<DataversePerson, { dataverse: boolean }> = {
  name: "dataverse",
  label: "Dataverse",
  services: [dataverseService],
  resourceType: "pulumi-nodejs:dynamic/dataverse:User",
  usersYaml: new URL("./users.schema.json", import.meta.url),
  scope: "environment",
  inEnvironment: (environment) => environment.dataverse,
  environments: (user) => user.dataverse.map((d) => d.environment),

  declarer: async () => (await import("./resources.ts")).declare,
  describer: async () => (await import("./run.ts")).describeChanges,

  preflight: async (rt, input, environment) =>
    (await import("./run.ts")).preflight(rt, input, environment ?? ""),

  environmentWarnings: (environment) =>
    environment.values.powerPlatformEnvironmentId
      ? []
      : ["has no powerPlatformEnvironmentId: users cannot be synced on demand there"],

  report: {
    title: (environment) => `${environment} · Dataverse`,
    cell(user, environment) {
      const access = accessIn(user, environment);
      if (!access) return [];
      return [...(access.businessUnit ? [`BU: ${access.businessUnit}`] : []), ...access.roles];
    },
    async live(rt, context, environment) {
      const cells = new Map<string, string[]>();
      if (!environment || !rt.has(dataverseService, environment)) return cells;
      const client = createDataverseClient({
        environment,
        dataverse: rt.client(dataverseService, environment),
      });
      const [units, systemUsers] = await Promise.all([client.listBusinessUnits(), client.listSystemUsers()]);
      const root = units.find((u) => u.parentId === undefined);
      for (const su of systemUsers) {
        const upn = su.objectId ? context.objectIds.get(su.objectId.toLowerCase()) : undefined;
        if (!upn || su.disabled) continue;
        const unit =
          su.businessUnitId === root?.businessUnitId
            ? []
            : [`BU: ${units.find((u) => u.businessUnitId === su.businessUnitId)?.name ?? su.businessUnitId}`];
        cells.set(upn, [...unit, ...(su.roles ?? []).map((r) => r.name).sort((a, b) => a.localeCompare(b))]);
      }
      return cells;
    },
    // System Administrator by its template (every business unit's copy), and `extra` by name;
    // enabled human users only (application users are the services').
    async privileged(rt, context, environment) {
      if (!environment || !rt.has(dataverseService, environment)) return [];
      const client = createDataverseClient({
        environment,
        dataverse: rt.client(dataverseService, environment),
      });
      const [roles, systemUsers] = await Promise.all([client.listRoles(), client.listSystemUsers()]);
      const templates = new Map(roles.map((r) => [r.roleId, r.templateId]));
      const extra = new Set(context.extra.map((r) => r.trim().toLowerCase()));
      const lines: string[] = [];
      for (const su of systemUsers) {
        if (su.disabled || (su.objectId && context.objectIds.has(su.objectId.toLowerCase()))) continue;
        const held = (su.roles ?? []).filter(
          (r) =>
            (r.templateId ?? templates.get(r.roleId)) === SYSTEM_ADMINISTRATOR_TEMPLATE ||
            extra.has(r.name.toLowerCase()),
        );
        for (const name of [...new Set(held.map((r) => r.name))].sort())
          lines.push(
            `Dataverse user ${su.domainName ?? su.objectId ?? su.systemUserId} holds privileged role ${name}`,
          );
      }
      return lines.sort();
    },
  },

  export: {
    grants: "roles",
    read: async (rt, context, environment) => {
      if (!environment || !rt.has(dataverseService, environment)) return { parts: new Map(), skipped: [] };
      return (await import("./run.ts")).exportAccess(rt, context, environment);
    },
  },

  guard: {
    counts: "roles",
    removesUser: false,
    declared(user, environment) {
      const access = accessIn(user, environment);
      return {
        grants: grantKeys(access?.roles ?? []),
        settings: JSON.stringify({ businessUnit: access?.businessUnit?.toLowerCase() ?? null }),
      };
    },
    applied: (inputs) => ({
      grants: grantKeys((inputs.roles ?? []) as string[]),
      settings: JSON.stringify({
        businessUnit: typeof inputs.businessUnit === "string" ? inputs.businessUnit.toLowerCase() : null,
      }),
    }),
  },
};
