/**
 * Carrying out an Entra plan (I/O; resources.ts calls it): the Graph call behind each operation,
 * the named waits eventual consistency needs, seats reserved before any write, and the outputs
 * that record what Entra holds — also after a failed step, so the next diff sees what is left.
 *
 * Two answers do not stop the user's other changes: Graph refusing to change the sign-in of a
 * user who holds a privileged directory role (the app then needs a higher-privileged directory
 * role of its own, https://learn.microsoft.com/graph/api/user-update#permissions): the rest is
 * applied, then the resource fails with one line naming what is needed; and the properties
 * on-premises AD masters, which are never planned for a synced user (plan.ts).
 */
import { isApiError } from "../core/errors.ts";
import { execute, type Handlers } from "../core/operation.ts";
import { PartialFailure } from "../core/provider.ts";
import { type Runtime, waitFor } from "../core/runtime.ts";
import { fromLicenses, skuIdsOf, toUserSnapshot } from "./dto.ts";
import type { EntraUserInputs, EntraUserOutputs, UserSnapshot } from "./model.ts";
import { describeOperation, type EntraOperation, type EntraUserPlan, planUser } from "./plan.ts";
import { client, freeSeats, reserveSeats, skus, USERS } from "./run.ts";

/** How long Graph may take to show a write to the next call (its replicas catch up in seconds). */
const REPLICATION_WAIT = { timeoutMs: 60_000, attempts: 8 } as const;

/** The one line for a sign-in change Graph refused (403) while the rest of the user's changes apply. */
function signInRefused(upn: string, enabled: boolean): string {
  return (
    `Graph refused to ${enabled ? "enable" : "disable"} sign-in of Entra user ${upn} (403): a user holding a ` +
    "privileged directory role (e.g. Global Administrator) can only be changed by an app that itself holds a " +
    "higher-privileged directory role such as Privileged Authentication Administrator " +
    "(https://learn.microsoft.com/graph/api/user-update#permissions), or else the app lacks User.ReadWrite.All; " +
    "assign the role to the app, or declare the user's sign-in as it is; the user's other changes were applied"
  );
}

/** What happened to sign-in changes Graph refused (they do not stop the other operations). */
interface Refusals {
  lines: string[];
}

/**
 * The Graph call behind each operation. After a create, and after a usage-location change, the
 * next license call retries Graph's documented "not there yet" answers for a bounded, named
 * while (terraform-provider-azuread retries assignLicense on 404 after a create,
 * `internal/services/users/user_license_resource.go`; Microsoft's eventual-consistency guidance:
 * https://devblogs.microsoft.com/identity/designing-for-eventual-consistency-for-microsoft-entra/).
 */
export function handlers(
  rt: Runtime,
  objectId: string,
  upn: string,
  justCreated: boolean,
  refusals: Refusals,
): Handlers<EntraOperation> {
  const graph = client(rt);
  let usageLocationChanged = false;
  return {
    async updateUser(op) {
      await graph.updateUser(objectId, op.changes);
      if (op.changes.usageLocation) usageLocationChanged = true;
    },
    async setSignIn(op) {
      try {
        await graph.updateUser(objectId, { accountEnabled: op.enabled });
      } catch (e) {
        if (!isApiError(e, "Forbidden")) throw e;
        refusals.lines.push(signInRefused(upn, op.enabled));
      }
    },
    async assignLicenses(op) {
      const tenantSkus = await skus(rt);
      const body = {
        addLicenses: fromLicenses(op.add, tenantSkus),
        removeLicenses: skuIdsOf(op.remove, tenantSkus),
      };
      const assign = () => graph.assignLicense(objectId, body);
      if (justCreated)
        await waitFor(
          {
            name: `new Entra user ${upn} visible to assignLicense`,
            ...REPLICATION_WAIT,
            retryOn: ["NotFound"],
          },
          assign,
        );
      else if (usageLocationChanged && op.add.length > 0)
        await waitFor(
          {
            name: `usage location of ${upn} visible to assignLicense`,
            ...REPLICATION_WAIT,
            retryOn: ["Stale"],
          },
          assign,
        );
      else await assign();
      await freeSeats(rt, op.remove);
    },
    async deleteUser() {
      await graph.deleteUser(objectId);
    },
  };
}

/** Runs operations with {@link handlers}; returns the sign-in refusals. */
export async function run(
  rt: Runtime,
  objectId: string,
  upn: string,
  operations: EntraOperation[],
  justCreated = false,
): Promise<string[]> {
  const refusals: Refusals = { lines: [] };
  try {
    await execute(operations, handlers(rt, objectId, upn, justCreated, refusals), {
      describe: describeOperation,
    });
  } finally {
    rt.invalidate(USERS);
  }
  return refusals.lines;
}

/** The outputs of a user whose plan ran: what Entra holds now, as far as the plan knows it. */
function outputsOf(
  inputs: EntraUserInputs,
  objectId: string,
  adopted: boolean,
  actual: UserSnapshot,
  plan: Pick<EntraUserPlan, "licensesAfter">,
  initialPassword?: string,
): EntraUserOutputs {
  const { provenance: _, ...declared } = inputs;
  const synced = actual.onPremisesSync === true;
  return {
    ...declared,
    // On-premises AD masters these for a synced user: record what Entra has.
    displayName: synced ? actual.displayName : inputs.displayName,
    enabled: synced ? actual.enabled : inputs.enabled,
    licenses: plan.licensesAfter,
    objectId,
    adopted,
    ...(synced ? { onPremisesSync: true } : {}),
    ...(initialPassword ? { initialPassword } : {}),
  };
}

/**
 * Outputs recording what Entra really has after a failed or refused step, so the next diff sees
 * the remaining work and `update` resumes it. Reads the user again; falls back to `before`.
 */
async function reached(
  rt: Runtime,
  inputs: EntraUserInputs,
  objectId: string,
  adopted: boolean,
  before: UserSnapshot,
  password?: string,
): Promise<EntraUserOutputs> {
  let now = before;
  try {
    const fresh = await client(rt).getUserById(objectId);
    if (fresh) now = toUserSnapshot(fresh, await skus(rt));
  } catch {
    // keep the snapshot from before the failed step
  }
  const { provenance: _, ...declared } = inputs;
  return {
    ...declared,
    displayName: now.displayName,
    usageLocation: now.usageLocation ?? "",
    enabled: now.enabled,
    licenses: now.directLicenses,
    objectId,
    adopted,
    ...(now.onPremisesSync ? { onPremisesSync: true } : {}),
    ...(password ? { initialPassword: password } : {}),
  };
}

/**
 * Plans and applies `inputs` to an existing user: seats are checked and reserved before any
 * write (`release` hands over seats reserved before a create), then the operations run in the
 * plan's order. A failure, or a refused sign-in change, becomes a partial failure recording
 * what Entra has.
 */
export async function apply(
  rt: Runtime,
  inputs: EntraUserInputs,
  objectId: string,
  actual: UserSnapshot,
  context: { adopted: boolean; created?: boolean; password?: string; release?: () => void },
): Promise<EntraUserOutputs> {
  const plan = planUser(inputs, actual, { created: context.created ?? false });
  const release = context.release ?? (await reserveSeats(rt, plan.seats));
  let refused: string[];
  try {
    refused = await run(rt, objectId, inputs.upn, plan.operations, context.created ?? false);
  } catch (e) {
    release();
    throw new PartialFailure(
      objectId,
      await reached(rt, inputs, objectId, context.adopted, actual, context.password),
      e,
    );
  }
  if (refused.length > 0) {
    const outs = await reached(rt, inputs, objectId, context.adopted, actual, context.password);
    throw new PartialFailure(objectId, outs, new Error(refused.join("; ")));
  }
  return outputsOf(inputs, objectId, context.adopted, actual, plan, context.password);
}
