/**
 * The pure Dataverse planner (design.md principle 2): given the declared access of one user in
 * one environment, the environment's catalog (business units, roles) and the user's actual state,
 * it decides what to do. No I/O, deterministic, sorted. `diff`, `create`, `update`, `delete` and
 * the access report all answer from here.
 *
 * ## Ownership rules (design.md principle 4)
 * - **Team and Entra-group roles are never touched.** They reach a user through team membership
 *   (`teamroles_association`), never through the user's own `systemuserroles_association`, which
 *   is the only association this planner reads or writes. They are listed for reports only.
 *   https://learn.microsoft.com/power-apps/developer/data-platform/aad-group-team
 * - **While a user is declared, its DIRECT role set is exact.** Every declared role is granted if
 *   missing; every direct role that is present but undeclared is revoked — whoever granted it
 *   (us, an admin by hand, or the F&O auto-provisioning). That is the point of access as code: a
 *   System Administrator granted by hand on a declared user disappears at the next `up`, and the
 *   preview shows it first. Users that are not declared are never read for changes at all.
 * - **`managedRoles` records the roles WE granted** (declared roles that were missing when we
 *   granted them). A declared role that was already present when we adopted the user is not ours.
 * - **Removal revokes only `managedRoles`** (still present, in the user's business unit), so an
 *   adopted user goes back to the roles it was found with, minus any undeclared ones exactness
 *   already revoked. The Dataverse user is never deleted: its enabled state follows Entra.
 *
 * Names are compared case-insensitively (Dataverse compares names with a case-insensitive
 * collation) after trimming; roles resolve BY NAME within the user's business unit, because
 * every business unit holds its own copy of each role (reference/dataverse.md §2.2).
 */
import { compact, PlanError } from "../core/provider.ts";
import type {
  ActualUser,
  BusinessUnit,
  Catalog,
  DataverseUserInputs,
  DataverseUserOutputs,
  Role,
  SystemUser,
} from "./model.ts";

/** One remote change, named by intent. */
export type DataverseOperation =
  /** Bring a missing user into the environment: the just-in-time association with `role`, else a sync request and a bounded wait. */
  | { kind: "addUser"; role: Role | undefined }
  | { kind: "setBusinessUnit"; from: BusinessUnit | undefined; to: BusinessUnit }
  | { kind: "revokeRole"; role: Role }
  | { kind: "grantRole"; role: Role };

/** An operation in words, for errors and reports. */
export function describeOperation(op: DataverseOperation): string {
  switch (op.kind) {
    case "addUser":
      return op.role ? `add the user with role ${op.role.name}` : "add the user (sync request)";
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
  /** Non-fatal findings worth showing (e.g. a disabled user). */
  warnings: string[];
  /** True when nothing has to change, bookkeeping included. */
  noop: boolean;
}

/** How a missing user is brought into the environment; see {@link choosePresence}. */
export type PresenceStrategy = { kind: "present" } | { kind: "jit"; role: Role } | { kind: "addUser" };

const MAX_CANDIDATES = 12;

/** The comparison key of a name: trimmed, lower-case. */
export function nameKey(name: string): string {
  return name.trim().toLowerCase();
}

/** Trims, drops empty and case-insensitive duplicates (first spelling wins), sorts by key. */
export function normalizeNames(names: readonly string[]): string[] {
  const byKey = new Map<string, string>();
  for (const raw of names) {
    const name = raw.trim();
    if (name !== "" && !byKey.has(nameKey(name))) byKey.set(nameKey(name), name);
  }
  return [...byKey.entries()].sort(([a], [b]) => compare(a, b)).map(([, name]) => name);
}

/** True when two name lists hold the same names, ignoring case, order and duplicates. */
export function sameNames(a: readonly string[], b: readonly string[]): boolean {
  const ka = normalizeNames(a).map(nameKey);
  const kb = normalizeNames(b).map(nameKey);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

/** The root business unit (the one without a parent). */
export function rootBusinessUnit(catalog: Catalog): BusinessUnit {
  const roots = catalog.businessUnits.filter((bu) => bu.parentId === undefined);
  const root = roots[0];
  if (roots.length !== 1 || root === undefined) {
    throw new PlanError(
      [
        `Dataverse environment "${catalog.environment}": expected exactly one root business unit, found ${roots.length}`,
      ],
      "businessUnit",
    );
  }
  return root;
}

/** Resolves a business unit name (undefined = root), case-insensitively. */
export function resolveBusinessUnit(catalog: Catalog, name: string | undefined): BusinessUnit {
  if (name === undefined || name.trim() === "") return rootBusinessUnit(catalog);
  const matches = catalog.businessUnits.filter((bu) => nameKey(bu.name) === nameKey(name));
  const only = matches[0];
  if (matches.length === 1 && only !== undefined) return only;
  if (matches.length > 1) {
    throw new PlanError(
      [
        `Dataverse environment "${catalog.environment}": business unit "${name}" is ambiguous: ${matches.length} business units have that name (${matches
          .map((bu) => bu.businessUnitId)
          .sort(compare)
          .join(", ")})`,
      ],
      "businessUnit",
    );
  }
  throw new PlanError(
    [
      `Dataverse environment "${catalog.environment}": business unit "${name}" does not exist; business units: ${candidates(
        catalog.businessUnits.map((bu) => bu.name),
      )}`,
    ],
    "businessUnit",
  );
}

/**
 * Resolves role names within one business unit. Unknown and ambiguous names are collected and
 * thrown together (one line each) so a user fixes them all in one pass.
 */
export function resolveRoles(catalog: Catalog, businessUnit: BusinessUnit, names: readonly string[]): Role[] {
  const inUnit = catalog.roles.filter((r) => r.businessUnitId === businessUnit.businessUnitId);
  const problems: string[] = [];
  const resolved: Role[] = [];
  const where = `Dataverse environment "${catalog.environment}", business unit "${businessUnit.name}"`;
  for (const name of normalizeNames(names)) {
    const matches = inUnit.filter((r) => nameKey(r.name) === nameKey(name));
    const only = matches[0];
    if (matches.length === 1 && only !== undefined) {
      resolved.push(only);
    } else if (matches.length > 1) {
      const ids = matches.map((r) => r.roleId).sort(compare);
      problems.push(
        `${where}: role "${name}" is ambiguous: ${matches.length} roles have that name (${ids.join(", ")})`,
      );
    } else {
      problems.push(
        `${where}: role "${name}" does not exist; roles there: ${candidates(
          inUnit.map((r) => r.name),
          name,
        )}`,
      );
    }
  }
  if (problems.length > 0) throw new PlanError(problems, "roles");
  return sortRoles(resolved);
}

/**
 * Plans one declared user against its actual state (undefined: not in the environment yet).
 * Throws {@link PlanError} on bad names.
 */
export function planUser(args: {
  desired: Pick<DataverseUserInputs, "businessUnit" | "roles">;
  catalog: Catalog;
  actual: ActualUser | undefined;
  /** `managedRoles` from the last applied outputs ([] on create or adopt). */
  managedRoles: readonly string[];
}): UserPlan {
  const { desired, catalog, actual } = args;
  const target = resolveBusinessUnit(catalog, desired.businessUnit);
  const roles = resolveRoles(catalog, target, desired.roles);
  const warnings: string[] = [];
  const unchanged = normalizeNames(args.managedRoles);
  const base = { businessUnit: target, roles, untouchedTeamRoles: [], warnings, noop: false };
  if (!actual) {
    const presence = choosePresence({ exists: false, catalog, desired });
    const role = presence.kind === "jit" ? presence.role : undefined;
    return { ...base, operations: [{ kind: "addUser", role }], replan: true, managedRoles: unchanged };
  }
  const untouchedTeamRoles = normalizeNames((actual.teamRoles ?? []).map((r) => r.name));
  if (actual.businessUnitId !== target.businessUnitId) {
    // Dataverse removes a user's roles when it moves, unless the organization sets
    // DoNotRemoveRolesOnChangeBusinessUnit: the roles are planned from a fresh read after the move.
    // https://learn.microsoft.com/power-platform/admin/create-edit-business-units
    const from = catalog.businessUnits.find((bu) => bu.businessUnitId === actual.businessUnitId);
    return {
      ...base,
      untouchedTeamRoles,
      operations: [{ kind: "setBusinessUnit", from, to: target }],
      replan: true,
      managedRoles: unchanged,
    };
  }
  const operations: DataverseOperation[] = [];
  const declaredIds = new Set(roles.map((r) => r.roleId));
  const presentIds = new Set(actual.roles.map((r) => r.roleId));
  // Exact direct role set: revoke every undeclared direct role (see the ownership rules above).
  for (const role of sortRoles(actual.roles)) {
    if (!declaredIds.has(role.roleId)) operations.push({ kind: "revokeRole", role });
  }
  const grants = roles.filter((r) => !presentIds.has(r.roleId));
  for (const role of grants) operations.push({ kind: "grantRole", role });
  if (actual.disabled && grants.length > 0) {
    warnings.push(
      `Dataverse environment "${catalog.environment}": user ${actual.systemUserId} is disabled; Dataverse refuses role grants to disabled users until Entra enables them`,
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
  return { ...base, untouchedTeamRoles, operations, replan: false, managedRoles, noop };
}

/**
 * Plans the removal of a user from our management: revoke the roles we granted that are still
 * present in the user's business unit. Never deletes or disables the Dataverse user.
 */
export function planRemoval(actual: ActualUser, managedRoles: readonly string[]): DataverseOperation[] {
  const ours = new Set(managedRoles.map(nameKey));
  return sortRoles(actual.roles)
    .filter((r) => r.businessUnitId === actual.businessUnitId && ours.has(nameKey(r.name)))
    .map((role): DataverseOperation => ({ kind: "revokeRole", role }));
}

/**
 * Chooses how a user gets into the environment, by request count (measured in
 * bench/requests-dataverse.ts against the sandbox):
 * - already there (background sync or earlier run): nothing to do;
 * - else, when at least one role is declared, the documented just-in-time association
 *   `POST systemusers(azureactivedirectoryobjectid=…)/systemuserroles_association/$ref`, which
 *   creates the user AND grants a role in one request, with no polling. A JIT-created user lands
 *   in the root business unit (UNCONFIRMED; the safest reading of the docs), so the role used is
 *   the ROOT copy of the first declared role; when the target is a child unit the executor then
 *   moves the user, which strips that role, and re-plans.
 *   https://learn.microsoft.com/power-apps/developer/data-platform/aad-group-team
 * - else (no roles declared) Power Platform admin `addUser`, then poll until the row appears.
 *   https://learn.microsoft.com/power-platform/admin/create-users
 */
export function choosePresence(args: {
  exists: boolean;
  catalog: Catalog;
  desired: Pick<DataverseUserInputs, "businessUnit" | "roles">;
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
    if (rootCopies.length === 1 && only !== undefined) return { kind: "jit", role: only };
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
  // A replacement always concerns a different Dataverse user (ids compare case-insensitively), so
  // the default create-before-delete order cannot have the old removal undo the new grants.
  return { changes: changed.length > 0, replaces, deleteBeforeReplace: false };
}

function sortRoles(roles: readonly Role[]): Role[] {
  return [...roles].sort((a, b) => compare(nameKey(a.name), nameKey(b.name)) || compare(a.roleId, b.roleId));
}

function sameSpelling(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A short, sorted list of candidate names; close names (sharing a word) first. */
function candidates(names: readonly string[], wanted?: string): string {
  const unique = normalizeNames(names);
  if (unique.length === 0) return "(none)";
  const words = wanted ? nameKey(wanted).split(/\s+/) : [];
  const close = unique.filter((n) => words.some((w) => w.length > 2 && nameKey(n).includes(w)));
  const ordered = [...close, ...unique.filter((n) => !close.includes(n))];
  const shown = ordered.slice(0, MAX_CANDIDATES).map((n) => `"${n}"`);
  const more = ordered.length - shown.length;
  return more > 0 ? `${shown.join(", ")} and ${more} more` : shown.join(", ");
}

/** The role names to show for a user's direct roles: foreign-unit roles carry their unit's name. */
export function roleNames(
  roles: readonly Role[],
  businessUnitId: string,
  catalog: Catalog | undefined,
): string[] {
  return normalizeNames(
    roles.map((r) => {
      if (r.businessUnitId === businessUnitId) return r.name;
      const unit = catalog?.businessUnits.find((b) => b.businessUnitId === r.businessUnitId);
      return `${r.name} [${unit?.name ?? r.businessUnitId}]`;
    }),
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
  previouslyManaged: readonly string[],
  adopted: boolean,
): DataverseUserOutputs | undefined {
  const user = progress.user;
  if (!user) return undefined;
  const ours = new Set([...previouslyManaged.map(nameKey), ...progress.granted]);
  const inUnit = progress.present.filter((r) => r.businessUnitId === user.businessUnitId);
  const managedRoles = normalizeNames(inUnit.filter((r) => ours.has(nameKey(r.name))).map((r) => r.name));
  let target: string | undefined;
  try {
    target = resolveBusinessUnit(catalog, inputs.businessUnit).businessUnitId;
  } catch {
    target = undefined;
  }
  const inTarget = target === user.businessUnitId;
  const actualNames = roleNames(progress.present, user.businessUnitId, catalog);
  return compact({
    upn: inputs.upn,
    objectId: inputs.objectId,
    environment: inputs.environment,
    // Report what was reached: a difference from the inputs makes the next `diff` resume the work.
    businessUnit: inTarget
      ? inputs.businessUnit
      : (catalog.businessUnits.find((b) => b.businessUnitId === user.businessUnitId)?.name ??
        user.businessUnitId),
    roles: inTarget && sameNames(actualNames, inputs.roles) ? inputs.roles : actualNames,
    systemUserId: user.systemUserId,
    businessUnitId: user.businessUnitId,
    managedRoles,
    adopted,
  });
}
