/**
 * Carrying out a Dataverse plan (I/O; resources.ts calls it): bringing a missing user into the
 * environment (just-in-time association, or a Power Platform `addUser` sync and a bounded wait),
 * the Web API call behind each operation, and the outputs that record what Dataverse holds —
 * also after a failed step, so the next diff sees what is left.
 */
import { isApiError } from "../core/errors.ts";
import { wasInFlight } from "../core/inflight.ts";
import { execute, type Handlers } from "../core/operation.ts";
import { PartialFailure, type Subject, warning } from "../core/provider.ts";
import { type Clock, type Runtime, settled, WaitTimeoutError, waitFor } from "../core/runtime.ts";
import { nameKey, resolveBusinessUnit, resolveRoles } from "./check.ts";
import type { DataverseClient } from "./client.ts";
import type { DataverseUserInputs, DataverseUserOutputs, Role, SystemUser, TeamRole } from "./model.ts";
import {
  type DataverseOperation,
  describeOperation,
  NOT_ASSIGNABLE,
  outputsOf,
  type Progress,
  planUser,
} from "./plan.ts";
import { clientFor, forgetUsers, loadCaller, loadCatalog, loadTeamRoles, toActual } from "./run.ts";
import { isElevationRefusal } from "./service.ts";

/** Bounds of the wait for a user to appear after `addUser` (tests and benchmarks shorten them). */
export interface PresenceWaitOptions {
  timeoutMs: number;
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  clock?: Clock;
}

/**
 * Defaults: about 10 minutes, polls backing off from 2 s to 20 s. Microsoft's Terraform provider
 * polls up to 30 times with 10–20 s pauses (`GetDataverseUserByAadObjectId` in
 * `internal/services/authorization/api_user.go` of
 * https://github.com/microsoft/terraform-provider-power-platform); F&O-licensed users may take up
 * to an hour to sync on their own, which is why we ask for the sync instead of waiting.
 */
export const presenceWait: PresenceWaitOptions = {
  timeoutMs: 10 * 60_000,
  attempts: 40,
  initialDelayMs: 2_000,
  maxDelayMs: 20_000,
};

export const TYPE = "dataverse:User";
export const subjectOf = (r: Pick<DataverseUserInputs, "upn" | "environment">): Subject => ({
  user: r.upn,
  environment: r.environment,
});

/** One warning line for the roles a user holds through teams (never ours to change). */
export function reportTeamRoles(
  subject: Subject,
  teamRoles: readonly TeamRole[],
  declared: readonly string[],
): void {
  const wanted = new Set(declared.map(nameKey));
  const other = teamRoles.filter((t) => !wanted.has(nameKey(t.role)));
  if (other.length === 0) return;
  const list = [...new Set(other.map((t) => `"${t.role}" (team "${t.team}")`))].sort().join(", ");
  warning(
    TYPE,
    subject,
    `also holds ${list} through teams: team roles are the team's, never changed by d365-access`,
  );
}

/**
 * Waits (bounded) until Dataverse holds the user as `ready` says, asking for a sync while it
 * does not; the error names what was asked and what to check. Every caller has just read the
 * user (absent, or not ready), so the first attempt asks for the sync without reading again.
 */
async function awaitSync(
  client: DataverseClient,
  inputs: DataverseUserInputs,
  ready: (user: SystemUser | undefined) => boolean,
  what: string,
): Promise<SystemUser> {
  const where = `Dataverse environment "${client.environment}"`;
  let lastSync = "";
  let first = true;
  const wait = presenceWait;
  try {
    return await waitFor(
      {
        name: `${where}: user ${inputs.upn} (Entra object id ${inputs.objectId}) ${what}`,
        timeoutMs: wait.timeoutMs,
        attempts: wait.attempts,
        initialDelayMs: wait.initialDelayMs,
        maxDelayMs: wait.maxDelayMs,
        retryOn: ["NotFound"],
        ...(wait.clock ? { clock: wait.clock } : {}),
      },
      async () => {
        const found = first ? undefined : await client.getSystemUserByObjectId(inputs.objectId);
        first = false;
        if (found && ready(found)) return found;
        // One accepted sync request is enough; ask again only while `userNotLicensed` says the
        // license is still propagating (the Terraform provider's `CreateDataverseUser` retries
        // that for 9 minutes).
        if (lastSync === "sync requested") return undefined;
        try {
          await client.forceUserSync(inputs.objectId);
          lastSync = "sync requested";
        } catch (e) {
          if (!isApiError(e, "Unlicensed")) throw e;
          lastSync = `addUser answered ${e.code || "Unlicensed"}: ${e.message}`;
        }
        return undefined;
      },
    );
  } catch (e) {
    if (!(e instanceof WaitTimeoutError)) throw e;
    throw new Error(
      `${where}: user ${inputs.upn} ${what === "appear" ? "is still missing: no systemusers row with" : "is still disabled:"} azureactivedirectoryobjectid ${inputs.objectId} ` +
        `after ${Math.round(wait.timeoutMs / 1000)} s or ${wait.attempts} checks (${lastSync || "no sync answer"}). ` +
        "Check that the Entra user is enabled, holds a license with Dataverse, and is in the environment's security group",
    );
  }
}

/**
 * Brings a missing user into the environment: the just-in-time association with `role` when
 * the plan chose one, else (or when Dataverse would not create the user yet) a sync request and
 * a bounded wait. Returns the fresh row.
 */
async function bringIntoEnvironment(
  client: DataverseClient,
  inputs: DataverseUserInputs,
  role: Role | undefined,
  progress: Progress,
): Promise<SystemUser> {
  if (role) {
    if (await client.associateRoleByObjectId(inputs.objectId, role.roleId)) {
      progress.granted.add(nameKey(role.name));
      const user = await client.getSystemUserByObjectId(inputs.objectId);
      if (user) return user;
    }
    // Dataverse would not create the user just in time (not eligible yet): ask for a sync and poll.
  }
  return awaitSync(client, inputs, (u) => u !== undefined, "appear");
}

/** The client call behind each operation; each keeps `progress` at what Dataverse now holds. */
export function handlers(
  client: DataverseClient,
  inputs: DataverseUserInputs,
  progress: Progress,
): Handlers<DataverseOperation> {
  const current = (): SystemUser => {
    if (!progress.user) throw new Error("internal: an operation on a user not in the environment");
    return progress.user;
  };
  const reached = (user: SystemUser) => {
    progress.user = user;
    progress.present = [...(user.roles ?? [])];
  };
  return {
    async addUser(op) {
      reached(await bringIntoEnvironment(client, inputs, op.role, progress));
    },
    async resync() {
      reached(await awaitSync(client, inputs, (u) => u !== undefined && !u.disabled, "become enabled"));
    },
    async setBusinessUnit(op) {
      const { systemUserId } = current();
      await client.setBusinessUnit(systemUserId, op.to.businessUnitId);
      const fresh = await client.getSystemUser(systemUserId);
      if (!fresh) throw new Error(`user ${systemUserId} disappeared after its business unit changed`);
      reached(fresh);
    },
    async revokeRole(op) {
      await client.disassociateRole(current().systemUserId, op.role.roleId);
      progress.present = progress.present.filter((r) => r.roleId !== op.role.roleId);
    },
    async grantRole(op) {
      try {
        await client.associateRole(current().systemUserId, op.role.roleId);
      } catch (e) {
        // A role the caller may not assign (no elevation): said, not failed; the rest applies.
        if (!isElevationRefusal(e)) throw e;
        warning(
          TYPE,
          subjectOf(inputs),
          `role "${op.role.name}" not granted: Dataverse refused it (${(e as Error).message}); ${NOT_ASSIGNABLE}`,
        );
        return;
      }
      progress.present.push(op.role);
      progress.granted.add(nameKey(op.role.name));
    },
  };
}

/**
 * Create-or-adopt, then converge business unit and the exact owned scope: plan, execute, and
 * plan again while the plan says its operations only prepared (a user brought in, re-synced,
 * moved). Four rounds at most: bring in, re-sync, move, roles. The plan's findings (roles left
 * to an admin or a team, grants waiting for a disabled user) are warnings, said once.
 */
export async function apply(
  rt: Runtime,
  inputs: DataverseUserInputs,
  previous: DataverseUserOutputs | undefined,
): Promise<DataverseUserOutputs> {
  const client = clientFor(rt, inputs.environment);
  const [catalog, caller] = await settled([loadCatalog(rt, client), loadCaller(rt, client)]);
  // Names are resolved before any write, so a typo changes nothing.
  resolveRoles(catalog, resolveBusinessUnit(catalog, inputs.businessUnit), inputs.roles);
  const previouslyManaged = previous?.managedRoles ?? [];
  const progress: Progress = { user: undefined, present: [], granted: new Set() };
  let adopted = previous?.adopted ?? false;
  let pendingRoles: string[] = [];
  const known = () => ({ managedRoles: previouslyManaged, adopted, pendingRoles });
  try {
    const found = await client.getSystemUserByObjectId(inputs.objectId);
    // The Dataverse user of a person whose Entra identity d365-access created is never adopted:
    // it exists because of that identity, whether the interrupted run's just-in-time association
    // or the background sync (faster than a rerun after a kill) brought it in.
    const name = `${inputs.upn}/${inputs.environment}`;
    if (!previous) adopted = found !== undefined && inputs.provenance !== "created";
    // Declared roles found on a resource an interrupted run was writing: granted by that run.
    if (found && wasInFlight(name))
      for (const role of found.roles ?? [])
        if (inputs.roles.some((r) => nameKey(r) === nameKey(role.name)))
          progress.granted.add(nameKey(role.name));
    if (found) {
      progress.user = found;
      progress.present = [...(found.roles ?? [])];
    }
    const run = handlers(client, inputs, progress);
    let moved = false;
    for (let round = 0; round < 4; round++) {
      const managed = [
        ...previouslyManaged,
        ...progress.present.filter((r) => progress.granted.has(nameKey(r.name))).map((r) => r.name),
      ];
      const plan = planUser({
        desired: inputs,
        catalog,
        actual: progress.user && toActual({ ...progress.user, roles: progress.present }),
        managedRoles: managed,
        caller,
      });
      if (!plan.replan) for (const line of plan.warnings) warning(TYPE, subjectOf(inputs), line);
      pendingRoles = plan.pendingRoles;
      const move = plan.operations.find((op) => op.kind === "setBusinessUnit");
      if (move && moved) {
        throw new Error(
          `the business unit of user ${progress.user?.systemUserId} did not change to "${move.to.name}"`,
        );
      }
      moved ||= move !== undefined;
      await execute(plan.operations, run, {
        describe: describeOperation,
        before: () => forgetUsers(rt, inputs.environment),
      });
      if (!plan.replan) break;
    }
  } catch (e) {
    const reached = outputsOf(inputs, catalog, progress, known(), caller);
    if (reached) throw new PartialFailure(reached.systemUserId, reached, e);
    throw e;
  }
  const out = outputsOf(inputs, catalog, progress, known(), caller);
  if (!out) throw new Error("internal: no Dataverse user after reconciliation");
  const teams = await loadTeamRoles(rt, client);
  reportTeamRoles(subjectOf(inputs), teams.get(out.systemUserId) ?? [], inputs.roles);
  return out;
}
