/**
 * The F&O slice of the sandbox state: one `FnoEnvironmentState` per environment (keyed by the
 * environment's logical name in `SandboxState.fno`).
 *
 * Records use the data entities' own property names (PascalCase exactly as F&O publishes them,
 * e.g. `UserID` on users but `UserId` on role rows) so the OData layer can serve them without a
 * mapping table. Enum values are stored as member names (as F&O sends them in JSON bodies).
 * Every record carries the table's `RecId` and `RecVersion`, from which the `@odata.etag` is built.
 * Entities per https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/odata and
 * the real `$metadata` (see model.ts).
 */

/** A scalar as stored: strings (also GUIDs and enum member names), numbers, booleans. */
export type FnoValue = string | number | boolean | null;

/** System columns every F&O table row has. */
export interface FnoRecordBase {
  /** The table's record id (F&O numbers them from 5637144576 upwards). */
  RecId: number;
  /** Incremented on every update; part of the ETag. */
  RecVersion: number;
}

/** One legal entity (company); `LegalEntities` set, key `LegalEntityId`. */
export interface LegalEntityRecord extends FnoRecordBase {
  LegalEntityId: string;
  Name: string;
  AddressCountryRegionId: string;
  LanguageId: string;
}

/**
 * One user (table UserInfo, entity SystemUserEntity, set `SystemUsers`, key `UserID`).
 * Only the properties the sandbox publishes are stored; see README.md for the omitted ones.
 */
export interface SystemUserRecord extends FnoRecordBase {
  UserID: string;
  UserName: string;
  Alias: string;
  NetworkDomain: string;
  Email: string;
  Language: string;
  Helplanguage: string;
  Enabled: boolean;
  Company: string;
  UserInfo_language: string;
  PersonName: string;
  /** UserAccountType member name: ADUser | ADGroup | ClaimsUser | ClaimsGroup. */
  AccountType: string;
  ExternalUser: boolean;
  UserInfo_defaultPartition: boolean;
  /** PreferredCalendar member name. */
  PreferredCalendar: string;
  PreferredLocale: string;
  DefaultCountryRegion: string;
  StartPage: string;
  /** SysUserInfoTheme member name (Theme0..Theme14). */
  Theme: string;
  /** SysUserInfoDensity member name (Density30 | Density21). */
  Density: string;
  SqmGUID: string;
  AutoLogOff: number;
  /** NoYes member names. */
  DocumentHandlingActive: string;
  ShowAttachmentStatus: string;
  SendNotificationsInEmail: string;
  MarkEmptyLinks: string;
}

/** One security role (AOT role); `SecurityRoles`, key `SecurityRoleIdentifier`. */
export interface SecurityRoleRecord extends FnoRecordBase {
  /** AOT name as F&O publishes it, e.g. "-SYSADMIN-", "SYSTEMUSER", "LEDGERACCOUNTANT". */
  SecurityRoleIdentifier: string;
  /** Label, e.g. "System administrator". */
  SecurityRoleName: string;
  Description: string;
  ContextString: string;
  AccessToSensitiveData: boolean;
  /** UserLicenseType member name. */
  UserLicenseType: string;
}

/**
 * One row of table SecurityUserRole. Both `SecurityUserRoles` and
 * `SecurityUserRoleAssociations` are views of it; role name and license type are joined from
 * the role at read time.
 */
export interface SecurityUserRoleRecord extends FnoRecordBase {
  UserId: string;
  SecurityRoleIdentifier: string;
  /** RoleAssignmentStatus member name (None | Enabled | Disabled). */
  AssignmentStatus: string;
  /** RoleAssignmentMode member name (None | Manual | Automatic). */
  AssignmentMode: string;
}

/** A role assignment restricted to an organization; `SecurityUserRoleOrganizations` (4-part key). */
export interface SecurityUserRoleOrganizationRecord extends FnoRecordBase {
  UserId: string;
  SecurityRoleIdentifier: string;
  /** OmInternalOrganizationType member name. */
  OrganizationType: string;
  OrganizationId: string;
  /** OmOperatingUnitType member name. */
  OperatingUnitType: string;
  HierarchyType: string;
}

/** A registered Microsoft Entra application; `SysAADClients`, key `AADClientId`. */
export interface SysAadClientRecord extends FnoRecordBase {
  AADClientId: string;
  Name: string;
  /** The F&O user the application acts as. */
  UserId: string;
}

/** An Entra security group principal ("Groups" feature); `SecurityGroups`, key `UserId`. */
export interface SecurityGroupRecord extends FnoRecordBase {
  UserId: string;
  Name: string;
  ObjectID: string;
  Company: string;
  Language: string;
  PreferredCalendar: string;
  Enabled: boolean;
}

/**
 * A customer group: the one company-specific (dataAreaId-keyed) set the sandbox publishes, so the
 * `cross-company` semantics can be observed (the security entities are all shared).
 */
export interface CustomerGroupRecord extends FnoRecordBase {
  /** Lower case, as F&O returns `dataAreaId`. */
  dataAreaId: string;
  CustomerGroupId: string;
  Description: string;
}

/**
 * A rule of "Assign users to roles": users matching it get the role with `AssignmentMode`
 * `Automatic` at each "Run automatic role assignment"
 * (https://learn.microsoft.com/dynamics365/fin-ops-core/fin-ops/sysadmin/assign-users-security-roles).
 * The sandbox's rules match on the user's default company.
 */
export interface RoleRuleRecord extends FnoRecordBase {
  SecurityRoleIdentifier: string;
  Name: string;
  /** Users whose `Company` is this legal entity match. */
  Company: string;
}

/** Records that reference a user (posted transactions, worker records): F&O refuses to delete it. */
export interface UserReferenceRecord {
  UserId: string;
  /** The referencing table, e.g. "VendInvoiceJour". */
  Table: string;
}

/**
 * Writes to a set that F&O answers as successful but does not carry out: one low-trust
 * observation is that `DELETE SecurityUserRoleAssociations(...)` answers 204 and removes nothing
 * (community operations notes, UNCONFIRMED), so a client must read every role write back. Tests switch this on
 * for any writable set (admin route `PUT /fno/<env>/ineffective-writes`).
 */
export interface IneffectiveWrite {
  /** The entity set, e.g. `SecurityUserRoles`. */
  set: string;
  /** The methods affected (`POST`, `PATCH`, `DELETE`). */
  methods: string[];
}

/** The state of one F&O environment. */
export interface FnoEnvironmentState {
  /** The next RecId to hand out (shared by all tables, as F&O's RecId allocator is per table but unique enough here). */
  nextRecId: number;
  legalEntities: LegalEntityRecord[];
  users: SystemUserRecord[];
  roles: SecurityRoleRecord[];
  userRoles: SecurityUserRoleRecord[];
  userRoleOrganizations: SecurityUserRoleOrganizationRecord[];
  aadClients: SysAadClientRecord[];
  securityGroups: SecurityGroupRecord[];
  customerGroups: CustomerGroupRecord[];
  /** Automatic role assignment rules (absent in older state: none). */
  roleRules?: RoleRuleRecord[];
  /** References that make users undeletable (absent in older state: none). */
  userReferences?: UserReferenceRecord[];
  /** Sets whose writes answer success and change nothing (absent: none). */
  ineffectiveWrites?: IneffectiveWrite[];
}

/** The first RecId F&O allocates in a fresh database. */
export const FIRST_REC_ID = 5637144576;

/** Allocates the next RecId of `env`. */
export function allocateRecId(env: FnoEnvironmentState): number {
  const id = env.nextRecId;
  env.nextRecId += 1;
  return id;
}
