/**
 * F&O's rules for the emulated sets: who the session user is (the F&O user the calling app is
 * registered as in SysAADClients, https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/services-home-page),
 * whether it may use the system administration entities, the validation F&O runs before a
 * write (mandatory fields, relations, duplicates, rendered as AxODataWriteException infologs)
 * and the side effects of updates and deletes (cascades). Creates are in rules-create.ts.
 */
import type { SandboxResponse } from "../core/types.ts";
import { writeFailed } from "./errors.ts";
import type { FnoEntitySetDef } from "./model.ts";
import { SYSADMIN_ROLE } from "./seed.ts";
import {
  allocateRecId,
  type FnoEnvironmentState,
  type FnoValue,
  type SecurityUserRoleRecord,
  type SystemUserRecord,
} from "./state.ts";

/** The outcome of a write: an error response, or the key values of the affected row. */
export type WriteResult =
  | { ok: false; response: SandboxResponse }
  | { ok: true; key: Record<string, FnoValue> };

/** Who is calling: the F&O user the application is registered as. */
export interface WriteSession {
  /** Default company of the session (the mapped user's Company). */
  company: string;
}

export const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const fail = (response: SandboxResponse): WriteResult => ({ ok: false, response });

export const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** "Field 'X' must be filled in." for each mandatory field that is missing or empty. */
export function missingFields(values: Record<string, FnoValue>, fields: string[]): string[] {
  return fields
    .filter((f) => values[f] === undefined || values[f] === null || values[f] === "")
    .map((f) => `Field '${f}' must be filled in.`);
}

/** AX's relation check text (standard validateField message). */
export function notInRelatedTable(value: string, field: string, table: string): string {
  return `The value '${value}' in field '${field}' is not found in the relating table '${table}'.`;
}

/** AX's duplicate-key text. The exact wording for these tables is UNCONFIRMED. */
export function alreadyExists(tableLabel: string, table: string, keyText: string): string {
  return `Cannot create a record in ${tableLabel} (${table}). ${keyText}. The record already exists.`;
}

export function findUser(env: FnoEnvironmentState, userId: string): SystemUserRecord | undefined {
  return env.users.find((u) => same(u.UserID, userId));
}

export function findLegalEntity(env: FnoEnvironmentState, id: string) {
  return env.legalEntities.find((l) => same(l.LegalEntityId, id));
}

/** Checks a role reference the way SystemSecurityUserRoleEntity does (name and identifier must agree). */
export function checkRole(
  env: FnoEnvironmentState,
  identifier: string,
  name: FnoValue | undefined,
): { ok: true; identifier: string } | { ok: false; message: string } {
  const role = env.roles.find((r) => same(r.SecurityRoleIdentifier, identifier));
  const given = typeof name === "string" ? name : "";
  // A community report: a POST without SecurityRoleName fails with
  // "Security role '' with identifier value '...' is not valid"; clients must always send it.
  if (!role || !same(role.SecurityRoleName, given)) {
    return {
      ok: false,
      message: `Security role '${given}' with identifier value '${identifier}' is not valid`,
    };
  }
  return { ok: true, identifier: role.SecurityRoleIdentifier };
}

/** Adds a user-role row (used by role creates and the automatic SYSTEMUSER assignment). */
export function addUserRole(
  env: FnoEnvironmentState,
  row: Omit<SecurityUserRoleRecord, "RecId" | "RecVersion">,
): void {
  env.userRoles.push({ ...row, RecId: allocateRecId(env), RecVersion: 1 });
}

/** The caller's F&O user, resolved through SysAADClients by the token's `appid`. */
export function sessionUser(env: FnoEnvironmentState, appId: string): SystemUserRecord | undefined {
  const client = env.aadClients.find((c) => c.AADClientId.toLowerCase() === appId.toLowerCase());
  if (!client) return undefined;
  return env.users.find((u) => u.UserID.toLowerCase() === client.UserId.toLowerCase());
}

/** True when `userId` holds an enabled System administrator role. */
export function isSystemAdministrator(env: FnoEnvironmentState, userId: string): boolean {
  return env.userRoles.some(
    (r) =>
      r.UserId.toLowerCase() === userId.toLowerCase() &&
      r.SecurityRoleIdentifier === SYSADMIN_ROLE &&
      r.AssignmentStatus === "Enabled",
  );
}

/** The stored record behind an entity key, for updates and deletes. */
export function findRecord(
  env: FnoEnvironmentState,
  def: FnoEntitySetDef,
  key: Record<string, FnoValue>,
): Record<string, FnoValue> | undefined {
  const table = tableOf(env, def) as unknown as Record<string, FnoValue>[];
  return table.find((row) =>
    def.keys.every((k) => {
      const a = row[k];
      const b = key[k];
      return typeof a === "string" && typeof b === "string" ? same(a, b) : a === b;
    }),
  );
}

export function tableOf(env: FnoEnvironmentState, def: FnoEntitySetDef): object[] {
  switch (def.set) {
    case "SystemUsers":
      return env.users;
    case "SecurityUserRoles":
    case "SecurityUserRoleAssociations":
      return env.userRoles;
    case "SecurityUserRoleOrganizations":
      return env.userRoleOrganizations;
    case "SysAADClients":
      return env.aadClients;
    case "SecurityRoles":
      return env.roles;
    case "SecurityGroups":
      return env.securityGroups;
    case "LegalEntities":
      return env.legalEntities;
    case "CustomerGroups":
      return env.customerGroups;
    default:
      return [];
  }
}

/** The sets that accept POST/PATCH/DELETE. */
export const WRITABLE_SETS: ReadonlySet<string> = new Set([
  "SystemUsers",
  "SecurityUserRoles",
  "SecurityUserRoleAssociations",
  "SecurityUserRoleOrganizations",
  "SysAADClients",
]);

/** PATCH: a partial update; keys cannot change. */
export function updateEntity(
  env: FnoEnvironmentState,
  def: FnoEntitySetDef,
  record: Record<string, FnoValue>,
  values: Record<string, FnoValue>,
): WriteResult {
  for (const k of def.keys) {
    if (
      values[k] !== undefined &&
      !(typeof values[k] === "string" && same(String(values[k]), String(record[k])))
    ) {
      return fail(writeFailed(def.axEntity, [`The key field '${k}' cannot be changed.`]));
    }
  }
  const changes: Record<string, FnoValue> = {};
  for (const [name, value] of Object.entries(values)) {
    if (def.keys.includes(name)) continue;
    changes[name] = value;
  }
  if (def.set === "SystemUsers") {
    if (
      changes.Company !== undefined &&
      changes.Company !== "" &&
      !findLegalEntity(env, String(changes.Company))
    ) {
      return fail(
        writeFailed(def.axEntity, [notInRelatedTable(String(changes.Company), "Company", "Legal entities")]),
      );
    }
    const missing = missingFields({ ...record, ...changes }, [
      "UserName",
      "UserInfo_language",
      "NetworkDomain",
      "Helplanguage",
    ]);
    if (missing.length > 0) return fail(writeFailed(def.axEntity, missing));
  }
  if (def.set === "SecurityUserRoles" || def.set === "SecurityUserRoleAssociations") {
    // Joined from the role: a different name is refused, the same one is accepted.
    if (changes.SecurityRoleName !== undefined) {
      const role = checkRole(env, String(record.SecurityRoleIdentifier), changes.SecurityRoleName);
      if (!role.ok) return fail(writeFailed(def.axEntity, [role.message]));
    }
    delete changes.SecurityRoleName;
    delete changes.UserLicenseType;
    // Disabling a rule-based row is "Exclude from role": the row becomes Manual, an exclusion.
    if (record.AssignmentMode === "Automatic" && changes.AssignmentStatus === "Disabled")
      changes.AssignmentMode = "Manual";
  }
  if (def.set === "SysAADClients" && changes.UserId !== undefined) {
    const user = findUser(env, String(changes.UserId));
    if (!user)
      return fail(
        writeFailed(def.axEntity, [notInRelatedTable(String(changes.UserId), "User ID", "User information")]),
      );
    changes.UserId = user.UserID;
  }
  if (def.set === "SecurityUserRoleOrganizations") {
    delete changes.OrganizationType;
  }
  Object.assign(record, changes);
  record.RecVersion = Number(record.RecVersion) + 1;
  const key: Record<string, FnoValue> = {};
  for (const k of def.keys) key[k] = record[k] ?? null;
  return { ok: true, key };
}

/**
 * DELETE by key; cascades as F&O's delete actions do. Refused: a user other records reference,
 * and a rule-based role row (the rule would only add it back: exclude the user instead).
 * Both refusals' wording is UNCONFIRMED (see docs/fidelity.md).
 */
export function deleteEntity(
  env: FnoEnvironmentState,
  def: FnoEntitySetDef,
  record: Record<string, FnoValue>,
): WriteResult {
  const remove = <T>(list: T[], pred: (item: T) => boolean): T[] => list.filter((item) => !pred(item));
  const key: Record<string, FnoValue> = {};
  for (const k of def.keys) key[k] = record[k] ?? null;
  switch (def.set) {
    case "SystemUsers": {
      const id = String(record.UserID);
      const reference = (env.userReferences ?? []).find((r) => same(r.UserId, id));
      if (reference) {
        return fail(
          writeFailed(def.axEntity, [
            `Cannot delete a record in User information (UserInfo). User ID: ${id}. The record may not be deleted. Transactions exist in table '${reference.Table}'.`,
          ]),
        );
      }
      env.users = remove(env.users, (u) => same(u.UserID, id));
      // Deleting a user removes its role rows (observed) and their organizations.
      env.userRoles = remove(env.userRoles, (r) => same(r.UserId, id));
      env.userRoleOrganizations = remove(env.userRoleOrganizations, (o) => same(o.UserId, id));
      break;
    }
    case "SecurityUserRoles": {
      const u = String(record.UserId);
      const r = String(record.SecurityRoleIdentifier);
      if (record.AssignmentMode === "Automatic") {
        return fail(
          writeFailed(def.axEntity, [
            `The user '${u}' is assigned to the security role '${r}' by an automatic role assignment rule. Exclude the user from the role instead of removing the assignment.`,
          ]),
        );
      }
      env.userRoles = remove(env.userRoles, (x) => same(x.UserId, u) && same(x.SecurityRoleIdentifier, r));
      env.userRoleOrganizations = remove(
        env.userRoleOrganizations,
        (o) => same(o.UserId, u) && same(o.SecurityRoleIdentifier, r),
      );
      break;
    }
    case "SecurityUserRoleAssociations":
      // One community observation (low trust, UNCONFIRMED): DELETE here answers 204 but removes nothing;
      // removal takes effect through SecurityUserRoles or by PATCHing AssignmentStatus to Disabled.
      // The sandbox reproduces that, so a client relying on this DELETE is caught here, not in production.
      break;
    case "SecurityUserRoleOrganizations":
      env.userRoleOrganizations = remove(env.userRoleOrganizations, (o) => o === (record as unknown));
      break;
    case "SysAADClients":
      env.aadClients = remove(env.aadClients, (c) => c === (record as unknown));
      break;
    default:
      throw new Error(`deleteEntity: ${def.set} is not writable`);
  }
  return { ok: true, key };
}
