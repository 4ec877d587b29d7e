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
import { execute } from "../core/operation.ts";
import { compact, defineProvider, PlanError, type ResourceSpec, warning } from "../core/provider.ts";
import { ShimResource } from "../core/shim.ts";
import type { DeclareContext, Declared } from "../core/system.ts";
import { apply, handlers, reportTeamRoles, subjectOf, TYPE } from "./apply.ts";
import { checkInputs, normalizeNames, resolveBusinessUnit, resolveRoles, sameNames } from "./check.ts";
import { inputsOf } from "./describe.ts";
import type { Caller, DataversePerson, DataverseUserInputs, DataverseUserOutputs } from "./model.ts";
import {
  describeOperation,
  diff,
  heldRoleNames,
  mayAssign,
  NOT_ASSIGNABLE,
  type Progress,
  planRemoval,
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
    const outs = await apply(rt, inputs, undefined);
    return { id: outs.systemUserId, outs: compact(outs) };
  },

  async update(_id, olds, news, rt) {
    return compact(await apply(rt, news, olds));
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
