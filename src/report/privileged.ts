/**
 * Privileged access outside users.yaml (issue 12 item 3): the people users.yaml does not declare
 * who hold a privileged role, read by each system's registry entry (`report.privileged`). Shown
 * as warnings by `report --live` and by every preview, so the pull-request comment has them.
 */
import type { Runtime } from "../../providers/core/runtime.ts";
import type { DesiredState } from "../model/index.ts";
import { columnSystem, matrixColumns } from "./matrix.ts";

/**
 * People users.yaml does not declare who hold a privileged role (each system's own, and
 * users.yaml's `privilegedRoles`), one line each, system by system and environment by
 * environment (issue 12 item 3). The identity system's column is read first, for the object ids
 * of the declared people.
 */
export async function readPrivilegedOutsiders(rt: Runtime, state: DesiredState): Promise<string[]> {
  const context = {
    users: state.users,
    objectIds: new Map<string, string>(),
    extra: state.privilegedRoles ?? [],
  };
  const lines: string[] = [];
  for (const column of matrixColumns(state)) {
    const system = columnSystem(column);
    if (column.environment === undefined) await system.report.live?.(rt, context);
    else lines.push(...((await system.report.privileged?.(rt, context, column.environment)) ?? []));
  }
  return [...new Set(lines)];
}
