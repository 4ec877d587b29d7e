/**
 * The F&O registry entry (core/system.ts): one `fno:User` per user and F&O environment, after
 * the Entra user (F&O imports the Entra identity); its report column is the account and the
 * roles with their legal entities; its grants count as role changes for the guards.
 */
import type { System } from "../core/system.ts";
import { grantKeys } from "../core/system.ts";
import { createFnoClient } from "./client.ts";
import {
  type DeclaredRole,
  type FnoPerson,
  type FnoRoleAssignment,
  LEGAL_ENTITY_ORGANIZATION_TYPE,
  SYSTEM_USER_ROLE,
} from "./model.ts";

/** The F&O role that grants everything (AOT name). */
const SYSTEM_ADMINISTRATOR_ROLE = "-SYSADMIN-";

import { fno as fnoService } from "./service.ts";

const accessIn = (user: FnoPerson, environment?: string) =>
  user.fno.find((f) => f.environment === environment);
const roleEntry = (name: string, legalEntities: readonly string[]) =>
  legalEntities.length ? `${name} [${legalEntities.join(", ")}]` : name;
const account = (userId: string, company: string, enabled: boolean) =>
  `user ${userId} (${company}${enabled ? "" : ", disabled"})`;

function roleGrants(roles: readonly { role: string; legalEntities?: string[] }[]): string[] {
  return grantKeys(
    roles.flatMap((r) =>
      r.legalEntities?.length ? r.legalEntities.map((le) => `${r.role}@${le}`) : [r.role],
    ),
  );
}

/** F&O: users' accounts, roles and legal-entity restrictions per environment. */
export const fno: System<FnoPerson, { fno: boolean }> = {
  name: "fno",
  label: "F&O",
  services: [fnoService],
  resourceType: "pulumi-nodejs:dynamic/fno:User",
  usersYaml: new URL("./users.schema.json", import.meta.url),
  scope: "environment",
  inEnvironment: (environment) => environment.fno,
  environments: (user) => user.fno.map((f) => f.environment),

  declarer: async () => (await import("./resources.ts")).declare,
  describer: async () => (await import("./run.ts")).describeChanges,

  preflight: async (rt, input, environment) =>
    (await import("./run.ts")).preflight(rt, input, environment ?? ""),

  report: {
    title: (environment) => `${environment} · F&O`,
    cell(user, environment) {
      const access = accessIn(user, environment);
      if (!access) return [];
      return [
        account(access.userId, access.company, user.enabled),
        ...access.roles.map((r) => roleEntry(r.role, r.legalEntities)),
      ];
    },
    async live(rt, context, environment) {
      const cells = new Map<string, string[]>();
      if (!environment || !rt.has(fnoService, environment)) return cells;
      const client = createFnoClient({ environment, fno: rt.client(fnoService, environment) });
      const [users, roles, assignments, organizations] = await Promise.all([
        client.listUsers(),
        client.listRoles(),
        client.listUserRoles(),
        client.listUserRoleOrganizations(),
      ]);
      // Indexed once per environment: the loop below stays linear in the number of rows.
      const declared = new Map(context.users.map((u) => [u.upn.toLowerCase(), u]));
      const roleById = new Map(roles.map((r) => [r.identifier.toLowerCase(), r]));
      const userRole = (userId: string, roleId: string) => `${userId.toLowerCase()}|${roleId.toLowerCase()}`;
      const assignmentsByUser = new Map<string, FnoRoleAssignment[]>();
      for (const a of assignments) {
        if (a.status !== "Enabled" || a.roleId.toUpperCase() === SYSTEM_USER_ROLE) continue;
        const key = a.userId.toLowerCase();
        assignmentsByUser.set(key, [...(assignmentsByUser.get(key) ?? []), a]);
      }
      const entitiesByUserRole = new Map<string, string[]>();
      for (const o of organizations) {
        if (o.organizationType !== LEGAL_ENTITY_ORGANIZATION_TYPE) continue;
        const key = userRole(o.userId, o.roleId);
        entitiesByUserRole.set(key, [...(entitiesByUserRole.get(key) ?? []), o.organizationId.toUpperCase()]);
      }
      for (const user of users) {
        const upn = user.alias.toLowerCase();
        const desired = declared.get(upn);
        if (!desired) continue;
        const written: DeclaredRole[] = accessIn(desired, environment)?.roles ?? [];
        // Name each live role the way users.yaml wrote it (identifier or label), so they compare.
        const entries: string[] = [];
        for (const a of assignmentsByUser.get(user.userId.toLowerCase()) ?? []) {
          const role = roleById.get(a.roleId.toLowerCase());
          const spellings = [a.roleId, role?.name ?? a.roleName].map((x) => x.toLowerCase());
          const declaredAs = written.find((r) => spellings.includes(r.role.toLowerCase()))?.role;
          // A rule-based row users.yaml does not declare is the environment's rule's, not drift.
          if (!declaredAs && a.mode === "Automatic") continue;
          const name = declaredAs ?? role?.name ?? a.roleId;
          entries.push(
            roleEntry(name, [...(entitiesByUserRole.get(userRole(user.userId, a.roleId)) ?? [])].sort()),
          );
        }
        cells.set(upn, [
          account(user.userId, user.company.toUpperCase(), user.enabled),
          ...entries.sort((a, b) => a.localeCompare(b)),
        ]);
      }
      return cells;
    },
    // -SYSADMIN- always, and `extra` by identifier or label; Enabled rows of enabled users whose
    // Alias users.yaml does not declare.
    async privileged(rt, context, environment) {
      if (!environment || !rt.has(fnoService, environment)) return [];
      const client = createFnoClient({ environment, fno: rt.client(fnoService, environment) });
      const [users, roles, assignments] = await Promise.all([
        client.listUsers(),
        client.listRoles(),
        client.listUserRoles(),
      ]);
      const declared = new Set(context.users.map((u) => u.upn.toLowerCase()));
      const extra = new Set(context.extra.map((r) => r.trim().toLowerCase()));
      const label = new Map(roles.map((r) => [r.identifier.toLowerCase(), r.name]));
      const privileged = (roleId: string) =>
        roleId.toUpperCase() === SYSTEM_ADMINISTRATOR_ROLE ||
        extra.has(roleId.toLowerCase()) ||
        extra.has((label.get(roleId.toLowerCase()) ?? "").toLowerCase());
      const byId = new Map(users.map((u) => [u.userId.toLowerCase(), u]));
      const lines: string[] = [];
      for (const a of assignments) {
        const user = byId.get(a.userId.toLowerCase());
        if (!user?.enabled || declared.has(user.alias.toLowerCase())) continue;
        if (a.status !== "Enabled" || !privileged(a.roleId)) continue;
        const name = label.get(a.roleId.toLowerCase());
        lines.push(
          `F&O user ${user.userId}${user.alias ? ` (${user.alias})` : ""} holds privileged role ${a.roleId}${name ? ` (${name})` : ""}`,
        );
      }
      return lines.sort();
    },
  },

  export: {
    grants: "roles",
    read: async (rt, context, environment) => {
      if (!environment || !rt.has(fnoService, environment)) return { parts: new Map(), skipped: [] };
      return (await import("./run.ts")).exportAccess(rt, context, environment);
    },
  },

  guard: {
    counts: "roles",
    removesUser: false,
    declared(user, environment) {
      const access = accessIn(user, environment);
      return {
        grants: roleGrants(access?.roles ?? []),
        settings: JSON.stringify({ enabled: user.enabled, company: access?.company.toLowerCase() ?? "" }),
      };
    },
    applied: (inputs) => ({
      grants: roleGrants((inputs.roles ?? []) as { role: string; legalEntities?: string[] }[]),
      settings: JSON.stringify({
        enabled: inputs.enabled ?? true,
        company: String(inputs.company ?? "").toLowerCase(),
      }),
    }),
  },
};
