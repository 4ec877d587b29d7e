/**
 * The F&O planner: pure, deterministic, I/O-free (design.md principle 2, style.md principle 4).
 *
 * Given the declared access of one user in one F&O environment and what the environment holds,
 * it decides which OData operations bring the environment to the declared state, and `diff`
 * answers whether anything changes. resources.ts only calls these functions and the client.
 * Everything here speaks our vocabulary (model.ts, with the service facts relied on).
 */
import { PlanError } from "../core/provider.ts";
import { USER_DEFAULTS } from "../core/user.ts";
import {
  findUserById,
  isBuiltInServiceUser,
  isSystemUserRole,
  matchUser,
  normalizeLegalEntities,
  resolveRoles,
} from "./check.ts";
import {
  CLAIMS_USER_ACCOUNT_TYPE,
  DEFAULT_LANGUAGE,
  type DeclaredRole,
  type DesiredFnoUser,
  type FnoLiveState,
  type FnoRole,
  type FnoRoleAssignment,
  type FnoRoleOrganization,
  type FnoUserChanges,
  type FnoUserInputs,
  type FnoUserRecord,
  HOME_TENANT_NETWORK_DOMAIN,
  LEGAL_ENTITY_ORGANIZATION_TYPE,
  type ManagedRole,
  type NewFnoUser,
} from "./model.ts";

/** One remote operation, named like the client method that performs it. */
export type FnoOperation =
  | { kind: "createUser"; userId: string; user: NewFnoUser }
  | { kind: "updateUser"; userId: string; changes: FnoUserChanges }
  | { kind: "deleteUser"; userId: string }
  | { kind: "assignRole"; userId: string; roleId: string; roleName: string; enabled: boolean }
  | { kind: "enableRole"; userId: string; roleId: string }
  | { kind: "removeRole"; userId: string; roleId: string }
  | { kind: "addRoleOrganization"; userId: string; roleId: string; organizationId: string }
  | { kind: "removeRoleOrganization"; userId: string; roleId: string; organizationId: string };

/** An operation in words, for errors and reports. */
export function describeOperation(op: FnoOperation): string {
  switch (op.kind) {
    case "createUser":
      return `create user ${op.userId}`;
    case "updateUser":
      return `update user ${op.userId} (${Object.keys(op.changes).sort().join(", ")})`;
    case "deleteUser":
      return `delete user ${op.userId}`;
    case "assignRole":
      return `assign role ${op.roleId}${op.enabled ? "" : " (disabled)"}`;
    case "enableRole":
      return `enable role ${op.roleId}`;
    case "removeRole":
      return `remove role ${op.roleId}`;
    case "addRoleOrganization":
      return `restrict role ${op.roleId} to ${op.organizationId}`;
    case "removeRoleOrganization":
      return `lift restriction of role ${op.roleId} to ${op.organizationId}`;
  }
}

/** The outcome of {@link planUser}. */
export interface FnoUserPlan {
  /** The UserID the operations act on: the adopted record's, or the declared one for a new user. */
  userId: string;
  /** True when a record with the same Alias existed (create-or-adopt). */
  adopted: boolean;
  /** Operations in execution order (see {@link planUser} for why this order). */
  operations: FnoOperation[];
  /** The roles we manage once the operations succeed (sorted). */
  managedRoles: ManagedRole[];
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

const sameText = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

// ---------------------------------------------------------------------------------------------
// Roles
// ---------------------------------------------------------------------------------------------

/** Manual role rows we are responsible for: everything but SYSTEMUSER and rule-based rows. */
function isOwnedAssignment(a: FnoRoleAssignment): boolean {
  return !isSystemUserRole(a.roleId) && !sameText(a.mode, "Automatic");
}

// ---------------------------------------------------------------------------------------------
// The user plan
// ---------------------------------------------------------------------------------------------

/**
 * Plans one user: create-or-adopt, user fields, the exact set of manual roles and, per role, the
 * exact set of legal-entity restrictions. Throws {@link PlanError} before any write when the
 * declaration cannot be applied safely.
 *
 * Operation order, chosen so the user never holds more access than before or after:
 *  1. create the user, or update its fields (a change that enables the user goes last instead);
 *  2. revoke undeclared roles (each role first, then leftover organization rows: removing the
 *     rows first would briefly widen the role to every company);
 *  3. for kept roles, add declared legal entities before removing undeclared ones (removing the
 *     last row first would briefly make the role unrestricted);
 *  4. assign new roles (or re-enable disabled ones). A new role restricted to legal entities is
 *     assigned disabled, restricted, then enabled: organization rows need the assignment row
 *     (reference §2.5), and an enabled row without them would apply in every company meanwhile;
 *  5. enable the user.
 * SYSTEMUSER, rule-based (`Automatic`) assignments (a declared role held through a rule counts
 * as present, with whatever organizations the rule gave it) and organization rows that are not
 * legal entities are never touched.
 */
export function planUser(
  desired: DesiredFnoUser,
  live: FnoLiveState,
  catalog: readonly FnoRole[],
  options: { language?: string } = {},
): FnoUserPlan {
  const matched = matchUser(desired, live.users);
  const resolved = resolveRoles(desired.roles, catalog);
  const problems = [...matched.problems, ...resolved.problems];
  if (problems.length > 0) throw new PlanError(problems);

  const first: FnoOperation[] = [];
  const revoke: FnoOperation[] = [];
  const restrict: FnoOperation[] = [];
  const grant: FnoOperation[] = [];
  const last: FnoOperation[] = [];

  const record = matched.record;
  const userId = record ? record.userId : desired.userId;
  if (!record) {
    const language = options.language ?? DEFAULT_LANGUAGE;
    first.push({
      kind: "createUser",
      userId,
      user: {
        userId,
        userName: desired.userName,
        alias: desired.upn,
        email: desired.upn,
        networkDomain: HOME_TENANT_NETWORK_DOMAIN,
        accountType: CLAIMS_USER_ACCOUNT_TYPE,
        company: desired.company.toUpperCase(),
        enabled: desired.enabled,
        language,
        helpLanguage: language,
      },
    });
  } else {
    const changes = userChanges(desired, record);
    if (Object.keys(changes).length > 0) {
      (changes.enabled === true ? last : first).push({ kind: "updateUser", userId, changes });
    }
  }

  const mine = live.assignments.filter((a) => sameText(a.userId, userId) && isOwnedAssignment(a));
  const orgs = live.organizations.filter((o) => sameText(o.userId, userId));
  const legalOrgsOf = (roleId: string): FnoRoleOrganization[] =>
    orgs
      .filter(
        (o) => sameText(o.roleId, roleId) && sameText(o.organizationType, LEGAL_ENTITY_ORGANIZATION_TYPE),
      )
      .sort((a, b) => byText(a.organizationId.toUpperCase(), b.organizationId.toUpperCase()));

  // 2. Revoke undeclared roles.
  for (const a of [...mine].sort((x, y) => byText(x.roleId, y.roleId))) {
    if (resolved.roles.some((r) => sameText(r.roleId, a.roleId))) continue;
    revoke.push({ kind: "removeRole", userId, roleId: a.roleId });
    for (const o of legalOrgsOf(a.roleId)) {
      revoke.push({
        kind: "removeRoleOrganization",
        userId,
        roleId: a.roleId,
        organizationId: o.organizationId,
      });
    }
  }

  const ruleHeld = new Set<string>();
  for (const r of resolved.roles) {
    // A declared role held through a rule (an Automatic row) is the rule's: present as far as we
    // are concerned, and neither its status nor its organizations are ours to change.
    if (
      live.assignments.some(
        (a) => sameText(a.userId, userId) && sameText(a.roleId, r.roleId) && !isOwnedAssignment(a),
      )
    ) {
      ruleHeld.add(r.roleId);
      continue;
    }
    const existing = mine.find((a) => sameText(a.roleId, r.roleId));
    const current = legalOrgsOf(r.roleId);
    const add = r.legalEntities.filter((le) => !current.some((o) => sameText(o.organizationId, le)));
    const remove = current.filter((o) => !r.legalEntities.some((le) => sameText(o.organizationId, le)));
    const roleId = existing ? existing.roleId : r.roleId;
    const restrictions: FnoOperation[] = [
      ...add.map((le): FnoOperation => ({ kind: "addRoleOrganization", userId, roleId, organizationId: le })),
      ...remove.map(
        (o): FnoOperation => ({
          kind: "removeRoleOrganization",
          userId,
          roleId,
          organizationId: o.organizationId,
        }),
      ),
    ];
    if (existing) {
      restrict.push(...restrictions);
      if (!sameText(existing.status, "Enabled")) grant.push({ kind: "enableRole", userId, roleId });
    } else if (restrictions.length === 0) {
      grant.push({ kind: "assignRole", userId, roleId, roleName: r.roleName, enabled: true });
    } else {
      // Organization rows need the assignment row to exist, and an enabled row without them
      // applies in every company: assign disabled, restrict, then enable.
      grant.push({ kind: "assignRole", userId, roleId, roleName: r.roleName, enabled: false });
      grant.push(...restrictions);
      grant.push({ kind: "enableRole", userId, roleId });
    }
  }

  return {
    userId,
    adopted: record !== undefined,
    operations: [...first, ...revoke, ...restrict, ...grant, ...last],
    managedRoles: resolved.roles
      .filter((r) => !ruleHeld.has(r.roleId))
      .map((r) => ({ role: r.roleId, legalEntities: r.legalEntities })),
  };
}

/**
 * The user-field changes that bring `record` to `desired`. UserName and Enabled compare exactly,
 * Company case-insensitively (DataAreaId). Alias already matches (that is how we found the record)
 * and keeps the case F&O has; NetworkDomain and AccountType of an adopted user are left as found
 * (a guest's provider differs legitimately, reference §3.1). Email is only filled when empty:
 * F&O's Email may be the user's mail address, which need not equal the UPN.
 */
export function userChanges(desired: DesiredFnoUser, record: FnoUserRecord): FnoUserChanges {
  const changes: FnoUserChanges = {};
  if (record.userName !== desired.userName) changes.userName = desired.userName;
  if (!sameText(record.company, desired.company)) changes.company = desired.company.toUpperCase();
  if (record.enabled !== desired.enabled) changes.enabled = desired.enabled;
  if (record.email === "") changes.email = desired.upn;
  return changes;
}

/**
 * Plans the removal of a user we manage: revoke the roles we granted (never SYSTEMUSER, never
 * rule-based rows, never roles we did not record), their legal-entity rows, then disable — or
 * delete when `onRemove` says so. A user already gone needs nothing. Built-in service users are
 * refused.
 */
export function planRemoval(
  userId: string,
  live: FnoLiveState,
  managedRoles: readonly ManagedRole[],
  onRemove: "disable" | "delete" = USER_DEFAULTS.onRemove,
): FnoOperation[] {
  if (isBuiltInServiceUser(userId)) {
    throw new PlanError([
      `F&O user ${userId} is a Microsoft built-in service user; d365-access never changes it`,
    ]);
  }
  const record = findUserById(live.users, userId);
  if (!record) return [];
  const id = record.userId;
  if (onRemove === "delete") return [{ kind: "deleteUser", userId: id }];
  const ops: FnoOperation[] = [];
  const held = live.assignments.filter((a) => sameText(a.userId, id) && isOwnedAssignment(a));
  for (const a of [...held].sort((x, y) => byText(x.roleId, y.roleId))) {
    if (!managedRoles.some((m) => sameText(m.role, a.roleId))) continue;
    ops.push({ kind: "removeRole", userId: id, roleId: a.roleId });
    const rows = live.organizations
      .filter(
        (o) =>
          sameText(o.userId, id) &&
          sameText(o.roleId, a.roleId) &&
          sameText(o.organizationType, LEGAL_ENTITY_ORGANIZATION_TYPE),
      )
      .sort((x, y) => byText(x.organizationId, y.organizationId));
    for (const o of rows) {
      ops.push({
        kind: "removeRoleOrganization",
        userId: id,
        roleId: a.roleId,
        organizationId: o.organizationId,
      });
    }
  }
  if (record.enabled) ops.push({ kind: "updateUser", userId: id, changes: { enabled: false } });
  return ops;
}

// ---------------------------------------------------------------------------------------------
// Live view (refresh) and diff
// ---------------------------------------------------------------------------------------------

/**
 * The declared-shape view of what the environment holds for a user: its fields, and its manual
 * roles (without SYSTEMUSER) named as previously declared when they still resolve to the same
 * identifier, else by identifier. `read` returns this so that `diff` sees drift.
 */
export function liveView(
  userId: string,
  live: FnoLiveState,
  catalog: readonly FnoRole[],
  previousRoles: readonly DeclaredRole[],
): { record: FnoUserRecord; roles: DeclaredRole[]; managedRoles: ManagedRole[] } | undefined {
  const record = findUserById(live.users, userId);
  if (!record) return undefined;
  // Role id -> the name the user wrote, for roles that still resolve (unresolvable ones are
  // reported by the next plan, not here).
  const declaredNames = new Map<string, string>();
  const declared = new Map<string, DeclaredRole>();
  for (const d of previousRoles) {
    const one = resolveRoles([{ role: d.role, legalEntities: [] }], catalog).roles[0];
    if (one) {
      declaredNames.set(one.roleId.toLowerCase(), d.role);
      declared.set(one.roleId.toLowerCase(), d);
    }
  }
  const mine = live.assignments.filter((a) => sameText(a.userId, record.userId));
  const held = mine
    .filter((a) => isOwnedAssignment(a) && sameText(a.status, "Enabled"))
    .sort((a, b) => byText(a.roleId, b.roleId));
  const roles: DeclaredRole[] = [];
  const managedRoles: ManagedRole[] = [];
  // Declared roles a rule holds are satisfied as declared (planUser leaves them to the rule).
  for (const a of mine) {
    const d = declared.get(a.roleId.toLowerCase());
    if (d && !isOwnedAssignment(a) && !isSystemUserRole(a.roleId)) roles.push({ ...d });
  }
  for (const a of held) {
    const legalEntities = normalizeLegalEntities(
      live.organizations
        .filter(
          (o) =>
            sameText(o.userId, record.userId) &&
            sameText(o.roleId, a.roleId) &&
            sameText(o.organizationType, LEGAL_ENTITY_ORGANIZATION_TYPE),
        )
        .map((o) => o.organizationId),
    );
    roles.push({ role: declaredNames.get(a.roleId.toLowerCase()) ?? a.roleId, legalEntities });
    managedRoles.push({ role: a.roleId, legalEntities });
  }
  // The order `check` gives declared roles (by name, case-insensitively), so equal sets compare equal.
  roles.sort((a, b) => byText(a.role.toLowerCase(), b.role.toLowerCase()));
  return { record, roles, managedRoles };
}

/** Roles as a canonical, comparable string: names case-insensitive, legal entities sorted. */
function canonicalRoles(roles: readonly DeclaredRole[]): string {
  return JSON.stringify(
    roles
      .map((r) => [r.role.trim().toLowerCase(), normalizeLegalEntities(r.legalEntities)] as const)
      .sort((a, b) => byText(a[0], b[0])),
  );
}

/**
 * Compares the last applied outputs with new inputs. Identity is the UPN (case-insensitive) and
 * the environment: a change replaces. `userId` is ignored once the user exists: F&O cannot rename
 * a UserID over OData, the record is found by Alias, and a re-derived id (e.g. after a collision
 * elsewhere in the file) must not recreate anyone. `objectId` is informational.
 */
export function diff(
  olds: Partial<FnoUserInputs>,
  news: FnoUserInputs,
): { changes: boolean; replaces: string[]; changed: string[] } {
  const replaces: string[] = [];
  const changed: string[] = [];
  if (!sameText(olds.upn ?? "", news.upn)) replaces.push("upn");
  if (olds.environment !== news.environment) replaces.push("environment");
  if (olds.userName !== news.userName) changed.push("userName");
  if (!sameText(olds.company ?? "", news.company)) changed.push("company");
  if (olds.enabled !== news.enabled) changed.push("enabled");
  // State written by an older version may lack a field: treat it as empty, never crash.
  if (canonicalRoles(olds.roles ?? []) !== canonicalRoles(news.roles)) changed.push("roles");
  if ((olds.onRemove ?? USER_DEFAULTS.onRemove) !== (news.onRemove ?? USER_DEFAULTS.onRemove))
    changed.push("onRemove");
  return { changes: replaces.length + changed.length > 0, replaces, changed: [...replaces, ...changed] };
}
