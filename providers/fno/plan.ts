/**
 * The F&O planner: pure, deterministic, I/O-free.
 *
 * Given the declared access of one user in one F&O environment and what the environment holds,
 * it decides which OData operations bring the environment to the declared state, and `diff`
 * answers whether anything changes. resources.ts only calls these functions and the client.
 * Everything here speaks our vocabulary (model.ts, with the service facts relied on).
 */
import { PlanError } from "../core/provider.ts";
import { decideRemoval, type Provenance } from "../core/removal.ts";
import { USER_DEFAULTS } from "../core/user.ts";
import {
  findUserById,
  isSystemUserRole,
  matchUser,
  normalizeLegalEntities,
  type Protected,
  protectedProblem,
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
      return `enable role ${op.roleId} (manual)`;
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

/**
 * The rows d365-access owns: Manual and Enabled, other than SYSTEMUSER. Rule-based (`Automatic`)
 * rows belong to their rule; a Manual row that is not Enabled is an admin's exclusion from a rule
 * ("Exclude from role"); neither is ever revoked, and neither grants a role we declare unless it
 * is Enabled (https://learn.microsoft.com/dynamics365/fin-ops-core/fin-ops/sysadmin/assign-users-security-roles).
 */
export function isOwnedAssignment(a: FnoRoleAssignment): boolean {
  return !isSystemUserRole(a.roleId) && sameText(a.mode, "Manual") && sameText(a.status, "Enabled");
}

/** A rule's row that grants its role (Automatic and Enabled). */
function isRuleGrant(a: FnoRoleAssignment): boolean {
  return sameText(a.mode, "Automatic") && sameText(a.status, "Enabled");
}

// ---------------------------------------------------------------------------------------------
// The user plan
// ---------------------------------------------------------------------------------------------

/** What {@link planUser} needs besides the declaration and the live state. */
export interface PlanOptions extends Protected {
  /** Language of users we create; default {@link DEFAULT_LANGUAGE}. */
  language?: string;
  /** The UserID this resource already manages (its id): kept across a rename of the UPN. */
  managed?: string | undefined;
}

/**
 * Plans one user: create-or-adopt, user fields, the exact set of owned roles and, per role, the
 * exact set of legal-entity restrictions. Throws {@link PlanError} before any write when the
 * declaration cannot be applied safely.
 *
 * Ownership ({@link isOwnedAssignment}): undeclared Manual, Enabled rows are revoked; SYSTEMUSER,
 * rule-based rows, exclusions and organization rows that are not legal entities are never
 * touched. A declared role held by a rule's Enabled row is the rule's (present, with whatever
 * organizations the rule gave it). A declared role whose row is not Enabled (an exclusion, or a
 * disabled rule row) is granted by making that row Manual and Enabled: the key allows one row per
 * user and role, and the declaration is the admin's decision now.
 *
 * Operation order, chosen so the user never holds more access than before or after:
 *  1. create the user, or update its fields (a change that enables the user goes last instead);
 *  2. revoke undeclared roles (each role first, then leftover organization rows: removing the
 *     rows first would briefly widen the role to every company);
 *  3. for kept roles, add declared legal entities before removing undeclared ones (removing the
 *     last row first would briefly make the role unrestricted);
 *  4. assign new roles (or enable rows that are not Enabled, once restricted). A new role
 *     restricted to legal entities is assigned disabled, restricted, then enabled: organization
 *     rows need the assignment row (F&O assigns organizations to one of a user's roles:
 *     https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/sysadmin/tasks/create-new-users),
 *     and an enabled row without them would apply in every company meanwhile;
 *  5. enable the user.
 */
export function planUser(
  desired: DesiredFnoUser,
  live: FnoLiveState,
  catalog: readonly FnoRole[],
  options: PlanOptions = {},
): FnoUserPlan {
  const matched = matchUser(desired, live.users, options);
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

  const rows = live.assignments.filter((a) => sameText(a.userId, userId));
  const owned = rows.filter(isOwnedAssignment);
  const orgs = live.organizations.filter((o) => sameText(o.userId, userId));
  const legalOrgsOf = (roleId: string): FnoRoleOrganization[] =>
    orgs
      .filter(
        (o) => sameText(o.roleId, roleId) && sameText(o.organizationType, LEGAL_ENTITY_ORGANIZATION_TYPE),
      )
      .sort((a, b) => byText(a.organizationId.toUpperCase(), b.organizationId.toUpperCase()));

  // 2. Revoke undeclared owned roles.
  for (const a of [...owned].sort((x, y) => byText(x.roleId, y.roleId))) {
    if (resolved.roles.some((r) => sameText(r.roleId, a.roleId))) continue;
    revoke.push(...revokeRole(userId, a.roleId, legalOrgsOf(a.roleId)));
  }

  const ruleHeld = new Set<string>();
  for (const r of resolved.roles) {
    const existing = rows.find((a) => sameText(a.roleId, r.roleId));
    // The rule's: present as far as we are concerned; neither its status nor its organizations are ours.
    if (existing && isRuleGrant(existing)) {
      ruleHeld.add(r.roleId);
      continue;
    }
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
      // Owned, or not Enabled (granting nothing yet): restrict first, then enable.
      restrict.push(...restrictions);
      if (!isOwnedAssignment(existing)) grant.push({ kind: "enableRole", userId, roleId });
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

/** Revokes one role: the row first, then its legal-entity rows (the other way round would widen it). */
function revokeRole(userId: string, roleId: string, rows: readonly FnoRoleOrganization[]): FnoOperation[] {
  return [
    { kind: "removeRole", userId, roleId },
    ...rows.map(
      (o): FnoOperation => ({
        kind: "removeRoleOrganization",
        userId,
        roleId,
        organizationId: o.organizationId,
      }),
    ),
  ];
}

/**
 * The user-field changes that bring `record` to `desired`. UserName and Enabled compare exactly,
 * Company case-insensitively (DataAreaId). Alias follows the UPN when it differs other than in
 * letter case (a person renamed in Entra keeps their F&O user, identity being the record, not
 * the UPN), and Email with it when it held the old UPN or was empty; an Email that is another
 * address (F&O's Email may be the user's mail address, which need not equal the UPN) is kept,
 * and so is an adopted user's empty one while its Alias already matches (no write on adoption).
 * NetworkDomain and AccountType of an adopted user are left as found (a guest's provider differs
 * legitimately: https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/sysadmin/tasks/create-new-users).
 */
export function userChanges(desired: DesiredFnoUser, record: FnoUserRecord): FnoUserChanges {
  const changes: FnoUserChanges = {};
  const renamed = !sameText(record.alias, desired.upn);
  if (renamed) changes.alias = desired.upn;
  if (record.userName !== desired.userName) changes.userName = desired.userName;
  if (!sameText(record.company, desired.company)) changes.company = desired.company.toUpperCase();
  if (record.enabled !== desired.enabled) changes.enabled = desired.enabled;
  // Email is not declared in users.yaml: it follows a rename, and is never "normalized" on
  // adoption (an adopted user whose Email is empty gets no write: issue 13, zero-write adoption).
  const emailWasUpn = record.email === "" || sameText(record.email, record.alias);
  if (renamed && emailWasUpn) changes.email = desired.upn;
  return changes;
}

/**
 * Plans the removal of a user from users.yaml by the kit's removal rule (core/removal.ts): revoke
 * the whole owned scope ({@link isOwnedAssignment}: every Manual, Enabled row but SYSTEMUSER,
 * each with its legal-entity rows after it), then disable the account (adopted or created: an
 * enabled F&O account keeps its rule-based roles), then delete it only when d365-access created
 * it and `onRemove` is "delete" (the resource accepts F&O's refusal, leaving the user disabled
 * with no roles). Rule-based rows and exclusions stay. A user already gone needs nothing.
 * Preconfigured accounts and our app's own user are refused.
 */
export function planRemoval(
  userId: string,
  live: FnoLiveState,
  removal: { provenance: Provenance; onRemove: "disable" | "delete" },
  guard: Protected = {},
): FnoOperation[] {
  const problem = protectedProblem(userId, guard);
  if (problem) throw new PlanError([problem]);
  const record = findUserById(live.users, userId);
  if (!record) return [];
  const id = record.userId;
  const held = live.assignments
    .filter((a) => sameText(a.userId, id))
    .sort((x, y) => byText(x.roleId, y.roleId));
  const decided = decideRemoval({
    held,
    owns: isOwnedAssignment,
    provenance: removal.provenance,
    onRemove: removal.onRemove,
    enabled: record.enabled,
    accounts: "disable-adopted",
  });
  const ops: FnoOperation[] = [];
  for (const a of decided.revoke) {
    const rows = live.organizations
      .filter(
        (o) =>
          sameText(o.userId, id) &&
          sameText(o.roleId, a.roleId) &&
          sameText(o.organizationType, LEGAL_ENTITY_ORGANIZATION_TYPE),
      )
      .sort((x, y) => byText(x.organizationId, y.organizationId));
    ops.push(...revokeRole(id, a.roleId, rows));
  }
  if (decided.disable) ops.push({ kind: "updateUser", userId: id, changes: { enabled: false } });
  if (decided.delete) ops.push({ kind: "deleteUser", userId: id });
  return ops;
}

// ---------------------------------------------------------------------------------------------
// Live view (refresh) and diff
// ---------------------------------------------------------------------------------------------

/**
 * The declared-shape view of what the environment holds for a user: its fields, and its owned
 * roles (Manual, Enabled, without SYSTEMUSER) named as previously declared when they still resolve to the same
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
  const held = mine.filter(isOwnedAssignment).sort((a, b) => byText(a.roleId, b.roleId));
  const roles: DeclaredRole[] = [];
  const managedRoles: ManagedRole[] = [];
  // Declared roles a rule's Enabled row holds are satisfied as declared (planUser leaves them to
  // the rule); a row that is not Enabled holds nothing.
  for (const a of mine) {
    const d = declared.get(a.roleId.toLowerCase());
    if (d && isRuleGrant(a) && !isSystemUserRole(a.roleId)) roles.push({ ...d });
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
 * Compares the last applied outputs with new inputs. The environment is the identity: a change
 * replaces. The UPN is not: a person renamed in Entra is the same F&O user (the resource keeps
 * its UserID), so a new UPN updates Alias and Email in place. `userId` is ignored once the user
 * exists: F&O cannot rename a UserID over OData, and a re-derived id (after a rename, or a
 * collision elsewhere in the file) must not recreate anyone. `objectId` is informational.
 */
export function diff(
  olds: Partial<FnoUserInputs>,
  news: FnoUserInputs,
): { changes: boolean; replaces: string[]; changed: string[] } {
  const replaces: string[] = [];
  const changed: string[] = [];
  if (!sameText(olds.upn ?? "", news.upn)) changed.push("upn");
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
