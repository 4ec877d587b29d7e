/**
 * The `dataverse:User` dynamic resource: one user's presence, business unit and exact DIRECT
 * role set in one Dataverse environment (issue 6 items 3, 5–7). The serialized state holds only
 * the shim's loader (core/shim.ts); the engine's provider process imports this module and calls
 * {@link provider}. Module-level code is cheap and captures nothing secret.
 *
 * Decisions (numbers from bench/requests-dataverse.ts against the lived-in sandbox, F&O-linked
 * environment, 2 declared roles: JIT onboarding 11 requests, two of them revoking the roles the
 * F&O auto-provisioning adds; addUser onboarding with a 5 s sync lag 13 requests in 7 s, polls
 * growing with the lag; refresh of 1,000 unchanged users 1 request; preview of them 4 requests;
 * ~830 bytes of state per resource, shim included):
 * - **Presence.** A user already synced (background sync, F&O auto-provisioning, an earlier run)
 *   is adopted. Otherwise, when a role is declared, the documented just-in-time association
 *   (`systemusers(azureactivedirectoryobjectid=…)/systemuserroles_association/$ref`) creates the
 *   user and grants its first role in ONE request with no polling; Power Platform admin `addUser`
 *   costs the same request plus at least one poll (more while the sync lags, up to an hour for
 *   F&O-licensed users in real tenants) and waiting for the background sync costs only polls and
 *   unbounded time. So: JIT first; `addUser` + bounded polling when no role is declared or
 *   Dataverse would not create the user just in time (not yet eligible, e.g. a license assigned
 *   seconds ago). https://learn.microsoft.com/power-apps/developer/data-platform/aad-group-team
 *   https://learn.microsoft.com/power-platform/admin/create-users
 * - **Reads.** `create`/`update`/`delete` read their own user fresh (one GET), because an exact
 *   role set must never be computed from a stale list; `read` (refresh) serves every user from one
 *   bulk read per environment and run (one request per 5,000 users), and `check` validates names
 *   against the environment's catalog (two requests per environment and run) so an unknown role
 *   fails in preview, before any write.
 * - **Ownership** is the planner's (plan.ts header): the exact owned scope (direct roles in the
 *   user's business unit that the app may assign) while declared; team roles, other units' roles
 *   and roles the app may not assign are reported as warnings, never changed; removal revokes the
 *   whole owned scope; the Dataverse user is never deleted or disabled by us (it follows Entra).
 *   A disabled user users.yaml keeps enabled is re-synced before its roles change; one it keeps
 *   disabled keeps its grants pending. The caller (WhoAmI and its roles, two requests) and the
 *   team roles (one bulk request) are read once per environment and run.
 * - **Bulk reads stay bulk:** the paging-free `@odata.nextLink` Dataverse puts beside every
 *   complete expanded role list is not truncation (dto.ts), so a refresh costs one request per
 *   page of 5,000 users, not one per user.
 */
import type * as pulumi from "@pulumi/pulumi";
import { isApiError } from "../core/errors.ts";
import { wasInFlight } from "../core/inflight.ts";
import { execute, type Handlers } from "../core/operation.ts";
import {
  compact,
  defineProvider,
  PartialFailure,
  PlanError,
  type ResourceSpec,
  type Subject,
  warning,
} from "../core/provider.ts";
import { type Clock, type Runtime, settled, WaitTimeoutError, waitFor } from "../core/runtime.ts";
import { ShimResource } from "../core/shim.ts";
import type { DeclareContext, Declared } from "../core/system.ts";
import { checkInputs } from "./check.ts";
import type { DataverseClient } from "./client.ts";
import { inputsOf } from "./describe.ts";
import type {
  Caller,
  DataversePerson,
  DataverseUserInputs,
  DataverseUserOutputs,
  Role,
  SystemUser,
  TeamRole,
} from "./model.ts";
import {
  type DataverseOperation,
  describeOperation,
  diff,
  heldRoleNames,
  mayAssign,
  NOT_ASSIGNABLE,
  nameKey,
  normalizeNames,
  outputsOf,
  type Progress,
  planRemoval,
  planUser,
  resolveBusinessUnit,
  resolveRoles,
  sameNames,
} from "./plan.ts";
import {
  clientFor,
  forgetUsers,
  loadCaller,
  loadCatalog,
  loadTeamRoles,
  loadUsers,
  toActual,
} from "./run.ts";
import { isElevationRefusal } from "./service.ts";

export type { DataverseUserInputs, DataverseUserOutputs } from "./model.ts";

/** Arguments of {@link DataverseUser}; the same names as the resource inputs (model contract). */
export interface DataverseUserArgs {
  /** User principal name, as in users.yaml (display and messages; compared case-insensitively). */
  readonly upn: pulumi.Input<string>;
  /** Entra object id of the user: the `entra:User` resource's `objectId` output. */
  readonly objectId: pulumi.Input<string>;
  /** Logical environment name from users.yaml; the stack config maps it to the Dataverse URL. */
  readonly environment: pulumi.Input<string>;
  /** Business unit name; omitted = the environment's root business unit. */
  readonly businessUnit?: pulumi.Input<string>;
  /** Security role names, resolved within the business unit (case-insensitive). */
  readonly roles: pulumi.Input<pulumi.Input<string>[]>;
  /** Whether users.yaml keeps the person enabled (default true). */
  readonly enabled?: pulumi.Input<boolean>;
}

/** One user's access in one Dataverse environment. */
export class DataverseUser extends ShimResource {
  /** `systemuserid` of the Dataverse user. */
  declare readonly systemUserId: pulumi.Output<string>;
  /** The business unit the user is in. */
  declare readonly businessUnitId: pulumi.Output<string>;
  /** Role names this resource granted: what removing it revokes. */
  declare readonly managedRoles: pulumi.Output<string[]>;
  /** Whether the Dataverse user existed before this resource managed it. */
  declare readonly adopted: pulumi.Output<boolean>;

  constructor(name: string, args: DataverseUserArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      "dataverse",
      "User",
      "dataverse/resources",
      name,
      {
        ...args,
        systemUserId: undefined,
        businessUnitId: undefined,
        managedRoles: undefined,
        adopted: undefined,
      },
      opts,
    );
  }
}

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

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const TYPE = "dataverse:User";
const subjectOf = (r: Pick<DataverseUserInputs, "upn" | "environment">): Subject => ({
  user: r.upn,
  environment: r.environment,
});

/** One warning line for the roles a user holds through teams (never ours to change). */
function reportTeamRoles(
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
function handlers(
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
async function reconcile(
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

// ---------------------------------------------------------------------------------------------
// The provider
// ---------------------------------------------------------------------------------------------

/** `dataverse:User` as the kit runs it (core/provider.ts). */
export const spec: ResourceSpec<DataverseUserInputs, DataverseUserOutputs> = {
  type: "dataverse:User",
  subject: (r) => ({ user: r.upn, environment: r.environment }),
  check: checkInputs,
  validates: ["environment", "businessUnit", "roles"],

  // Bad names fail here, in preview; other failures (network, permissions) surface, with their
  // one-line explanation, from the operation that needs the call. A declared role the app may not
  // assign is said here too (a warning: the rest of the user's access still applies).
  async validate(inputs, rt) {
    try {
      const client = clientFor(rt, inputs.environment);
      const catalog = await loadCatalog(rt, client);
      const roles = resolveRoles(catalog, resolveBusinessUnit(catalog, inputs.businessUnit), inputs.roles);
      const caller = await loadCaller(rt, client);
      for (const role of roles.filter((r) => !mayAssign(r, caller)))
        warning(
          TYPE,
          subjectOf(inputs),
          `declares role "${role.name}", which d365-access will not grant or revoke: ${NOT_ASSIGNABLE}`,
        );
      return [];
    } catch (e) {
      if (e instanceof PlanError)
        return e.problems.map((reason) => ({ property: e.property ?? "roles", reason }));
      throw e;
    }
  },

  diff,

  async create(inputs, rt) {
    const outs = await reconcile(rt, inputs, undefined);
    return { id: outs.systemUserId, outs: compact(outs) };
  },

  async update(_id, olds, news, rt) {
    return compact(await reconcile(rt, news, olds));
  },

  async read(id, olds, rt) {
    const client = clientFor(rt, olds.environment);
    const users = await loadUsers(rt, client);
    const objectId = (olds.objectId ?? "").toLowerCase();
    const user = users.get(objectId);
    // Gone (or soft-deleted): refresh drops the resource; the next `up` brings the user back.
    if (!user) return undefined;
    const roles = user.roles ?? [];
    const sameUnit = user.businessUnitId === olds.businessUnitId;
    // The caller (two requests per environment and run) matters only for a role it may not assign;
    // the catalog (two more) only to name a business unit that changed.
    const reserved = roles.some((r) => !mayAssign(r, { systemAdministrator: false }));
    const caller: Caller | undefined = reserved ? await loadCaller(rt, client) : undefined;
    const catalog = sameUnit ? undefined : await loadCatalog(rt, client);
    const businessUnit = sameUnit
      ? olds.businessUnit
      : (catalog?.businessUnits.find((b) => b.businessUnitId === user.businessUnitId)?.name ??
        user.businessUnitId);
    const held = heldRoleNames(roles, user.businessUnitId, olds.roles ?? [], caller);
    const pending = user.disabled && olds.enabled === false ? (olds.pendingRoles ?? []) : [];
    const unchanged = sameUnit && sameNames([...held, ...pending], olds.roles ?? []);
    const props2: DataverseUserOutputs = compact({
      upn: olds.upn,
      objectId: olds.objectId,
      environment: olds.environment,
      businessUnit,
      roles: unchanged ? olds.roles : held,
      enabled: olds.enabled,
      systemUserId: user.systemUserId,
      businessUnitId: user.businessUnitId,
      managedRoles: olds.managedRoles ?? [],
      pendingRoles: unchanged && pending.length > 0 ? pending : undefined,
      adopted: olds.adopted ?? false,
    });
    return { id: id || user.systemUserId, props: props2 };
  },

  // Removal revokes the whole owned scope (the kit's removal rule); what stays is said.
  async delete(_id, olds, rt) {
    const client = clientFor(rt, olds.environment);
    const user = await client.getSystemUserByObjectId(olds.objectId);
    if (!user) return; // NotFound means done
    const caller = await loadCaller(rt, client);
    const { operations, untouched } = planRemoval(toActual(user), caller);
    if (operations.length > 0) forgetUsers(rt, olds.environment);
    const progress: Progress = { user, present: [...(user.roles ?? [])], granted: new Set() };
    await execute(operations, handlers(client, olds, progress), { describe: describeOperation });
    if (untouched.length > 0) {
      const names = normalizeNames(untouched.map((r) => r.name)).map((n) => `"${n}"`);
      warning(
        TYPE,
        subjectOf(olds),
        `removed from users.yaml, still holds ${names.join(", ")} directly: not d365-access's to revoke (another business unit's, or ${NOT_ASSIGNABLE})`,
      );
    }
    reportTeamRoles(subjectOf(olds), (await loadTeamRoles(rt, client)).get(user.systemUserId) ?? [], []);
  },
};

/** The dynamic provider the shim loads (all seven methods). */
export const provider = defineProvider(spec);

/** Declares the user's resources (its registry entry's declarer). */
export function declare(user: DataversePerson, context: DeclareContext): Declared {
  const resources = user.dataverse.map(
    (access) =>
      new DataverseUser(`${context.name}/${access.environment}`, inputsOf(user, access, context), {
        dependsOn: context.dependsOn,
        ...(context.parent ? { parent: context.parent } : {}),
      }),
  );
  return { resources };
}
