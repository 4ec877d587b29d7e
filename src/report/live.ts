/**
 * Reads what the systems hold now for the users declared in users.yaml, in the access matrix's
 * vocabulary (report --live). Bulk reads only: one request per page of users, roles and
 * assignments per system and environment, never one per user.
 */

import { configureRuntime } from "../../providers/core/runtime.ts";
import { createDataverseClient } from "../../providers/dataverse/client.ts";
import { dataverse } from "../../providers/dataverse/service.ts";
import { createEntraClient } from "../../providers/entra/client.ts";
import { toSku, toUserSnapshot } from "../../providers/entra/dto.ts";
import { graph } from "../../providers/entra/service.ts";
import { createFnoClient } from "../../providers/fno/client.ts";
import { fno as fnoService } from "../../providers/fno/service.ts";
import { openStack, projectRoot } from "../engine/stack.ts";
import type { DesiredState } from "../model/index.ts";
import { type MatrixCell, matrixColumns } from "./matrix.ts";

/** The automatic role every F&O user holds; never declared, never reported as drift. */
const FNO_SYSTEM_USER = "SYSTEMUSER";

/** The stack's config (decrypted by the engine) as a settings source. */
async function stackConfig(stackName: string): Promise<{ get(key: string): string | undefined }> {
  const stack = await openStack({ root: projectRoot(), stack: stackName, program: async () => ({}) });
  const all = await stack.getAllConfig();
  return { get: (key) => all[key.includes(":") ? key : `d365-access:${key}`]?.value };
}

/** upn (lower case) → column key → entries, for the declared users. */
export async function readLiveAccess(
  state: DesiredState,
  stackName: string,
): Promise<Map<string, Record<string, MatrixCell>>> {
  const rt = configureRuntime(await stackConfig(stackName));
  const live = new Map<string, Record<string, MatrixCell>>();
  const cellsOf = (upn: string) => {
    const key = upn.toLowerCase();
    const cells = live.get(key) ?? {};
    live.set(key, cells);
    return cells;
  };
  const declared = new Set(state.users.map((u) => u.upn.toLowerCase()));

  // Entra: direct licenses of every declared user (group-inherited ones are not ours to declare).
  const entra = createEntraClient(rt.client(graph));
  const [skuDtos, users] = await Promise.all([entra.listSubscribedSkus(), entra.listUsers()]);
  const skus = skuDtos.map(toSku);
  const objectIds = new Map<string, string>();
  for (const dto of users) {
    const upn = dto.userPrincipalName.toLowerCase();
    if (!declared.has(upn)) continue;
    const snapshot = toUserSnapshot(dto, skus);
    objectIds.set(snapshot.objectId.toLowerCase(), upn);
    cellsOf(upn).entra = snapshot.directLicenses.map((l) =>
      l.disabledPlans.length ? `${l.sku} (without ${l.disabledPlans.join(", ")})` : l.sku,
    );
  }

  for (const column of matrixColumns(state)) {
    if (!column.environment) continue;
    const env = rt.settings.environments.find((e) => e.name === column.environment);
    if (column.system === "dataverse" && env && rt.has(dataverse, env.name)) {
      const dv = createDataverseClient({
        environment: env.name,
        dataverse: rt.client(dataverse, env.name),
      });
      const [units, systemUsers] = await Promise.all([dv.listBusinessUnits(), dv.listSystemUsers()]);
      const root = units.find((u) => u.parentId === undefined);
      for (const su of systemUsers) {
        const upn = su.objectId ? objectIds.get(su.objectId.toLowerCase()) : undefined;
        if (!upn || su.disabled) continue;
        const unit =
          su.businessUnitId === root?.businessUnitId
            ? []
            : [`BU: ${units.find((u) => u.businessUnitId === su.businessUnitId)?.name ?? su.businessUnitId}`];
        cellsOf(upn)[column.key] = [
          ...unit,
          ...(su.roles ?? []).map((r) => r.name).sort((a, b) => a.localeCompare(b)),
        ];
      }
    }
    if (column.system === "fno" && env && rt.has(fnoService, env.name)) {
      const fno = createFnoClient({ environment: env.name, fno: rt.client(fnoService, env.name) });
      const [fnoUsers, roles, assignments, organizations] = await Promise.all([
        fno.listUsers(),
        fno.listRoles(),
        fno.listUserRoles(),
        fno.listUserRoleOrganizations(),
      ]);
      // Indexed once per environment: the loop below stays linear in the number of rows.
      const declared = new Map(state.users.map((u) => [u.upn.toLowerCase(), u]));
      const roleById = new Map(roles.map((r) => [r.identifier.toLowerCase(), r]));
      const byUserRole = (userId: string, roleId: string) =>
        `${userId.toLowerCase()}|${roleId.toLowerCase()}`;
      const assignmentsByUser = new Map<string, typeof assignments>();
      for (const a of assignments) {
        if (a.status !== "Enabled" || a.roleId.toUpperCase() === FNO_SYSTEM_USER) continue;
        const key = a.userId.toLowerCase();
        assignmentsByUser.set(key, [...(assignmentsByUser.get(key) ?? []), a]);
      }
      const entitiesByUserRole = new Map<string, string[]>();
      for (const o of organizations) {
        if (o.organizationType !== "LegalEntity") continue;
        const key = byUserRole(o.userId, o.roleId);
        entitiesByUserRole.set(key, [...(entitiesByUserRole.get(key) ?? []), o.organizationId.toUpperCase()]);
      }
      for (const user of fnoUsers) {
        const upn = user.alias.toLowerCase();
        const desired = declared.get(upn);
        if (!desired) continue;
        const written = desired.fno.find((f) => f.environment === column.environment)?.roles ?? [];
        // Name each live role the way users.yaml wrote it (identifier or label), so they compare.
        const entries = (assignmentsByUser.get(user.userId.toLowerCase()) ?? []).map((a) => {
          const role = roleById.get(a.roleId.toLowerCase());
          const spellings = [a.roleId, role?.name ?? a.roleName].map((x) => x.toLowerCase());
          const name =
            written.find((r) => spellings.includes(r.role.toLowerCase()))?.role ?? role?.name ?? a.roleId;
          const entities = [...(entitiesByUserRole.get(byUserRole(user.userId, a.roleId)) ?? [])].sort();
          return entities.length ? `${name} [${entities.join(", ")}]` : name;
        });
        const account = `user ${user.userId} (${user.company.toUpperCase()}${user.enabled ? "" : ", disabled"})`;
        cellsOf(upn)[column.key] = [account, ...entries.sort((a, b) => a.localeCompare(b))];
      }
    }
  }
  return live;
}
