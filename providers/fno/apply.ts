/**
 * Carrying out an F&O plan (I/O; resources.ts calls it): the OData call behind each operation,
 * role writes read back in bulk before they count (some role entities answer 204 and change
 * nothing), and the outputs that record what F&O holds — also after a failed step, so the next
 * diff sees what is left.
 */
import { isApiError } from "../core/errors.ts";
import { wasInFlight } from "../core/inflight.ts";
import { ExecutionError, execute, type Handlers } from "../core/operation.ts";
import { PartialFailure, warning } from "../core/provider.ts";
import { type Runtime, settled } from "../core/runtime.ts";
import type { FnoClient, RoleWrite } from "./client.ts";
import type { FnoRole, FnoUserInputs, FnoUserOutputs, ManagedRole } from "./model.ts";
import { describeOperation, type FnoOperation, liveView, planUser } from "./plan.ts";
import { clientFor, loadAppUser, loadRoles, readUser, written, writtenKey } from "./run.ts";

/**
 * The client method that performs each operation; a delete F&O refuses ends as a warning. Role
 * writes are read back in bulk, not one by one: each is noted in `pending`, and the
 * legal-entity rows of a role are confirmed (one request) before that role is enabled, so an
 * enabled row never applies in every company because a restriction silently failed; the rest
 * is confirmed by {@link confirmPending} after the plan ran (one request per entity written).
 */
export function handlers(client: FnoClient, upn: string, pending: RoleWrite[]): Handlers<FnoOperation> {
  const note = (write: RoleWrite) => pending.push(write);
  return {
    createUser: (op) => client.createUser(op.user),
    updateUser: (op) => client.updateUser(op.userId, op.changes),
    async deleteUser(op) {
      // A deleted user's rows cannot be read back: confirm the revocations first.
      await confirmPending(client, op.userId, pending);
      try {
        await client.deleteUser(op.userId);
      } catch (e) {
        // F&O refuses to delete a user that records reference (posted transactions, workers):
        // the roles are already revoked and the account disabled, which is where it stays.
        if (!isApiError(e, "Invalid")) throw e;
        warning(
          "fno:User",
          { user: upn, environment: client.environment },
          `F&O refused to delete user ${op.userId} (${e.message}); it stays disabled, without the roles d365-access owned`,
        );
      }
    },
    async assignRole(op) {
      await client.assignRole(op.userId, op.roleId, op.roleName, op.enabled);
      note({ method: "POST", roleId: op.roleId, expect: op.enabled ? "Enabled" : "Disabled" });
    },
    async enableRole(op) {
      const restrictions = pending.filter((w) => w.legalEntity !== undefined && w.roleId === op.roleId);
      if (restrictions.length) {
        await client.confirmWrites(op.userId, restrictions);
        pending.splice(0, pending.length, ...pending.filter((w) => !restrictions.includes(w)));
      }
      await client.enableRole(op.userId, op.roleId);
      note({ method: "PATCH", roleId: op.roleId, expect: "Enabled" });
    },
    async removeRole(op) {
      await client.removeRole(op.userId, op.roleId);
      note({ method: "DELETE", roleId: op.roleId, expect: "absent" });
    },
    async addRoleOrganization(op) {
      await client.addRoleOrganization(op.userId, op.roleId, op.organizationId);
      note({ method: "POST", roleId: op.roleId, legalEntity: op.organizationId, expect: "present" });
    },
    async removeRoleOrganization(op) {
      await client.removeRoleOrganization(op.userId, op.roleId, op.organizationId);
      note({ method: "DELETE", roleId: op.roleId, legalEntity: op.organizationId, expect: "absent" });
    },
  };
}

/**
 * Reads back the role writes not yet confirmed; a later write of the same row supersedes an
 * earlier one (an assign-disabled then enable is confirmed as Enabled).
 */
export async function confirmPending(client: FnoClient, userId: string, pending: RoleWrite[]): Promise<void> {
  const last = new Map<string, RoleWrite>();
  for (const w of pending) last.set(`${w.roleId.toLowerCase()}\n${w.legalEntity?.toLowerCase() ?? ""}`, w);
  pending.length = 0;
  if (last.size) await client.confirmWrites(userId, [...last.values()]);
}

function sameManaged(a: readonly ManagedRole[], b: readonly ManagedRole[]): ManagedRole[] {
  const out = new Map<string, ManagedRole>();
  for (const m of [...a, ...b]) out.set(m.role.toLowerCase(), m);
  return [...out.values()].sort((x, y) => (x.role < y.role ? -1 : x.role > y.role ? 1 : 0));
}

/**
 * Outputs after a failure part-way: what F&O now holds (fields and roles), so `diff` reports the
 * remaining difference and the next run resumes. Falls back to "no roles" when even the read fails.
 */
async function partialOutputs(
  client: FnoClient,
  catalog: readonly FnoRole[],
  inputs: FnoUserInputs,
  userId: string,
  adopted: boolean,
  managedRoles: ManagedRole[],
): Promise<FnoUserOutputs> {
  try {
    const live = await readUser(client, inputs.upn, userId, userId);
    const view = liveView(userId, live, catalog, inputs.roles);
    if (view) {
      return {
        ...inputs,
        userName: view.record.userName,
        company: view.record.company,
        enabled: view.record.enabled,
        roles: view.roles,
        adopted,
        managedRoles,
      };
    }
  } catch {
    // The original error is what the user needs; the outputs below still force an update.
  }
  return { ...inputs, roles: [], adopted, managedRoles };
}

/**
 * Brings F&O to `inputs`: read fresh, plan, execute. Returns the id and outputs; throws a
 * partial failure (with the id) when the user exists but a later operation failed.
 */
export async function apply(
  r: Runtime,
  inputs: FnoUserInputs,
  previous: { id?: string; adopted?: boolean; managedRoles: ManagedRole[] },
): Promise<{ id: string; outs: FnoUserOutputs }> {
  const client = clientFor(r, inputs.environment);
  const [catalog, appUserId, live] = await settled([
    loadRoles(r, client),
    loadAppUser(r, client),
    readUser(client, inputs.upn, inputs.userId, previous.id),
  ]);
  const plan = planUser(inputs, live, catalog, { managed: previous.id, appUserId });
  // A record found for a person whose identity an interrupted run created was made by that run.
  const resumed = inputs.provenance === "created" && wasInFlight(`${inputs.upn}/${inputs.environment}`);
  const adopted = previous.adopted ?? (plan.adopted && !resumed);
  const managedRoles = sameManaged(previous.managedRoles, plan.managedRoles);
  const marks = await written(r);
  const pending: RoleWrite[] = [];
  let executed = false;
  try {
    await execute(plan.operations, handlers(client, inputs.upn, pending), {
      describe: describeOperation,
      before: (op) => marks.add(writtenKey(inputs.environment, op.userId)),
    });
    executed = true;
    await confirmPending(client, plan.userId, pending);
  } catch (e) {
    const created = executed
      ? plan.operations.some((op) => op.kind === "createUser")
      : e instanceof ExecutionError && e.done.some((op) => op.kind === "createUser");
    if (!plan.adopted && !created) throw e;
    const outs = await partialOutputs(client, catalog, inputs, plan.userId, adopted, managedRoles);
    throw new PartialFailure(plan.userId, outs, e);
  }
  const { provenance: _, ...declared } = inputs;
  return { id: plan.userId, outs: { ...declared, adopted, managedRoles: plan.managedRoles } };
}
