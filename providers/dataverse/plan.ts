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
import type { BusinessUnit, Role } from "./dto.ts";

/** The declared access of one user in one Dataverse environment (the resource inputs). */
export interface DataverseUserInputs {
  /** User principal name as written in users.yaml; compared case-insensitively. */
  upn: string;
  /** Entra object id of the user (the `entra:User` output). */
  objectId: string;
  /** Logical environment name, e.g. "contoso-demo". */
  environment: string;
  /** Business unit name; undefined = the root business unit. */
  businessUnit?: string | undefined;
  /** Security role names, within the business unit. */
  roles: string[];
}

/** What the provider stores after applying (inputs plus what it learnt). */
export interface DataverseUserOutputs extends DataverseUserInputs {
  /** `systemuserid` of the Dataverse user. */
  systemUserId: string;
  /** `businessunitid` the user is in. */
  businessUnitId: string;
  /** Role names we granted (what removal revokes), sorted. */
  managedRoles: string[];
  /** True when the Dataverse user existed before we managed it. */
  adopted: boolean;
}

/** The environment's catalog, read once per run. */
export interface Catalog {
  /** Logical environment name, used in error messages. */
  environment: string;
  businessUnits: BusinessUnit[];
  roles: Role[];
}

/** The user as Dataverse holds it now. */
export interface ActualUser {
  systemUserId: string;
  businessUnitId: string;
  disabled: boolean;
  /** Direct roles (`systemuserroles_association`). */
  roles: Role[];
  /** Roles reaching the user through teams or Entra groups: reported, never changed. */
  teamRoles?: Role[];
}

/** One remote change. */
export type Operation =
  | { kind: "setBusinessUnit"; from: BusinessUnit | undefined; to: BusinessUnit }
  | { kind: "revokeRole"; role: Role }
  | { kind: "grantRole"; role: Role };

/** The plan for one user. */
export interface UserPlan {
  businessUnit: BusinessUnit;
  /** The declared roles resolved in `businessUnit`, sorted by name. */
  roles: Role[];
  /**
   * Ordered: business unit first (Dataverse strips a user's roles when it moves, so the executor
   * re-plans roles after a move), then revocations, then grants. Revoking before granting means a
   * failure half-way leaves the user with less access, never more.
   */
  operations: Operation[];
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

/** An input that cannot be planned (unknown or ambiguous name); `problems` has one line each. */
export class PlanError extends Error {
  /** The input property at fault, for `check` failures. */
  readonly property: "roles" | "businessUnit";
  readonly problems: string[];
  constructor(property: "roles" | "businessUnit", problems: string[]) {
    super(problems.join("\n"));
    this.name = "PlanError";
    this.property = property;
    this.problems = problems;
  }
}

/** The value the Pulumi engine sends for an unknown input during preview (reference/pulumi.md §1.3). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

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
    throw new PlanError("businessUnit", [
      `Dataverse environment "${catalog.environment}": expected exactly one root business unit, found ${roots.length}`,
    ]);
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
    throw new PlanError("businessUnit", [
      `Dataverse environment "${catalog.environment}": business unit "${name}" is ambiguous: ${matches.length} business units have that name (${matches
        .map((bu) => bu.businessUnitId)
        .sort(compare)
        .join(", ")})`,
    ]);
  }
  throw new PlanError("businessUnit", [
    `Dataverse environment "${catalog.environment}": business unit "${name}" does not exist; business units: ${candidates(
      catalog.businessUnits.map((bu) => bu.name),
    )}`,
  ]);
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
  if (problems.length > 0) throw new PlanError("roles", problems);
  return sortRoles(resolved);
}

/** Plans one declared user against its actual state. Throws {@link PlanError} on bad names. */
export function planUser(args: {
  desired: Pick<DataverseUserInputs, "businessUnit" | "roles">;
  catalog: Catalog;
  actual: ActualUser;
  /** `managedRoles` from the last applied outputs ([] on create or adopt). */
  managedRoles: readonly string[];
}): UserPlan {
  const { desired, catalog, actual } = args;
  const target = resolveBusinessUnit(catalog, desired.businessUnit);
  const roles = resolveRoles(catalog, target, desired.roles);
  const operations: Operation[] = [];
  const warnings: string[] = [];

  if (actual.businessUnitId !== target.businessUnitId) {
    const from = catalog.businessUnits.find((bu) => bu.businessUnitId === actual.businessUnitId);
    operations.push({ kind: "setBusinessUnit", from, to: target });
  }
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
  const untouchedTeamRoles = normalizeNames((actual.teamRoles ?? []).map((r) => r.name));
  const noop = operations.length === 0 && sameSpelling(managedRoles, normalizeNames(args.managedRoles));
  return { businessUnit: target, roles, operations, managedRoles, untouchedTeamRoles, warnings, noop };
}

/**
 * Plans the removal of a user from our management: revoke the roles we granted that are still
 * present in the user's business unit. Never deletes or disables the Dataverse user.
 */
export function planRemoval(actual: ActualUser, managedRoles: readonly string[]): Operation[] {
  const ours = new Set(managedRoles.map(nameKey));
  return sortRoles(actual.roles)
    .filter((r) => r.businessUnitId === actual.businessUnitId && ours.has(nameKey(r.name)))
    .map((role) => ({ kind: "revokeRole", role }));
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
 * (ignoring case, order and duplicates). `__provider` and outputs are ignored.
 */
export function diffUser(
  olds: Partial<DataverseUserOutputs>,
  news: DataverseUserInputs,
): { changes: boolean; replaces: string[]; deleteBeforeReplace: boolean } {
  const replaces: string[] = [];
  if (nameKey(olds.environment ?? "") !== nameKey(news.environment)) replaces.push("environment");
  // An unknown object id (the Entra user is being created or replaced in the same preview) cannot
  // be compared; report a change and let `up`, which sees the real value, decide.
  const unknownObjectId = news.objectId === UNKNOWN;
  if (!unknownObjectId && nameKey(olds.objectId ?? "") !== nameKey(news.objectId)) replaces.push("objectId");
  const changed: string[] = [...replaces];
  if (unknownObjectId) changed.push("objectId");
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
