/**
 * F&O OData wire shapes, in the API's own casing, and the only conversions between them and our
 * vocabulary. Shapes from a client the SAP Cloud SDK generated from a real F&O `$metadata`
 * (`asset/client/src/` of https://github.com/ntrtd/d365-agent).
 * https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/odata
 *
 * F&O returns unset strings as `""` rather than null (a community observation, not documented by
 * Microsoft); the conversions still accept null/undefined so a partial `$select` or another
 * version's nulls cannot crash us.
 */
import type {
  FnoRole,
  FnoRoleAssignment,
  FnoRoleOrganization,
  FnoUserChanges,
  FnoUserRecord,
  NewFnoUser,
} from "./model.ts";

/** `SystemUsers` (entity SystemUserEntity), the properties we read or write. Key: `UserID`. */
export interface SystemUserDto {
  UserID: string;
  UserName?: string | null;
  Alias?: string | null;
  Email?: string | null;
  NetworkDomain?: string | null;
  /** UserAccountType member name: `ClaimsUser`, `ClaimsGroup`, `ADUser`, `ADGroup`. */
  AccountType?: string | null;
  Company?: string | null;
  Enabled?: boolean | null;
  UserInfo_language?: string | null;
  Helplanguage?: string | null;
  "@odata.etag"?: string;
}

/** `SecurityRoles` (entity SystemSecurityRoleEntity). Key: `SecurityRoleIdentifier`. */
export interface SecurityRoleDto {
  SecurityRoleIdentifier: string;
  SecurityRoleName?: string | null;
  Description?: string | null;
  UserLicenseType?: string | null;
}

/** `SecurityUserRoles` (entity SystemSecurityUserRoleEntity). Keys: `UserId`, `SecurityRoleIdentifier`. */
export interface SecurityUserRoleDto {
  UserId: string;
  SecurityRoleIdentifier: string;
  SecurityRoleName?: string | null;
  /** RoleAssignmentStatus member name: `Enabled`, `Disabled`, `None`. */
  AssignmentStatus?: string | null;
  /** RoleAssignmentMode member name: `Manual`, `Automatic`, `None`. */
  AssignmentMode?: string | null;
  UserLicenseType?: string | null;
}

/**
 * `SecurityUserRoleOrganizations`. Keys (4): `UserId`, `SecurityRoleIdentifier`,
 * `OrganizationType` (OmInternalOrganizationType), `OrganizationId`.
 */
export interface SecurityUserRoleOrganizationDto {
  UserId: string;
  SecurityRoleIdentifier: string;
  OrganizationType?: string | null;
  OrganizationId: string;
  /** OmOperatingUnitType member name; `None` for a legal entity. */
  OperatingUnitType?: string | null;
  HierarchyType?: string | null;
}

/** `SysAADClients` ("Microsoft Entra applications"). Key: `AADClientId`. */
export interface SysAadClientDto {
  AADClientId: string;
  Name?: string | null;
  UserId?: string | null;
}

/** The OData collection envelope. */
export interface ODataCollection<T> {
  value: T[];
  "@odata.nextLink"?: string;
}

const text = (v: string | null | undefined): string => v ?? "";

/** `SystemUsers` row → our record. */
export function toFnoUser(dto: SystemUserDto): FnoUserRecord {
  return {
    userId: dto.UserID,
    userName: text(dto.UserName),
    alias: text(dto.Alias),
    email: text(dto.Email),
    networkDomain: text(dto.NetworkDomain),
    accountType: text(dto.AccountType),
    company: text(dto.Company),
    enabled: dto.Enabled === true,
  };
}

/**
 * A new user → the POST body. Every field is explicit: `Enabled` defaults to false when omitted
 * and the language fields are mandatory (`notebooks/Manage-Users.ipynb` of
 * https://github.com/d365collaborative/d365fo.integrations).
 */
export function fromNewFnoUser(user: NewFnoUser): SystemUserDto {
  return {
    UserID: user.userId,
    UserName: user.userName,
    Alias: user.alias,
    Email: user.email,
    NetworkDomain: user.networkDomain,
    AccountType: user.accountType,
    Company: user.company,
    Enabled: user.enabled,
    UserInfo_language: user.language,
    Helplanguage: user.helpLanguage,
  };
}

/** Changes → the partial PATCH body (only the fields present). */
export function fromFnoUserChanges(changes: FnoUserChanges): Partial<SystemUserDto> {
  const body: Partial<SystemUserDto> = {};
  if (changes.alias !== undefined) body.Alias = changes.alias;
  if (changes.userName !== undefined) body.UserName = changes.userName;
  if (changes.company !== undefined) body.Company = changes.company;
  if (changes.enabled !== undefined) body.Enabled = changes.enabled;
  if (changes.email !== undefined) body.Email = changes.email;
  return body;
}

/** `SecurityRoles` row → our role. */
export function toFnoRole(dto: SecurityRoleDto): FnoRole {
  return { identifier: dto.SecurityRoleIdentifier, name: text(dto.SecurityRoleName) };
}

/** `SecurityUserRoles` row → our assignment. */
export function toFnoRoleAssignment(dto: SecurityUserRoleDto): FnoRoleAssignment {
  return {
    userId: dto.UserId,
    roleId: dto.SecurityRoleIdentifier,
    roleName: text(dto.SecurityRoleName),
    status: text(dto.AssignmentStatus),
    mode: text(dto.AssignmentMode),
  };
}

/**
 * A manual assignment (enabled unless told otherwise) → the POST body. `SecurityRoleName` is always sent: some versions
 * reject a role POST without it ("Security role '' with identifier value '…' is not valid", a
 * community report, UNCONFIRMED on every version; `Add-FscmUser` of
 * https://github.com/d365collaborative/d365bap.tools sends it too). `UserLicenseType` is left to
 * F&O (the role determines it).
 */
export function fromRoleAssignment(
  userId: string,
  roleId: string,
  roleName: string,
  enabled = true,
): SecurityUserRoleDto {
  return {
    UserId: userId,
    SecurityRoleIdentifier: roleId,
    SecurityRoleName: roleName,
    AssignmentStatus: enabled ? "Enabled" : "Disabled",
    AssignmentMode: "Manual",
  };
}

/**
 * The PATCH body that makes a role row grant the role as a manual assignment: an exclusion
 * (Manual, not Enabled) or a disabled rule row becomes what users.yaml declares.
 */
export function fromRoleEnable(): Pick<SecurityUserRoleDto, "AssignmentStatus" | "AssignmentMode"> {
  return { AssignmentStatus: "Enabled", AssignmentMode: "Manual" };
}

/** `SecurityUserRoleOrganizations` row → our restriction. */
export function toFnoRoleOrganization(dto: SecurityUserRoleOrganizationDto): FnoRoleOrganization {
  return {
    userId: dto.UserId,
    roleId: dto.SecurityRoleIdentifier,
    organizationType: text(dto.OrganizationType),
    organizationId: dto.OrganizationId,
  };
}

/**
 * A legal-entity restriction → the POST body, as a public community importer sends it
 * (`OrganizationType: "LegalEntity"`, `OperatingUnitType: "None"`, members of F&O's enums in the
 * client generated from `$metadata`, https://github.com/ntrtd/d365-agent). `HierarchyType` is not sent:
 * whether it is required is UNCONFIRMED and it has no meaning for a legal entity.
 */
export function fromLegalEntityRestriction(
  userId: string,
  roleId: string,
  organizationId: string,
): SecurityUserRoleOrganizationDto {
  return {
    UserId: userId,
    SecurityRoleIdentifier: roleId,
    OrganizationType: "LegalEntity",
    OrganizationId: organizationId,
    OperatingUnitType: "None",
  };
}
