/**
 * Rule-based role assignment as F&O applies it
 * (https://learn.microsoft.com/dynamics365/fin-ops-core/fin-ops/sysadmin/assign-users-security-roles):
 * each run gives every enabled user matching a rule the role as an `Automatic` row and removes
 * `Automatic` rows whose user no longer matches. `Manual` rows are never touched: "users who are
 * manually assigned are not removed from roles by rules", and an exclusion ("Exclude from role")
 * is a `Manual` row that is not `Enabled`, which the rule then leaves alone.
 */
import { allocateRecId, type FnoEnvironmentState, type SecurityUserRoleRecord } from "./state.ts";

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** Whether a role row was made by a rule. */
export function isRuleBased(row: Pick<SecurityUserRoleRecord, "AssignmentMode">): boolean {
  return row.AssignmentMode === "Automatic";
}

/** One "Run automatic role assignment"; returns whether anything changed. */
export function runAutomaticRoleAssignment(env: FnoEnvironmentState): boolean {
  let changed = false;
  for (const rule of env.roleRules ?? []) {
    const matches = new Set(
      env.users.filter((u) => u.Enabled && same(u.Company, rule.Company)).map((u) => u.UserID.toLowerCase()),
    );
    const kept: SecurityUserRoleRecord[] = [];
    for (const row of env.userRoles) {
      const forRule = same(row.SecurityRoleIdentifier, rule.SecurityRoleIdentifier);
      if (forRule && isRuleBased(row) && !matches.has(row.UserId.toLowerCase())) {
        changed = true;
        continue;
      }
      kept.push(row);
    }
    env.userRoles = kept;
    const holders = new Set(
      kept
        .filter((r) => same(r.SecurityRoleIdentifier, rule.SecurityRoleIdentifier))
        .map((r) => r.UserId.toLowerCase()),
    );
    for (const user of env.users) {
      if (!matches.has(user.UserID.toLowerCase()) || holders.has(user.UserID.toLowerCase())) continue;
      env.userRoles.push({
        RecId: allocateRecId(env),
        RecVersion: 1,
        UserId: user.UserID,
        SecurityRoleIdentifier: rule.SecurityRoleIdentifier,
        AssignmentStatus: "Enabled",
        AssignmentMode: "Automatic",
      });
      changed = true;
    }
  }
  return changed;
}
