/**
 * Graph's rules over the directory: which application permissions each operation needs, how a
 * user is found by id or UPN, and the license views derived from direct assignments and group
 * memberships (group-based licensing).
 * Graph keeps `assignedLicenses` as the aggregate (direct + inherited) and one
 * `licenseAssignmentStates` entry per assignment path, `assignedByGroup` null when direct
 * (https://learn.microsoft.com/graph/api/resources/licenseassignmentstate).
 */
import type { SandboxRequest, ServiceContext } from "../core/types.ts";
import type { EntraState, EntraUser } from "./state.ts";

/** The error states group-based licensing records (licenseAssignmentState `error`). */
export type LicenseAssignmentError =
  | "None"
  | "CountViolation"
  | "MutuallyExclusiveViolation"
  | "DependencyViolation"
  | "ProhibitedInUsageLocationViolation"
  | "UniquenessViolation"
  | "Other";

/** One assignment path of one SKU. */
export interface LicenseAssignmentState {
  assignedByGroup: string | null;
  disabledPlans: string[];
  error: LicenseAssignmentError;
  lastUpdatedDateTime: string | null;
  skuId: string;
  /** `Error`: the assignment failed and the user does not hold this licence through this path. */
  state: "Active" | "Error";
}

/** SkuIds compare case-insensitively (Graph samples show upper-case ids too). */
export function sameGuid(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * Every assignment path of a user's licenses: direct ones first, then one per licensing group.
 * A group whose processing failed for the user has all its licences in state `Error` (if one
 * licence of a group fails, the group's others are not assigned either).
 */
export function licenseAssignmentStates(entra: EntraState, user: EntraUser): LicenseAssignmentState[] {
  const states: LicenseAssignmentState[] = user.assignedLicenses.map((l) => ({
    assignedByGroup: null,
    disabledPlans: [...l.disabledPlans],
    error: "None",
    lastUpdatedDateTime: user.licenseTimestamps?.[l.skuId.toLowerCase()] ?? user.createdDateTime,
    skuId: l.skuId,
    state: "Active",
  }));
  for (const groupId of user.memberOf) {
    const group = entra.groups.find((g) => sameGuid(g.id, groupId));
    const failure = user.groupLicenseErrors?.[group?.id ?? groupId];
    for (const l of group?.assignedLicenses ?? []) {
      states.push({
        assignedByGroup: group?.id ?? groupId,
        disabledPlans: [...l.disabledPlans],
        error: failure ?? "None",
        lastUpdatedDateTime: user.createdDateTime,
        skuId: l.skuId,
        state: failure ? "Error" : "Active",
      });
    }
  }
  return states;
}

/**
 * The aggregate `assignedLicenses`: one entry per SKU whatever the number of paths (the same SKU
 * through several paths consumes one seat), paths in error excluded. A plan is disabled only
 * when every path disables it.
 */
export function effectiveLicenses(
  entra: EntraState,
  user: EntraUser,
): { skuId: string; disabledPlans: string[] }[] {
  const bySku = new Map<string, { skuId: string; disabledPlans: string[] }>();
  for (const s of licenseAssignmentStates(entra, user)) {
    if (s.state === "Error") continue;
    const key = s.skuId.toLowerCase();
    const have = bySku.get(key);
    if (!have) bySku.set(key, { skuId: s.skuId, disabledPlans: [...s.disabledPlans] });
    else have.disabledPlans = have.disabledPlans.filter((p) => s.disabledPlans.some((q) => sameGuid(p, q)));
  }
  return [...bySku.values()];
}

/** Seats in use for a SKU: live users holding it through any path. */
export function consumedUnits(entra: EntraState, skuId: string): number {
  let count = 0;
  for (const u of entra.users) if (effectiveLicenses(entra, u).some((l) => sameGuid(l.skuId, skuId))) count++;
  return count;
}

export const READ_USERS = [
  "User.Read.All",
  "User.ReadWrite.All",
  "Directory.Read.All",
  "Directory.ReadWrite.All",
];

export const WRITE_USERS = ["User.ReadWrite.All", "Directory.ReadWrite.All"];

export const ASSIGN_LICENSES = [
  "LicenseAssignment.ReadWrite.All",
  "User.ReadWrite.All",
  "Directory.ReadWrite.All",
];

export const READ_SKUS = [
  "Organization.Read.All",
  "Organization.ReadWrite.All",
  "Directory.Read.All",
  "Directory.ReadWrite.All",
  "LicenseAssignment.Read.All",
  "LicenseAssignment.ReadWrite.All",
];

export function allowed(req: SandboxRequest, roles: string[]): boolean {
  const granted = req.token.roles ?? [];
  return roles.some((r) => granted.includes(r));
}

/** Finds a live user by object id or UPN (case-insensitive), as /users/{id | userPrincipalName} does. */
export function findUser(ctx: ServiceContext, key: string): EntraUser | undefined {
  const lower = key.toLowerCase();
  return ctx.state.entra.users.find(
    (u) => u.id.toLowerCase() === lower || u.userPrincipalName.toLowerCase() === lower,
  );
}

/**
 * Properties a directory-synced user's on-premises Active Directory masters: Graph refuses to
 * change them in the cloud (400 "Unable to update the specified properties for on-premises
 * mastered Directory Sync objects…", https://github.com/microsoftgraph/microsoft-graph-docs/issues/7301).
 * `usageLocation` is cloud-mastered. The exact list is UNCONFIRMED: the sandbox refuses every
 * property Entra Connect synchronizes by default (the stricter choice).
 */
export const ON_PREMISES_MASTERED = new Set([
  "accountEnabled",
  "businessPhones",
  "department",
  "displayName",
  "givenName",
  "jobTitle",
  "mail",
  "mailNickname",
  "mobilePhone",
  "officeLocation",
  "passwordProfile",
  "preferredLanguage",
  "surname",
  "userPrincipalName",
]);

/**
 * Directory roles Microsoft labels privileged
 * (https://learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference).
 */
export const PRIVILEGED_DIRECTORY_ROLES = new Set([
  "Global Administrator",
  "Privileged Role Administrator",
  "Privileged Authentication Administrator",
  "Security Administrator",
  "User Administrator",
  "Authentication Administrator",
  "Helpdesk Administrator",
  "Exchange Administrator",
  "SharePoint Administrator",
  "Application Administrator",
  "Cloud Application Administrator",
  "Conditional Access Administrator",
]);

/**
 * Roles that let an app change any user's sensitive properties, admins included. Which role
 * exactly Graph requires is UNCONFIRMED; the sandbox accepts only these two (the stricter choice).
 */
const MANAGES_PRIVILEGED_USERS = new Set(["Global Administrator", "Privileged Authentication Administrator"]);

/** Sensitive properties of a privileged user (https://learn.microsoft.com/graph/api/resources/users). */
export const SENSITIVE_PROPERTIES = new Set([
  "accountEnabled",
  "businessPhones",
  "mobilePhone",
  "onPremisesImmutableId",
  "otherMails",
  "passwordProfile",
  "userPrincipalName",
]);

/** Whether `user` holds a privileged directory role. */
export function isPrivileged(user: EntraUser): boolean {
  return (user.directoryRoles ?? []).some((r) => PRIVILEGED_DIRECTORY_ROLES.has(r));
}

/**
 * Whether the calling app (app-only) may change a privileged user's sensitive properties or
 * delete it: the Graph permission is not enough, the app itself needs a higher-privileged role
 * (https://learn.microsoft.com/graph/api/user-update, "Permissions").
 */
export function canManagePrivilegedUsers(ctx: ServiceContext, appId: string): boolean {
  const app = ctx.state.entra.apps.find((a) => sameGuid(a.appId, appId));
  return (app?.directoryRoles ?? []).some((r) => MANAGES_PRIVILEGED_USERS.has(r));
}
