/**
 * Graph's rules over the directory: which application permissions each operation needs, how a
 * user is found by id or UPN, and the license views derived from direct assignments and group
 * memberships (group-based licensing).
 * Graph keeps `assignedLicenses` as the aggregate (direct + inherited) and one
 * `licenseAssignmentStates` entry per assignment path, `assignedByGroup` null when direct
 * (reference/graph.md §2.5; https://learn.microsoft.com/graph/api/resources/licenseassignmentstate).
 * The Dataverse sync may use `effectiveLicenses` to decide who is licensed.
 */
import type { SandboxRequest, ServiceContext } from "../core/types.ts";
import type { EntraState, EntraUser } from "./state.ts";

/** One assignment path of one SKU. */
export interface LicenseAssignmentState {
  assignedByGroup: string | null;
  disabledPlans: string[];
  error: "None";
  lastUpdatedDateTime: string | null;
  skuId: string;
  state: "Active";
}

/** SkuIds compare case-insensitively (graph.md §2.5). */
export function sameGuid(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** Every assignment path of a user's licenses: direct ones first, then one per licensing group. */
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
    for (const l of group?.assignedLicenses ?? []) {
      states.push({
        assignedByGroup: group?.id ?? groupId,
        disabledPlans: [...l.disabledPlans],
        error: "None",
        lastUpdatedDateTime: user.createdDateTime,
        skuId: l.skuId,
        state: "Active",
      });
    }
  }
  return states;
}

/**
 * The aggregate `assignedLicenses`: one entry per SKU whatever the number of paths (the same SKU
 * through several paths consumes one seat, graph.md §5.4). A plan is disabled only when every
 * path disables it.
 */
export function effectiveLicenses(
  entra: EntraState,
  user: EntraUser,
): { skuId: string; disabledPlans: string[] }[] {
  const bySku = new Map<string, { skuId: string; disabledPlans: string[] }>();
  for (const s of licenseAssignmentStates(entra, user)) {
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
