/**
 * Reads what the systems hold now for the users declared in users.yaml, in the access matrix's
 * vocabulary (report --live): each system's registry entry reads its column. Bulk reads only:
 * one request per page of users, roles and assignments per system and environment, never one
 * per user.
 */

import { configureRuntime, type Runtime } from "../../providers/core/runtime.ts";
import type { LiveContext } from "../../providers/core/system.ts";
import { openStack, projectRoot } from "../engine/stack.ts";
import type { DesiredState, DesiredUser } from "../model/index.ts";
import { columnSystem, type MatrixCell, matrixColumns } from "./matrix.ts";

/** The stack's config (decrypted by the engine) as a settings source. */
export async function stackConfig(stackName: string): Promise<{ get(key: string): string | undefined }> {
  const stack = await openStack({
    root: projectRoot(),
    stack: stackName,
    program: async () => ({}),
    canCreate: false,
  });
  const all = await stack.getAllConfig();
  return { get: (key) => all[key.includes(":") ? key : `d365-access:${key}`]?.value };
}

/** The runtime of a stack, from its config. */
export async function stackRuntime(stackName: string): Promise<Runtime> {
  return configureRuntime(await stackConfig(stackName));
}

/** upn (lower case) → column key → entries, for the declared users; and the tenant read. */
export async function readLiveAccess(
  state: DesiredState,
  stackName: string,
  runtime?: Runtime,
): Promise<{ access: Map<string, Record<string, MatrixCell>>; tenant: string }> {
  const rt = runtime ?? (await stackRuntime(stackName));
  const live = new Map<string, Record<string, MatrixCell>>();
  const context: LiveContext<DesiredUser> = { users: state.users, objectIds: new Map() };
  // Column by column in matrix order: the identity system's column (first) fills the object ids
  // the others match their users by.
  for (const column of matrixColumns(state)) {
    const read = columnSystem(column).report.live;
    if (!read) continue;
    for (const [upn, entries] of await read(rt, context, column.environment)) {
      const cells = live.get(upn) ?? {};
      cells[column.key] = entries;
      live.set(upn, cells);
    }
  }
  return { access: live, tenant: rt.settings.tenantId };
}
