/**
 * Creates, updates and deletes on the writable F&O sets, with the validation F&O runs before a
 * write (mandatory fields, relations, duplicates) rendered as AxODataWriteException infologs, and
 * the side effects the real service has (the automatic `SYSTEMUSER` role, cascading deletes).
 * Reference: fno-odata.md §2.1–2.6 and §8 items 9–10.
 */

import type { SandboxResponse } from "../core/types.ts";
import { deserializationFailed, writeFailed } from "./errors.ts";
import { FNO_ENUMS, type FnoEntitySetDef, findProperty, qualifiedType, USER_ID_MAX_LENGTH } from "./model.ts";
import { newSystemUserRecord, SYSTEM_USER_ROLE } from "./seed.ts";
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

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

const fail = (response: SandboxResponse): WriteResult => ({ ok: false, response });
const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/**
 * Reads a JSON request body into property values of `def`, as F&O's deserializer does: unknown
 * or wrongly cased property names, wrong JSON types and unknown enum members are refused.
 * `@odata.*` annotations are ignored. Strings are never stored as null (F&O returns "").
 */
export function deserializeBody(
  def: FnoEntitySetDef,
  rawBody: string,
  body: unknown,
): { ok: true; values: Record<string, FnoValue> } | { ok: false; response: SandboxResponse } {
  if (
    rawBody.trim() === "" ||
    body === undefined ||
    body === null ||
    typeof body !== "object" ||
    Array.isArray(body)
  ) {
    return {
      ok: false,
      response: deserializationFailed(
        rawBody.trim() === "" ? "The request body is empty." : "The request body is not a JSON object.",
      ),
    };
  }
  const values: Record<string, FnoValue> = {};
  const type = qualifiedType(def);
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    if (name.startsWith("@odata.") || name.startsWith("@")) continue;
    const prop = findProperty(def, name);
    if (!prop) {
      return {
        ok: false,
        response: deserializationFailed(
          `The property '${name}' does not exist on type '${type}'. Make sure to only use property names that are defined by the type.`,
        ),
      };
    }
    const bad = (expected: string) => ({
      ok: false as const,
      response: deserializationFailed(
        `Cannot convert the literal '${JSON.stringify(value)}' to the expected type '${expected}' of property '${name}'.`,
      ),
    });
    if (value === null) {
      if (!prop.nullable) {
        return {
          ok: false,
          response: deserializationFailed(
            `A null value was found for the property named '${name}', which has the expected type '${prop.type.kind}[Nullable=False]'. The expected type does not allow null values.`,
          ),
        };
      }
      values[name] = prop.type.kind === "string" ? "" : prop.defaultValue;
      continue;
    }
    switch (prop.type.kind) {
      case "string":
        if (typeof value !== "string") return bad("Edm.String");
        values[name] = value;
        break;
      case "boolean":
        if (typeof value !== "boolean") return bad("Edm.Boolean");
        values[name] = value;
        break;
      case "int32":
        if (typeof value !== "number" || !Number.isInteger(value)) return bad("Edm.Int32");
        values[name] = value;
        break;
      case "guid":
        if (typeof value !== "string" || !GUID.test(value)) return bad("Edm.Guid");
        values[name] = value.toLowerCase();
        break;
      case "enum": {
        const members = FNO_ENUMS[prop.type.enumName] ?? {};
        if (typeof value !== "string" || !Object.hasOwn(members, value)) {
          return {
            ok: false,
            response: deserializationFailed(
              `The value '${String(value)}' is not a valid member of enum type 'Microsoft.Dynamics.DataEntities.${prop.type.enumName}' (property '${name}').`,
            ),
          };
        }
        values[name] = value;
        break;
      }
    }
  }
  return { ok: true, values };
}

/** "Field 'X' must be filled in." for each mandatory field that is missing or empty. */
function missingFields(values: Record<string, FnoValue>, fields: string[]): string[] {
  return fields
    .filter((f) => values[f] === undefined || values[f] === null || values[f] === "")
    .map((f) => `Field '${f}' must be filled in.`);
}

/** AX's relation check text (standard validateField message). */
function notInRelatedTable(value: string, field: string, table: string): string {
  return `The value '${value}' in field '${field}' is not found in the relating table '${table}'.`;
}

/** AX's duplicate-key text. The exact wording for these tables is UNCONFIRMED (reference §8 item 9). */
function alreadyExists(tableLabel: string, table: string, keyText: string): string {
  return `Cannot create a record in ${tableLabel} (${table}). ${keyText}. The record already exists.`;
}

function findUser(env: FnoEnvironmentState, userId: string): SystemUserRecord | undefined {
  return env.users.find((u) => same(u.UserID, userId));
}

function findLegalEntity(env: FnoEnvironmentState, id: string) {
  return env.legalEntities.find((l) => same(l.LegalEntityId, id));
}

/** Checks a role reference the way SystemSecurityUserRoleEntity does (name and identifier must agree). */
function checkRole(
  env: FnoEnvironmentState,
  identifier: string,
  name: FnoValue | undefined,
): { ok: true; identifier: string } | { ok: false; message: string } {
  const role = env.roles.find((r) => same(r.SecurityRoleIdentifier, identifier));
  const given = typeof name === "string" ? name : "";
  // [NOTES]: a POST without SecurityRoleName fails with
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
function addUserRole(
  env: FnoEnvironmentState,
  row: Omit<SecurityUserRoleRecord, "RecId" | "RecVersion">,
): void {
  env.userRoles.push({ ...row, RecId: allocateRecId(env), RecVersion: 1 });
}

/** POST to a writable set. */
export function createEntity(
  env: FnoEnvironmentState,
  def: FnoEntitySetDef,
  values: Record<string, FnoValue>,
  session: WriteSession,
): WriteResult {
  switch (def.set) {
    case "SystemUsers":
      return createUser(env, def, values, session);
    case "SecurityUserRoles":
    case "SecurityUserRoleAssociations":
      return createUserRole(env, def, values);
    case "SecurityUserRoleOrganizations":
      return createUserRoleOrganization(env, def, values);
    case "SysAADClients":
      return createAadClient(env, def, values);
    default:
      throw new Error(`createEntity: ${def.set} is not writable`);
  }
}

function createUser(
  env: FnoEnvironmentState,
  def: FnoEntitySetDef,
  values: Record<string, FnoValue>,
  session: WriteSession,
): WriteResult {
  // Mandatory per the entity metadata (IsMandatory), reference §8 item 9.
  const missing = missingFields(values, [
    "UserID",
    "UserName",
    "UserInfo_language",
    "NetworkDomain",
    "Helplanguage",
  ]);
  if (missing.length > 0) return fail(writeFailed(def.axEntity, missing));
  const userId = String(values.UserID);
  if (userId.length > USER_ID_MAX_LENGTH) {
    // Real F&O stores 20 characters; whether it rejects or truncates is UNCONFIRMED, so the
    // sandbox rejects (safest: a client that sends more must notice).
    return fail(
      writeFailed(def.axEntity, [
        `The value '${userId}' is too long for field 'UserID' (maximum ${USER_ID_MAX_LENGTH} characters).`,
      ]),
    );
  }
  if (findUser(env, userId)) {
    return fail(
      writeFailed(def.axEntity, [alreadyExists("User information", "UserInfo", `User ID: ${userId}`)]),
    );
  }
  const company = values.Company === undefined ? session.company : String(values.Company);
  if (company !== "" && !findLegalEntity(env, company)) {
    return fail(writeFailed(def.axEntity, [notInRelatedTable(company, "Company", "Legal entities")]));
  }
  const record = newSystemUserRecord(allocateRecId(env), {
    ...(values as Partial<SystemUserRecord>),
    UserID: userId,
    Company: company,
  });
  env.users.push(record);
  // Every new user gets the System user role automatically (reference §8 item 10).
  addUserRole(env, {
    UserId: userId,
    SecurityRoleIdentifier: SYSTEM_USER_ROLE,
    AssignmentStatus: "Enabled",
    AssignmentMode: "Manual",
  });
  return { ok: true, key: { UserID: userId } };
}

function createUserRole(
  env: FnoEnvironmentState,
  def: FnoEntitySetDef,
  values: Record<string, FnoValue>,
): WriteResult {
  const missing = missingFields(values, ["UserId", "SecurityRoleIdentifier"]);
  if (missing.length > 0) return fail(writeFailed(def.axEntity, missing));
  const user = findUser(env, String(values.UserId));
  if (!user)
    return fail(
      writeFailed(def.axEntity, [notInRelatedTable(String(values.UserId), "User", "User information")]),
    );
  const role = checkRole(env, String(values.SecurityRoleIdentifier), values.SecurityRoleName);
  if (!role.ok) return fail(writeFailed(def.axEntity, [role.message]));
  if (
    env.userRoles.some((r) => same(r.UserId, user.UserID) && same(r.SecurityRoleIdentifier, role.identifier))
  ) {
    return fail(
      writeFailed(def.axEntity, [
        alreadyExists(
          "Security user role",
          "SecurityUserRole",
          `User: ${user.UserID}, Security role: ${role.identifier}`,
        ),
      ]),
    );
  }
  addUserRole(env, {
    UserId: user.UserID,
    SecurityRoleIdentifier: role.identifier,
    AssignmentStatus: typeof values.AssignmentStatus === "string" ? values.AssignmentStatus : "Enabled",
    AssignmentMode: typeof values.AssignmentMode === "string" ? values.AssignmentMode : "Manual",
  });
  return { ok: true, key: { UserId: user.UserID, SecurityRoleIdentifier: role.identifier } };
}

function createUserRoleOrganization(
  env: FnoEnvironmentState,
  def: FnoEntitySetDef,
  values: Record<string, FnoValue>,
): WriteResult {
  const missing = missingFields(values, [
    "UserId",
    "SecurityRoleIdentifier",
    "OrganizationType",
    "OrganizationId",
  ]);
  if (missing.length > 0) return fail(writeFailed(def.axEntity, missing));
  const userId = String(values.UserId);
  const roleId = String(values.SecurityRoleIdentifier);
  const assignment = env.userRoles.find(
    (r) => same(r.UserId, userId) && same(r.SecurityRoleIdentifier, roleId),
  );
  if (!assignment) {
    // An organization restricts an existing user-role assignment (reference §2.5); the exact text is UNCONFIRMED.
    return fail(
      writeFailed(def.axEntity, [`The user '${userId}' is not assigned to the security role '${roleId}'.`]),
    );
  }
  let orgId = String(values.OrganizationId);
  if (values.OrganizationType === "LegalEntity") {
    const le = findLegalEntity(env, orgId);
    if (!le)
      return fail(writeFailed(def.axEntity, [notInRelatedTable(orgId, "Organization", "Legal entities")]));
    // Stored in the legal entity's own casing; clients should compare codes case-insensitively (§2.5).
    orgId = le.LegalEntityId;
  }
  const exists = env.userRoleOrganizations.some(
    (o) =>
      same(o.UserId, userId) &&
      same(o.SecurityRoleIdentifier, roleId) &&
      o.OrganizationType === values.OrganizationType &&
      same(o.OrganizationId, orgId),
  );
  if (exists) {
    return fail(
      writeFailed(def.axEntity, [
        alreadyExists(
          "User role organization",
          "OMUserRoleOrganization",
          `User: ${userId}, Organization: ${orgId}`,
        ),
      ]),
    );
  }
  env.userRoleOrganizations.push({
    RecId: allocateRecId(env),
    RecVersion: 1,
    UserId: assignment.UserId,
    SecurityRoleIdentifier: assignment.SecurityRoleIdentifier,
    OrganizationType: String(values.OrganizationType),
    OrganizationId: orgId,
    OperatingUnitType: typeof values.OperatingUnitType === "string" ? values.OperatingUnitType : "None",
    HierarchyType: typeof values.HierarchyType === "string" ? values.HierarchyType : "",
  });
  return {
    ok: true,
    key: {
      UserId: assignment.UserId,
      SecurityRoleIdentifier: assignment.SecurityRoleIdentifier,
      OrganizationType: String(values.OrganizationType),
      OrganizationId: orgId,
    },
  };
}

function createAadClient(
  env: FnoEnvironmentState,
  def: FnoEntitySetDef,
  values: Record<string, FnoValue>,
): WriteResult {
  const missing = missingFields(values, ["AADClientId", "UserId"]);
  if (missing.length > 0) return fail(writeFailed(def.axEntity, missing));
  const clientId = String(values.AADClientId);
  if (!GUID.test(clientId)) {
    return fail(writeFailed(def.axEntity, [`The client ID '${clientId}' is not a valid GUID.`]));
  }
  const user = findUser(env, String(values.UserId));
  if (!user)
    return fail(
      writeFailed(def.axEntity, [notInRelatedTable(String(values.UserId), "User ID", "User information")]),
    );
  if (env.aadClients.some((c) => same(c.AADClientId, clientId))) {
    return fail(
      writeFailed(def.axEntity, [
        alreadyExists("Microsoft Entra applications", "SysAADClientTable", `Client Id: ${clientId}`),
      ]),
    );
  }
  env.aadClients.push({
    RecId: allocateRecId(env),
    RecVersion: 1,
    AADClientId: clientId,
    Name: typeof values.Name === "string" ? values.Name : "",
    UserId: user.UserID,
  });
  return { ok: true, key: { AADClientId: clientId } };
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

function tableOf(env: FnoEnvironmentState, def: FnoEntitySetDef): object[] {
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

/** DELETE by key; cascades as F&O's delete actions do. */
export function deleteEntity(
  env: FnoEnvironmentState,
  def: FnoEntitySetDef,
  record: Record<string, FnoValue>,
): void {
  const remove = <T>(list: T[], pred: (item: T) => boolean): T[] => list.filter((item) => !pred(item));
  switch (def.set) {
    case "SystemUsers": {
      const id = String(record.UserID);
      env.users = remove(env.users, (u) => same(u.UserID, id));
      // Deleting a user removes its role rows (observed, reference §8 item 9) and their organizations.
      env.userRoles = remove(env.userRoles, (r) => same(r.UserId, id));
      env.userRoleOrganizations = remove(env.userRoleOrganizations, (o) => same(o.UserId, id));
      break;
    }
    case "SecurityUserRoles": {
      const u = String(record.UserId);
      const r = String(record.SecurityRoleIdentifier);
      env.userRoles = remove(env.userRoles, (x) => same(x.UserId, u) && same(x.SecurityRoleIdentifier, r));
      env.userRoleOrganizations = remove(
        env.userRoleOrganizations,
        (o) => same(o.UserId, u) && same(o.SecurityRoleIdentifier, r),
      );
      break;
    }
    case "SecurityUserRoleAssociations":
      // One observation (reference §2.4, low trust): DELETE here answers 204 but removes nothing;
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
}
