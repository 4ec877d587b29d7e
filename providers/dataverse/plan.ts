/**
 * The pure Dataverse planner: given the declared access of one user in one environment, the
 * environment's catalog (business units, roles) and the user's actual state, it decides what to
 * do. No I/O, deterministic, sorted. `diff`, `create`, `update`, `delete` and the access report
 * all answer from here.
 *
 * ## Ownership rules
 * - **The owned scope** is the user's DIRECT roles in its own business unit
 *   (`systemuserroles_association`) that the caller may assign ({@link mayAssign}).
 * - **Team and Entra-group roles are never touched.** They reach a user through team membership
 *   (`teamroles_association`), never through the user's own association; they are reported.
 *   https://learn.microsoft.com/power-apps/developer/data-platform/aad-group-team
 * - **Roles the caller may not assign** (System Administrator and System Customizer unless the
 *   app is System Administrator: no privilege elevation) are neither granted nor revoked; each is
 *   reported with why, and a grant Dataverse refuses for that reason is reported the same way.
 *   Direct roles of another business unit (possible with record ownership across business units)
 *   are likewise an admin's, reported and left.
 * - **While a user is declared, the owned scope is exact.** Every declared role is granted if
 *   missing; every owned role that is present but undeclared is revoked, whoever granted it (us,
 *   an admin by hand, the F&O auto-provisioning). The preview shows it first.
 * - **Disabled users.** A disabled user users.yaml keeps enabled is re-synced first (Dataverse
 *   refuses roles to disabled users); one users.yaml keeps disabled loses undeclared roles but its
 *   grants wait (`pendingRoles`) until it is enabled.
 * - **Removal revokes the whole owned scope** by the kit's removal rule (core/removal.ts), not
 *   only what we granted (`managedRoles` is a record). The Dataverse user is never deleted or
 *   disabled: it follows Entra.
 *
 * Names are compared case-insensitively (Dataverse compares names with a case-insensitive
 * collation) after trimming; roles resolve BY NAME within the user's business unit, because
 * every business unit holds its own copy of each role (the Terraform provider resolves names the
 * same way: `ResolveSecurityRoleNames` in `internal/services/application/api_application.go` of
 * https://github.com/microsoft/terraform-provider-power-platform).
 */
import { compact, PlanError } from "../core/provider.ts";
import { decideRemoval } from "../core/removal.ts";
import {
  nameKey,
  normalizeNames,
  resolveBusinessUnit,
  resolveRoles,
  rootBusinessUnit,
  sameNames,
  sortRoles,
} from "./check.ts";
import {
  type ActualUser,
  type BusinessUnit,
  type Caller,
  type Catalog,
  type DataverseUserInputs,
  type DataverseUserOutputs,
  type Role,
  SYSTEM_ADMINISTRATOR_TEMPLATE,
  SYSTEM_CUSTOMIZER_TEMPLATE,
  type SystemUser,
} from "./model.ts";

/** One remote change, named by intent. */
export type DataverseOperation =
  /** Bring a missing user into the environment: the just-in-time association with `role`, else a sync request and a bounded wait. */
  | { kind: "addUser"; role: Role | undefined }
  /** Ask for a sync of a disabled user whom Entra enables again, and wait until Dataverse enables it. */
  | { kind: "resync" }
  | { kind: "setBusinessUnit"; from: BusinessUnit | undefined; to: BusinessUnit }
  | { kind: "revokeRole"; role: Role }
  | { kind: "grantRole"; role: Role };

/** An operation in words, for errors and reports. */
export function describeOperation(op: DataverseOperation): string {
  switch (op.kind) {
    case "addUser":
      return op.role ? `add the user with role ${op.role.name}` : "add the user (sync request)";
    case "resync":
      return "re-sync the disabled user";
    case "setBusinessUnit":
      return `move to business unit ${op.to.name}`;
    case "revokeRole":
      return `revoke role ${op.role.name}`;
    case "grantRole":
      return `grant role ${op.role.name}`;
  }
}

/** The plan for one user. */
export interface UserPlan {
  businessUnit: BusinessUnit;
  /** The declared roles resolved in `businessUnit`, sorted by name. */
  roles: Role[];
  /**
   * Ordered: revocations before grants, so a failure half-way leaves the user with less access,
   * never more. A missing user is first brought in, and a user in another business unit first
   * moved, each alone: what Dataverse holds afterwards (roles given by auto-provisioning, roles
   * stripped by the move) is read, not guessed, so the executor plans again (`replan`).
   */
  operations: DataverseOperation[];
  /** True when the operations only prepare: plan again from a fresh read once they ran. */
  replan: boolean;
  /** `managedRoles` once the operations succeeded. */
  managedRoles: string[];
  /** Team roles, for reports: never in `operations`. */
  untouchedTeamRoles: string[];
  /** Declared roles whose grant waits until the (disabled) user is enabled. */
  pendingRoles: string[];
  /** Findings shown as warnings, never failures: roles left to an admin or a team, grants skipped. */
  warnings: string[];
  /** True when nothing has to change, bookkeeping included. */
  noop: boolean;
}

/** How a missing user is brought into the environment; see {@link choosePresence}. */
export type PresenceStrategy = { kind: "present" } | { kind: "jit"; role: Role } | { kind: "addUser" };

/** Whether the caller may grant and revoke `role` (no privilege elevation; unknown caller: yes). */
export function mayAssign(role: Role, caller: Caller | undefined): boolean {
  if (!caller || caller.systemAdministrator) return true;
  return role.templateId !== SYSTEM_ADMINISTRATOR_TEMPLATE && role.templateId !== SYSTEM_CUSTOMIZER_TEMPLATE;
}

/** Why the caller may not assign a role, for the warning line. */
export const NOT_ASSIGNABLE =
  "only a System Administrator may assign or revoke it, and the app's application user is not one (no privilege elevation)";

/** Whether a direct role is in the owned scope of a user in `businessUnitId`. */
export function owns(role: Role, businessUnitId: string, caller: Caller | undefined): boolean {
  return role.businessUnitId === businessUnitId && mayAssign(role, caller);
}

/** The owned-scope part of a user's direct roles. */
export function ownedRoles(actual: Pick<ActualUser, "roles" | "businessUnitId">, caller?: Caller): Role[] {
  return actual.roles.filter((r) => owns(r, actual.businessUnitId, caller));
}

/**
 * Plans one declared user against its actual state (undefined: not in the environment yet).
 * Throws {@link PlanError} on bad names.
 */
export function planUser(args: {
  desired: Pick<DataverseUserInputs, "businessUnit" | "roles" | "enabled">;
  catalog: Catalog;
  actual: ActualUser | undefined;
  /** `managedRoles` from the last applied outputs ([] on create or adopt). */
  managedRoles: readonly string[];
  /** The caller, when known: which roles it may assign. */
  caller?: Caller | undefined;
}): UserPlan {
  const { desired, catalog, actual, caller } = args;
  const target = resolveBusinessUnit(catalog, desired.businessUnit);
  const roles = resolveRoles(catalog, target, desired.roles);
  const warnings: string[] = [];
  const unchanged = normalizeNames(args.managedRoles);
  const base = {
    businessUnit: target,
    roles,
    untouchedTeamRoles: [],
    pendingRoles: [],
    warnings,
    noop: false,
  };
  const keepEnabled = desired.enabled !== false;
  for (const role of roles.filter((r) => !mayAssign(r, caller))) {
    const held = actual?.roles.some((r) => r.roleId === role.roleId) ?? false;
    warnings.push(
      `declares role "${role.name}", which d365-access will ${held ? "not revoke either" : "not grant"}: ${NOT_ASSIGNABLE}`,
    );
  }
  if (!actual) {
    const presence = choosePresence({ exists: false, catalog, desired, caller });
    const role = presence.kind === "jit" ? presence.role : undefined;
    return { ...base, operations: [{ kind: "addUser", role }], replan: true, managedRoles: unchanged };
  }
  const untouchedTeamRoles = normalizeNames((actual.teamRoles ?? []).map((r) => r.role));
  if (actual.disabled && keepEnabled) {
    // Dataverse refuses roles to disabled users: the sync enables it again once Entra has.
    return {
      ...base,
      untouchedTeamRoles,
      operations: [{ kind: "resync" }],
      replan: true,
      managedRoles: unchanged,
    };
  }
  if (actual.businessUnitId !== target.businessUnitId) {
    // Dataverse removes a user's roles when it moves, unless the organization sets
    // DoNotRemoveRolesOnChangeBusinessUnit, when they would stay as roles of another unit, no
    // longer ours: so the owned ones are revoked first (less access meanwhile, never more), and
    // the roles are planned from a fresh read after the move.
    // https://learn.microsoft.com/power-platform/admin/create-edit-business-units
    const from = catalog.businessUnits.find((bu) => bu.businessUnitId === actual.businessUnitId);
    const revoke = sortRoles(ownedRoles(actual, caller)).map(
      (role): DataverseOperation => ({ kind: "revokeRole", role }),
    );
    return {
      ...base,
      untouchedTeamRoles,
      operations: [...revoke, { kind: "setBusinessUnit", from, to: target }],
      replan: true,
      managedRoles: unchanged,
    };
  }
  const operations: DataverseOperation[] = [];
  const declaredIds = new Set(roles.map((r) => r.roleId));
  const presentIds = new Set(actual.roles.map((r) => r.roleId));
  // Exact owned scope: revoke every undeclared owned role (see the ownership rules above).
  for (const role of sortRoles(actual.roles)) {
    if (declaredIds.has(role.roleId)) continue;
    if (owns(role, actual.businessUnitId, caller)) {
      operations.push({ kind: "revokeRole", role });
    } else if (role.businessUnitId !== actual.businessUnitId) {
      const unit = catalog.businessUnits.find((b) => b.businessUnitId === role.businessUnitId)?.name;
      warnings.push(
        `holds role "${role.name}" of business unit "${unit ?? role.businessUnitId}", outside its own: an admin's grant, left as it is`,
      );
    } else {
      warnings.push(`holds role "${role.name}", left as it is: ${NOT_ASSIGNABLE}`);
    }
  }
  const missing = roles.filter((r) => !presentIds.has(r.roleId) && mayAssign(r, caller));
  const grants = actual.disabled ? [] : missing;
  for (const role of grants) operations.push({ kind: "grantRole", role });
  const pendingRoles = actual.disabled ? normalizeNames(missing.map((r) => r.name)) : [];
  if (pendingRoles.length > 0) {
    warnings.push(
      `is disabled and users.yaml keeps it so: ${pendingRoles.map((n) => `"${n}"`).join(", ")} will be granted once it is enabled (Dataverse refuses roles to disabled users)`,
    );
  }

  const previouslyManaged = new Set(args.managedRoles.map(nameKey));
  const grantedKeys = new Set(grants.map((r) => nameKey(r.name)));
  const managedRoles = normalizeNames(
    roles
      .filter((r) => grantedKeys.has(nameKey(r.name)) || previouslyManaged.has(nameKey(r.name)))
      .map((r) => r.name),
  );
  const noop = operations.length === 0 && sameSpelling(managedRoles, unchanged);
  return { ...base, untouchedTeamRoles, pendingRoles, operations, replan: false, managedRoles, noop };
}

/**
 * Plans the removal of a user by the kit's removal rule: revoke its whole owned scope (direct roles
 * in its business unit that the caller may assign, however they were granted). The Dataverse user
 * is never deleted or disabled (it follows Entra); what is left is returned, to report.
 */
export function planRemoval(
  actual: ActualUser,
  caller?: Caller,
): { operations: DataverseOperation[]; untouched: Role[] } {
  const decided = decideRemoval({
    held: sortRoles(actual.roles),
    owns: (role) => owns(role, actual.businessUnitId, caller),
    provenance: "adopted",
    onRemove: "disable",
    enabled: !actual.disabled,
    accounts: "none",
  });
  return {
    operations: decided.revoke.map((role): DataverseOperation => ({ kind: "revokeRole", role })),
    untouched: decided.untouched,
  };
}

/**
 * Chooses how a user gets into the environment, by request count (measured in
 * bench/requests-dataverse.ts against the sandbox):
 * - already there (background sync or earlier run): nothing to do;
 * - else, when a role the caller may assign is declared, the documented just-in-time association
 *   `POST systemusers(azureactivedirectoryobjectid=…)/systemuserroles_association/$ref`, which
 *   creates the user AND grants a role in one request, with no polling. A JIT-created user lands
 *   in the root business unit (UNCONFIRMED; the safest reading of the docs), so the role used is
 *   the ROOT copy of the first such role; when the target is a child unit the executor then
 *   moves the user, which strips that role, and re-plans.
 *   https://learn.microsoft.com/power-apps/developer/data-platform/aad-group-team
 * - else Power Platform admin `addUser`, then poll until the row appears.
 *   https://learn.microsoft.com/power-platform/admin/create-users
 */
export function choosePresence(args: {
  exists: boolean;
  catalog: Catalog;
  desired: Pick<DataverseUserInputs, "businessUnit" | "roles">;
  caller?: Caller | undefined;
}): PresenceStrategy {
  if (args.exists) return { kind: "present" };
  const target = resolveBusinessUnit(args.catalog, args.desired.businessUnit);
  const declared = resolveRoles(args.catalog, target, args.desired.roles);
  const root = rootBusinessUnit(args.catalog);
  for (const role of declared) {
    const rootCopies = args.catalog.roles.filter(
      (r) => r.businessUnitId === root.businessUnitId && nameKey(r.name) === nameKey(role.name),
    );
    const only = rootCopies[0];
    if (rootCopies.length === 1 && only !== undefined && mayAssign(only, args.caller))
      return { kind: "jit", role: only };
  }
  return { kind: "addUser" };
}

/**
 * The answer of `diff`: replace when the identity changes (environment or Entra object id: a
 * different Dataverse user), update when the business unit, the role set or the UPN differ
 * (ignoring case, order and duplicates). An object id still unknown in a preview (the Entra
 * user is being created) is handled by the kit: compared as unchanged, counted as a change.
 */
export function diff(
  olds: Partial<DataverseUserOutputs>,
  news: DataverseUserInputs,
): { changes: boolean; replaces: string[]; deleteBeforeReplace: boolean } {
  const replaces: string[] = [];
  if (nameKey(olds.environment ?? "") !== nameKey(news.environment)) replaces.push("environment");
  if (nameKey(olds.objectId ?? "") !== nameKey(news.objectId)) replaces.push("objectId");
  const changed: string[] = [...replaces];
  if (nameKey(olds.upn ?? "") !== nameKey(news.upn)) changed.push("upn");
  if (nameKey(olds.businessUnit ?? "") !== nameKey(news.businessUnit ?? "")) changed.push("businessUnit");
  if (!sameNames(olds.roles ?? [], news.roles)) changed.push("roles");
  if ((olds.enabled ?? true) !== (news.enabled ?? true)) changed.push("enabled");
  // A replacement always concerns a different Dataverse user (ids compare case-insensitively), so
  // the default create-before-delete order cannot have the old removal undo the new grants.
  return { changes: changed.length > 0, replaces, deleteBeforeReplace: false };
}

function sameSpelling(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The role names a user holds as far as users.yaml is concerned, to compare with its declared
 * roles: the owned scope, plus declared roles held that the caller may not assign (held as
 * declared). Team roles, other business units' roles and undeclared roles the caller may not
 * assign are not ours, so they are no drift (they are reported instead).
 */
export function heldRoleNames(
  roles: readonly Role[],
  businessUnitId: string,
  declared: readonly string[],
  caller: Caller | undefined,
): string[] {
  const wanted = new Set(declared.map(nameKey));
  return normalizeNames(
    roles
      .filter(
        (r) => r.businessUnitId === businessUnitId && (mayAssign(r, caller) || wanted.has(nameKey(r.name))),
      )
      .map((r) => r.name),
  );
}

/** What a reconciliation has reached so far (the executor keeps it), so a failure can report a resumable state. */
export interface Progress {
  user: SystemUser | undefined;
  present: Role[];
  /** Name keys of roles we granted in this call. */
  granted: Set<string>;
}

export function outputsOf(
  inputs: DataverseUserInputs,
  catalog: Catalog,
  progress: Progress,
  /** Roles granted before this call, provenance, and the grants the last plan left pending. */
  known: { managedRoles: readonly string[]; adopted: boolean; pendingRoles?: readonly string[] },
  caller: Caller | undefined,
): DataverseUserOutputs | undefined {
  const user = progress.user;
  if (!user) return undefined;
  const ours = new Set([...known.managedRoles.map(nameKey), ...progress.granted]);
  const inUnit = progress.present.filter((r) => r.businessUnitId === user.businessUnitId);
  const managedRoles = normalizeNames(inUnit.filter((r) => ours.has(nameKey(r.name))).map((r) => r.name));
  let target: string | undefined;
  try {
    target = resolveBusinessUnit(catalog, inputs.businessUnit).businessUnitId;
  } catch {
    target = undefined;
  }
  const inTarget = target === user.businessUnitId;
  const held = heldRoleNames(progress.present, user.businessUnitId, inputs.roles, caller);
  // Grants that wait for a disabled user count as done: enabling it in users.yaml is the change
  // that brings them (diff sees `enabled`), so every run in between does not plan them again.
  const pending = user.disabled && inputs.enabled === false ? normalizeNames(known.pendingRoles ?? []) : [];
  const reached = sameNames([...held, ...pending], inputs.roles);
  return compact({
    upn: inputs.upn,
    objectId: inputs.objectId,
    environment: inputs.environment,
    // Report what was reached: a difference from the inputs makes the next `diff` resume the work.
    businessUnit: inTarget
      ? inputs.businessUnit
      : (catalog.businessUnits.find((b) => b.businessUnitId === user.businessUnitId)?.name ??
        user.businessUnitId),
    roles: inTarget && reached ? inputs.roles : held,
    enabled: inputs.enabled,
    systemUserId: user.systemUserId,
    businessUnitId: user.businessUnitId,
    managedRoles,
    pendingRoles: inTarget && reached && pending.length > 0 ? pending : undefined,
    adopted: known.adopted,
  });
}
