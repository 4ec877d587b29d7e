/**
 * The F&O part of the demo tenant: legal entities, the standard security roles, Microsoft's
 * built-in service users, a few existing people, and the demo app registered in SysAADClients.
 *
 * Role identifiers are AOT role names as F&O publishes them in `SecurityRoleIdentifier`
 * (upper case, e.g. "-SYSADMIN-"; d365collaborative/d365bap.tools reads them so); labels are the English role
 * names Microsoft's documentation pairs with those AOT names. License types are indicative.
 */

import type { SeedInfo } from "../core/types.ts";
import { FNO_ENTITY_SETS } from "./model.ts";
import {
  allocateRecId,
  FIRST_REC_ID,
  type FnoEnvironmentState,
  type SecurityRoleRecord,
  type SystemUserRecord,
} from "./state.ts";

/** The sandbox demo app (sandbox only; its secret is documented as such), registered in SysAADClients. */
export const DEMO_APP_ID = "8d7c3e2a-6f5b-4a19-9e0d-2b4c6a8f1e37";
/**
 * The role every new user gets automatically ("by default the SystemUser role is assigned during
 * user creation", NathanClouseAX/AAXSecurityTools#4); admins may remove it afterwards.
 */
export const SYSTEM_USER_ROLE = "SYSTEMUSER";
/** The system administrator role. */
export const SYSADMIN_ROLE = "-SYSADMIN-";
/** Provider (NetworkDomain) of users of the environment's own Entra tenant. */
export const ENTRA_PROVIDER = "https://sts.windows.net/";

/** [identifier (AOT name), label, description, license type]. */
const STANDARD_ROLES: [string, string, string, string][] = [
  [SYSADMIN_ROLE, "System administrator", "Full access to the system.", "Enterprise"],
  [SYSTEM_USER_ROLE, "System user", "Assigned to every user; grants basic access.", "None"],
  ["LEDGERACCOUNTANT", "Accountant", "Records and reviews ledger transactions.", "Finance"],
  ["LEDGERACCOUNTINGMANAGER", "Accounting manager", "Manages the accounting department.", "Finance"],
  ["LEDGERACCOUNTINGSUPERVISOR", "Accounting supervisor", "Supervises accounting activities.", "Finance"],
  ["VENDINVOICEACCOUNTSPAYABLECLERK", "Accounts payable clerk", "Processes vendor invoices.", "Finance"],
  ["VENDINVOICEACCOUNTSPAYABLEMANAGER", "Accounts payable manager", "Manages accounts payable.", "Finance"],
  [
    "CUSTINVOICEACCOUNTSRECEIVABLECLERK",
    "Accounts receivable clerk",
    "Processes customer invoices.",
    "Finance",
  ],
  ["CUSTINVOICEACCOUNTSRECEIVABLEMANAGER", "Accounts receivable manager", "Manages receivables.", "Finance"],
  ["COLLECTIONLETTERCOLLECTIONSMANAGER", "Collections manager", "Manages collections.", "Finance"],
  ["BUDGETBUDGETCLERK", "Budget clerk", "Maintains budget entries.", "Finance"],
  ["TRADESALESMANAGER", "Sales manager", "Manages sales.", "SCM"],
  ["TRADEBUYINGAGENT", "Buying agent", "Purchases goods and services.", "SCM"],
  ["WHSWAREHOUSEWORKER", "Warehouse worker", "Performs warehouse work.", "Activity"],
  ["HCMEMPLOYEE", "Employee", "Employee self-service.", "Universal"],
];

/** Microsoft's service users that exist in every environment; nothing on the row marks them as such. */
const BUILT_IN_USERS: { id: string; name: string; enabled: boolean; roles: string[] }[] = [
  { id: "Admin", name: "Admin", enabled: true, roles: [SYSADMIN_ROLE, SYSTEM_USER_ROLE] },
  { id: "Guest", name: "Guest", enabled: false, roles: [] },
  { id: "FRServiceUser", name: "FRServiceUser", enabled: true, roles: [SYSADMIN_ROLE, SYSTEM_USER_ROLE] },
  { id: "RetailServiceAccount", name: "RetailServiceAccount", enabled: true, roles: [SYSTEM_USER_ROLE] },
  { id: "SysHealthServiceUser", name: "SysHealthServiceUser", enabled: true, roles: [SYSTEM_USER_ROLE] },
  {
    id: "ScaleUnitManagement",
    name: "ScaleUnitManagement",
    enabled: true,
    roles: [SYSADMIN_ROLE, SYSTEM_USER_ROLE],
  },
  {
    id: "PowerPlatformApp",
    name: "PowerPlatformApp",
    enabled: true,
    roles: [SYSADMIN_ROLE, SYSTEM_USER_ROLE],
  },
];

/**
 * People of the demo tenant's Entra ID (sandbox/entra/seed.ts) who already exist in F&O, with
 * UserID = the mail local part (the convention of `Add-FscmUser` in
 * https://github.com/d365collaborative/d365bap.tools). Their roles differ in places from
 * users.yaml, so the demo shows real changes; Chloé and Eva are not imported yet.
 */
const DEMO_PEOPLE: { id: string; name: string; enabled: boolean; company: string; roles: string[] }[] = [
  {
    id: "adele.vance",
    name: "Adele Vance",
    enabled: true,
    company: "USMF",
    roles: [SYSTEM_USER_ROLE, "LEDGERACCOUNTANT"],
  },
  {
    id: "bruno.keller",
    name: "Bruno Keller",
    enabled: true,
    company: "DEMF",
    roles: [SYSTEM_USER_ROLE, "WHSWAREHOUSEWORKER"],
  },
  {
    id: "diego.ramos",
    name: "Diego Ramos",
    enabled: true,
    company: "USMF",
    roles: [SYSTEM_USER_ROLE, "LEDGERACCOUNTANT"],
  },
];

/** The demo tenant's verified domain. */
const DEMO_DOMAIN = "contoso.example";

/** Builds a user record with F&O's defaults for every property not given. */
export function newSystemUserRecord(
  recId: number,
  fields: Partial<SystemUserRecord> & Pick<SystemUserRecord, "UserID">,
): SystemUserRecord {
  const def = FNO_ENTITY_SETS.find((d) => d.set === "SystemUsers");
  const record: Record<string, unknown> = { RecId: recId, RecVersion: 1 };
  for (const p of def?.properties ?? []) record[p.name] = p.defaultValue;
  return { ...(record as unknown as SystemUserRecord), ...fields, RecId: recId, RecVersion: 1 };
}

/** Seeds one F&O environment. */
export function seedFnoEnvironment(): FnoEnvironmentState {
  const env: FnoEnvironmentState = {
    nextRecId: FIRST_REC_ID,
    legalEntities: [],
    users: [],
    roles: [],
    userRoles: [],
    userRoleOrganizations: [],
    aadClients: [],
    securityGroups: [],
    customerGroups: [],
  };
  const base = () => ({ RecId: allocateRecId(env), RecVersion: 1 });

  for (const [id, name, country, language] of [
    ["USMF", "Contoso Entertainment System USA", "USA", "en-us"],
    ["DEMF", "Contoso Entertainment System Germany", "DEU", "de"],
    ["GBSI", "Contoso Consulting UK", "GBR", "en-gb"],
    ["USRT", "Contoso Retail USA", "USA", "en-us"],
    ["DAT", "DAT", "USA", "en-us"],
  ] as const) {
    env.legalEntities.push({
      ...base(),
      LegalEntityId: id,
      Name: name,
      AddressCountryRegionId: country,
      LanguageId: language,
    });
  }

  for (const [id, name, description, license] of STANDARD_ROLES) {
    const role: SecurityRoleRecord = {
      ...base(),
      SecurityRoleIdentifier: id,
      SecurityRoleName: name,
      Description: description,
      ContextString: "",
      AccessToSensitiveData: id === SYSADMIN_ROLE,
      UserLicenseType: license,
    };
    env.roles.push(role);
  }

  const addUser = (
    id: string,
    name: string,
    alias: string,
    enabled: boolean,
    company: string,
    roles: string[],
  ): void => {
    env.users.push(
      newSystemUserRecord(allocateRecId(env), {
        UserID: id,
        UserName: name,
        Alias: alias,
        Email: alias,
        NetworkDomain: ENTRA_PROVIDER,
        Enabled: enabled,
        Company: company,
        UserInfo_language: "en-us",
        Helplanguage: "en-us",
        Language: "en-us",
        AccountType: "ClaimsUser",
        Theme: "Theme1",
      }),
    );
    for (const role of roles) {
      env.userRoles.push({
        ...base(),
        UserId: id,
        SecurityRoleIdentifier: role,
        AssignmentStatus: "Enabled",
        AssignmentMode: "Manual",
      });
    }
  };

  for (const u of BUILT_IN_USERS) {
    // Illustrative sign-in names: Admin is the tenant admin; the service users' real aliases vary by deployment.
    const alias = u.id === "Admin" ? `admin@${DEMO_DOMAIN}` : `${u.id}@dynamics.com`;
    addUser(u.id, u.name, alias, u.enabled, u.id === "Admin" ? "USMF" : "DAT", u.roles);
  }
  for (const p of DEMO_PEOPLE) addUser(p.id, p.name, `${p.id}@${DEMO_DOMAIN}`, p.enabled, p.company, p.roles);

  // Bruno's warehouse role applies to DEMF only (an org-restricted assignment).
  env.userRoleOrganizations.push({
    ...base(),
    UserId: "bruno.keller",
    SecurityRoleIdentifier: "WHSWAREHOUSEWORKER",
    OrganizationType: "LegalEntity",
    OrganizationId: "DEMF",
    OperatingUnitType: "None",
    HierarchyType: "",
  });

  // The demo app acts as Admin, the way a fresh environment is usually set up (Microsoft advises a
  // dedicated service user instead: https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/services-home-page).
  env.aadClients.push({ ...base(), AADClientId: DEMO_APP_ID, Name: "d365-access demo app", UserId: "Admin" });

  for (const [area, id, description] of [
    ["usmf", "10", "Wholesale customers"],
    ["usmf", "20", "Major customers"],
    ["usmf", "30", "Retail customers"],
    ["demf", "10", "Wholesale customers"],
    ["demf", "40", "Intercompany customers"],
    ["gbsi", "10", "Consulting customers"],
  ] as const) {
    env.customerGroups.push({ ...base(), dataAreaId: area, CustomerGroupId: id, Description: description });
  }
  return env;
}

/** A role row for `userId` (Manual and Enabled unless told), restricted to `legalEntities` if any. */
export function grantRole(
  env: FnoEnvironmentState,
  userId: string,
  role: string,
  options: { mode?: "Manual" | "Automatic"; status?: "Enabled" | "Disabled"; legalEntities?: string[] } = {},
): void {
  env.userRoles.push({
    RecId: allocateRecId(env),
    RecVersion: 1,
    UserId: userId,
    SecurityRoleIdentifier: role,
    AssignmentStatus: options.status ?? "Enabled",
    AssignmentMode: options.mode ?? "Manual",
  });
  for (const le of options.legalEntities ?? []) {
    env.userRoleOrganizations.push({
      RecId: allocateRecId(env),
      RecVersion: 1,
      UserId: userId,
      SecurityRoleIdentifier: role,
      OrganizationType: "LegalEntity",
      OrganizationId: le,
      OperatingUnitType: "None",
      HierarchyType: "",
    });
  }
}

/** The F&O slice of the demo tenant: one seeded state per environment. */
export function seedFno(info: SeedInfo): Record<string, FnoEnvironmentState> {
  const slice: Record<string, FnoEnvironmentState> = {};
  for (const e of info.environments) slice[e.name] = seedFnoEnvironment();
  return slice;
}
