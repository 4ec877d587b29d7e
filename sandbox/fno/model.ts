/**
 * The published data model of the sandbox's F&O OData service: enum types, entity types, keys
 * and properties. `$metadata`, key parsing, `$filter`/`$select` validation and body
 * deserialization are all driven from here, so they cannot disagree.
 *
 * Names, keys, Edm types and nullability follow the metadata of a real F&O environment as
 * captured in a client generated from a real `$metadata` (ntrtd/d365-agent, asset/client/src).
 * https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/odata
 */

import type { FnoEnvironmentState, FnoValue } from "./state.ts";

/** The namespace of every F&O data entity type and enum type. */
export const FNO_NAMESPACE = "Microsoft.Dynamics.DataEntities";

/** Enum types published in `$metadata` (member name → value). */
export const FNO_ENUMS: Record<string, Record<string, number>> = {
  NoYes: { No: 0, Yes: 1 },
  UserAccountType: { ADUser: 0, ADGroup: 1, ClaimsUser: 2, ClaimsGroup: 3 },
  PreferredCalendar: { Gregorian: 0, Hijri: 1, UmAlQura: 2 },
  SysUserInfoTheme: Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`Theme${i}`, i])),
  SysUserInfoDensity: { Density30: 30, Density21: 21 },
  UserLicenseType: {
    None: 0,
    SelfServe: 1,
    Task: 2,
    Functional: 3,
    Enterprise: 4,
    Server: 5,
    Universal: 6,
    Activity: 7,
    Finance: 8,
    SCM: 9,
    Commerce: 10,
    Project: 11,
    HR: 12,
  },
  RoleAssignmentStatus: { None: 0, Enabled: 1, Disabled: 2 },
  RoleAssignmentMode: { None: 0, Manual: 1, Automatic: 2 },
  OmInternalOrganizationType: { None: 0, LegalEntity: 1, OperatingUnit: 2, Team: 3 },
  OmOperatingUnitType: {
    None: 0,
    OMDepartment: 1,
    OMCostCenter: 2,
    OMValueStream: 3,
    OMBusinessUnit: 4,
    OMAnyOU: 5,
    RetailChannel: 6,
    OMBranchFM: 7,
    OMRentalLocationFM: 8,
    OMRegionFM: 9,
    OMBranch: 20,
    OMRentalLocation: 21,
    OMRegion: 22,
  },
};

/** A property's type: a primitive Edm type or one of `FNO_ENUMS`. */
export type FnoPropertyType =
  | { kind: "string"; maxLength?: number }
  | { kind: "boolean" }
  | { kind: "int32" }
  | { kind: "guid" }
  | { kind: "enum"; enumName: string };

/** One structural property of an entity type. */
export interface FnoPropertyDef {
  name: string;
  type: FnoPropertyType;
  /** As declared in `$metadata` (`Nullable="false"` when false). */
  nullable: boolean;
  /** Stored when a create leaves the property out. */
  defaultValue: FnoValue;
}

/** Where a set's rows live and how a stored record becomes an entity. */
export interface FnoEntitySetDef {
  /** Public collection name, e.g. "SystemUsers". */
  set: string;
  /** Entity type name in `FNO_NAMESPACE`, e.g. "SystemUser". */
  entityType: string;
  /** The AOT data entity (used in AxODataWriteException messages), e.g. "SystemUserEntity". */
  axEntity: string;
  /** Key property names in metadata order. */
  keys: string[];
  properties: FnoPropertyDef[];
  /** True when rows belong to one company (`dataAreaId` in the key); cross-company applies. */
  companySpecific: boolean;
  /** The entity rows of an environment, joined and ready to serve (records keep RecId/RecVersion). */
  rows(env: FnoEnvironmentState): FnoEntityRow[];
}

/** One entity as served: its values plus the row-version information behind the ETag. */
export interface FnoEntityRow {
  values: Record<string, FnoValue>;
  recId: number;
  recVersion: number;
}

const str = (name: string, maxLength?: number): FnoPropertyDef => ({
  name,
  type: maxLength === undefined ? { kind: "string" } : { kind: "string", maxLength },
  nullable: true,
  defaultValue: "",
});
const keyStr = (name: string, maxLength?: number): FnoPropertyDef => ({
  ...str(name, maxLength),
  nullable: false,
});
const bool = (name: string, defaultValue: boolean): FnoPropertyDef => ({
  name,
  type: { kind: "boolean" },
  nullable: false,
  defaultValue,
});
const int32 = (name: string, defaultValue: number): FnoPropertyDef => ({
  name,
  type: { kind: "int32" },
  nullable: false,
  defaultValue,
});
const enumProp = (name: string, enumName: string, defaultValue: string, nullable = true): FnoPropertyDef => ({
  name,
  type: { kind: "enum", enumName },
  nullable,
  defaultValue,
});

/** Copies the named properties of a stored record into an entity row. */
function project(
  record: object & { RecId: number; RecVersion: number },
  props: FnoPropertyDef[],
): FnoEntityRow {
  const source = record as unknown as Record<string, FnoValue>;
  const values: Record<string, FnoValue> = {};
  for (const p of props) values[p.name] = source[p.name] ?? p.defaultValue;
  return { values, recId: record.RecId, recVersion: record.RecVersion };
}

/**
 * The UserID column of UserInfo holds 20 characters (`functions/import-d365aaduser.ps1` of
 * https://github.com/d365collaborative/d365fo.tools).
 */
export const USER_ID_MAX_LENGTH = 20;

const systemUserProps: FnoPropertyDef[] = [
  keyStr("UserID", USER_ID_MAX_LENGTH),
  str("UserName"),
  str("Alias"),
  str("NetworkDomain"),
  str("Email"),
  str("Language"),
  str("Helplanguage"),
  bool("Enabled", false),
  str("Company"),
  str("UserInfo_language"),
  str("PersonName"),
  enumProp("AccountType", "UserAccountType", "ADUser"),
  bool("ExternalUser", false),
  bool("UserInfo_defaultPartition", true),
  enumProp("PreferredCalendar", "PreferredCalendar", "Gregorian"),
  str("PreferredLocale"),
  str("DefaultCountryRegion"),
  str("StartPage"),
  enumProp("Theme", "SysUserInfoTheme", "Theme0"),
  enumProp("Density", "SysUserInfoDensity", "Density30"),
  {
    name: "SqmGUID",
    type: { kind: "guid" },
    nullable: false,
    defaultValue: "00000000-0000-0000-0000-000000000000",
  },
  int32("AutoLogOff", 0),
  enumProp("DocumentHandlingActive", "NoYes", "Yes"),
  enumProp("ShowAttachmentStatus", "NoYes", "No"),
  enumProp("SendNotificationsInEmail", "NoYes", "No"),
  enumProp("MarkEmptyLinks", "NoYes", "No"),
];

const roleProps: FnoPropertyDef[] = [
  keyStr("SecurityRoleIdentifier"),
  str("SecurityRoleName"),
  str("Description"),
  str("ContextString"),
  bool("AccessToSensitiveData", false),
  enumProp("UserLicenseType", "UserLicenseType", "None"),
];

const userRoleProps: FnoPropertyDef[] = [
  keyStr("UserId", USER_ID_MAX_LENGTH),
  keyStr("SecurityRoleIdentifier"),
  enumProp("AssignmentStatus", "RoleAssignmentStatus", "Enabled"),
  enumProp("AssignmentMode", "RoleAssignmentMode", "Manual"),
  str("SecurityRoleName"),
  enumProp("UserLicenseType", "UserLicenseType", "None"),
];

const userRoleAssociationProps: FnoPropertyDef[] = userRoleProps.filter((p) => p.name !== "UserLicenseType");

const userRoleOrganizationProps: FnoPropertyDef[] = [
  keyStr("UserId", USER_ID_MAX_LENGTH),
  keyStr("SecurityRoleIdentifier"),
  // A key, yet declared nullable in the real metadata.
  enumProp("OrganizationType", "OmInternalOrganizationType", "LegalEntity"),
  keyStr("OrganizationId"),
  enumProp("OperatingUnitType", "OmOperatingUnitType", "None"),
  str("HierarchyType"),
];

/** Joins the role's label and license type onto a SecurityUserRole row. */
function userRoleRows(env: FnoEnvironmentState, props: FnoPropertyDef[]): FnoEntityRow[] {
  const roles = new Map(env.roles.map((r) => [r.SecurityRoleIdentifier.toLowerCase(), r]));
  return env.userRoles.map((ur) => {
    const role = roles.get(ur.SecurityRoleIdentifier.toLowerCase());
    const joined = {
      ...ur,
      SecurityRoleName: role?.SecurityRoleName ?? "",
      UserLicenseType: role?.UserLicenseType ?? "None",
    };
    return project(joined, props);
  });
}

/** Every entity set the sandbox publishes under `/data/`. */
export const FNO_ENTITY_SETS: FnoEntitySetDef[] = [
  {
    set: "SystemUsers",
    entityType: "SystemUser",
    axEntity: "SystemUserEntity",
    keys: ["UserID"],
    properties: systemUserProps,
    companySpecific: false,
    rows: (env) => env.users.map((u) => project(u, systemUserProps)),
  },
  {
    set: "SecurityRoles",
    entityType: "SecurityRole",
    axEntity: "SystemSecurityRoleEntity",
    keys: ["SecurityRoleIdentifier"],
    properties: roleProps,
    companySpecific: false,
    rows: (env) => env.roles.map((r) => project(r, roleProps)),
  },
  {
    set: "SecurityUserRoles",
    entityType: "SecurityUserRole",
    axEntity: "SystemSecurityUserRoleEntity",
    keys: ["UserId", "SecurityRoleIdentifier"],
    properties: userRoleProps,
    companySpecific: false,
    rows: (env) => userRoleRows(env, userRoleProps),
  },
  {
    set: "SecurityUserRoleAssociations",
    entityType: "SecurityUserRoleAssociation",
    axEntity: "SystemSecurityUserRoleAssociationEntity",
    keys: ["UserId", "SecurityRoleIdentifier"],
    properties: userRoleAssociationProps,
    companySpecific: false,
    rows: (env) => userRoleRows(env, userRoleAssociationProps),
  },
  {
    set: "SecurityUserRoleOrganizations",
    entityType: "SecurityUserRoleOrganization",
    axEntity: "SystemSecurityUserRoleOrganizationEntity",
    keys: ["UserId", "SecurityRoleIdentifier", "OrganizationType", "OrganizationId"],
    properties: userRoleOrganizationProps,
    companySpecific: false,
    rows: (env) => env.userRoleOrganizations.map((o) => project(o, userRoleOrganizationProps)),
  },
  {
    set: "SysAADClients",
    entityType: "SysAADClient",
    axEntity: "SysAADClientEntity",
    keys: ["AADClientId"],
    properties: [keyStr("AADClientId"), str("Name"), str("UserId", USER_ID_MAX_LENGTH)],
    companySpecific: false,
    rows: (env) =>
      env.aadClients.map((c) => project(c, FNO_SET_BY_NAME.get("SysAADClients")?.properties ?? [])),
  },
  {
    set: "SecurityGroups",
    entityType: "SecurityGroup",
    axEntity: "SecurityGroupEntity",
    keys: ["UserId"],
    properties: [
      keyStr("UserId", USER_ID_MAX_LENGTH),
      str("Name"),
      str("ObjectID"),
      str("Company"),
      str("Language"),
      enumProp("PreferredCalendar", "PreferredCalendar", "Gregorian"),
      bool("Enabled", false),
    ],
    companySpecific: false,
    rows: (env) =>
      env.securityGroups.map((g) => project(g, FNO_SET_BY_NAME.get("SecurityGroups")?.properties ?? [])),
  },
  {
    set: "LegalEntities",
    entityType: "LegalEntity",
    axEntity: "OMLegalEntity",
    keys: ["LegalEntityId"],
    properties: [keyStr("LegalEntityId"), str("Name"), str("AddressCountryRegionId"), str("LanguageId")],
    companySpecific: false,
    rows: (env) =>
      env.legalEntities.map((l) => project(l, FNO_SET_BY_NAME.get("LegalEntities")?.properties ?? [])),
  },
  {
    set: "CustomerGroups",
    entityType: "CustomerGroup",
    axEntity: "CustCustomerGroupEntity",
    keys: ["dataAreaId", "CustomerGroupId"],
    properties: [keyStr("dataAreaId"), keyStr("CustomerGroupId"), str("Description")],
    companySpecific: true,
    rows: (env) =>
      env.customerGroups.map((g) => project(g, FNO_SET_BY_NAME.get("CustomerGroups")?.properties ?? [])),
  },
];

/** Entity sets by their exact (case-sensitive) public name. */
export const FNO_SET_BY_NAME: ReadonlyMap<string, FnoEntitySetDef> = new Map(
  FNO_ENTITY_SETS.map((d) => [d.set, d]),
);

/** Finds a property by its exact name (F&O property names are case-sensitive). */
export function findProperty(def: FnoEntitySetDef, name: string): FnoPropertyDef | undefined {
  return def.properties.find((p) => p.name === name);
}

/** The qualified entity type name, e.g. "Microsoft.Dynamics.DataEntities.SystemUser". */
export function qualifiedType(def: FnoEntitySetDef): string {
  return `${FNO_NAMESPACE}.${def.entityType}`;
}

/** The Edm type name of a property, as `$metadata` declares it and as `$filter` type checks name it. */
export function edmType(p: FnoPropertyDef): string {
  switch (p.type.kind) {
    case "string":
      return "Edm.String";
    case "boolean":
      return "Edm.Boolean";
    case "int32":
      return "Edm.Int32";
    case "guid":
      return "Edm.Guid";
    case "enum":
      return `${FNO_NAMESPACE}.${p.type.enumName}`;
  }
}
