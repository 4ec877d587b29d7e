/**
 * Creates on the writable F&O sets, with the validation F&O runs first and its side effects (every
 * new user gets the `SYSTEMUSER` role automatically). Per entity: SystemUsers, the two role views
 * of table SecurityUserRole, SecurityUserRoleOrganizations and SysAADClients.
 * https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/odata
 */
import { writeFailed } from "./errors.ts";
import { type FnoEntitySetDef, USER_ID_MAX_LENGTH } from "./model.ts";
import {
  addUserRole,
  alreadyExists,
  checkRole,
  fail,
  findLegalEntity,
  findUser,
  GUID,
  missingFields,
  notInRelatedTable,
  same,
  type WriteResult,
  type WriteSession,
} from "./rules.ts";
import { newSystemUserRecord, SYSTEM_USER_ROLE } from "./seed.ts";
import { allocateRecId, type FnoEnvironmentState, type FnoValue, type SystemUserRecord } from "./state.ts";

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
  // Not mandatory in the metadata, yet F&O cannot create the user without the sign-in identity
  // and account type: it fails with this exact, unhelpful infolog (the real response is quoted in
  // https://github.com/d365collaborative/d365fo.integrations, notebooks/Manage-Users.ipynb).
  if (values.Alias === undefined || values.Alias === "" || values.AccountType === undefined) {
    return fail(writeFailed(def.axEntity, ["Object reference not set to an instance of an object.."]));
  }
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
