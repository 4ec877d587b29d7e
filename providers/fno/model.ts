/**
 * Our F&O vocabulary: the records the planner reasons about, the resource's inputs and outputs,
 * and the facts of the service the rules rely on. Wire shapes and their conversions live in
 * dto.ts.
 *
 * Facts (https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/sysadmin/tasks/create-new-users,
 * https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/odata):
 *  - SystemUsers: key UserID (at most 20 characters), Alias = the Entra UPN, NetworkDomain
 *    `https://sts.windows.net/` for home-tenant users, AccountType `ClaimsUser`, mandatory
 *    language fields, `Enabled` defaults to false when omitted (so we always send it);
 *  - SecurityUserRoles: key (UserId, SecurityRoleIdentifier), so one row per user and role;
 *    AssignmentMode `Automatic` rows come from role-assignment rules, and "Exclude from role"
 *    turns a user's row into a `Manual` one that is not `Enabled`, an exclusion the rule then
 *    respects (https://learn.microsoft.com/dynamics365/fin-ops-core/fin-ops/sysadmin/assign-users-security-roles);
 *    a row that is not `Enabled` grants nothing;
 *  - SecurityUserRoleOrganizations: a role with no organization rows applies in every company;
 *    rows restrict it. Legal-entity codes are compared case-insensitively (UNCONFIRMED letter
 *    case on the wire);
 *  - every user gets `SYSTEMUSER` automatically; Microsoft's preconfigured accounts carry no
 *    marker field, so we recognise them by UserID;
 *  - the app acts as the F&O user `SysAADClients` maps it to: changing that user's roles or
 *    disabling it locks the app out (https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/services-home-page).
 */

/** The role F&O assigns to every user automatically; implicit, never assigned or revoked by us. */
export const SYSTEM_USER_ROLE = "SYSTEMUSER";

/** NetworkDomain ("Provider") of users of the environment's own Entra tenant . */
export const HOME_TENANT_NETWORK_DOMAIN = "https://sts.windows.net/";

/** Account type of Entra users imported into F&O . */
export const CLAIMS_USER_ACCOUNT_TYPE = "ClaimsUser";

/** Language written to the mandatory `UserInfo_language` and `Helplanguage` of users we create. */
export const DEFAULT_LANGUAGE = "en-us";

/** F&O stores UserID in 20 characters . */
export const MAX_USER_ID_LENGTH = 20;

/**
 * Microsoft's preconfigured accounts, which d365-access never adopts, changes or deletes. They
 * carry no marker field, so the list is by UserID, compared case-insensitively: every account of
 * the docs page "Pre-configured system accounts" (Axrunner, FRServiceUser, PowerPlatformS2S,
 * RetailServiceAccount, ScaleUnit, SysHealthServiceUser or Axping;
 * https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/sysadmin/pre-configured-system-accounts),
 * plus the accounts every environment is deployed with besides them: `Admin` (the deploying
 * administrator), `Guest`, `PowerPlatformApp` and `ScaleUnitManagement` (seen in standard
 * environments; the safe direction is to refuse more, not less).
 */
export const PRECONFIGURED_ACCOUNTS: readonly string[] = [
  "Admin",
  "Axping",
  "Axrunner",
  "FRServiceUser",
  "Guest",
  "PowerPlatformApp",
  "PowerPlatformS2S",
  "RetailServiceAccount",
  "ScaleUnit",
  "ScaleUnitManagement",
  "SysHealthServiceUser",
];

/** Where F&O's preconfigured accounts are listed, for messages. */
export const PRECONFIGURED_ACCOUNTS_PAGE =
  "https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/sysadmin/pre-configured-system-accounts";

/** Organization type of a legal-entity restriction (enum OmInternalOrganizationType). */
export const LEGAL_ENTITY_ORGANIZATION_TYPE = "LegalEntity";

/** A `SystemUsers` record, in our vocabulary. */
export interface FnoUserRecord {
  userId: string;
  userName: string;
  /** Sign-in identity: the Entra UPN. */
  alias: string;
  email: string;
  networkDomain: string;
  accountType: string;
  /** Default legal entity (DataAreaId). */
  company: string;
  enabled: boolean;
}

/** A new `SystemUsers` record: every field we set explicitly on import. */
export interface NewFnoUser extends FnoUserRecord {
  /** `UserInfo_language` (mandatory). */
  language: string;
  /** `Helplanguage` (mandatory). */
  helpLanguage: string;
}

/** A `SecurityRoles` record. */
export interface FnoRole {
  /** AOT name, the key (`SecurityRoleIdentifier`), e.g. `-SYSADMIN-`. */
  identifier: string;
  /** Label (`SecurityRoleName`), e.g. "System administrator". */
  name: string;
}

/** A `SecurityUserRoles` record. */
export interface FnoRoleAssignment {
  userId: string;
  roleId: string;
  roleName: string;
  /** `Enabled`, `Disabled` or `None` (RoleAssignmentStatus). */
  status: string;
  /** `Manual`, `Automatic` (rule-based) or `None` (RoleAssignmentMode). */
  mode: string;
}

/** A `SecurityUserRoleOrganizations` record. */
export interface FnoRoleOrganization {
  userId: string;
  roleId: string;
  /** `LegalEntity`, `OperatingUnit`, … (OmInternalOrganizationType). */
  organizationType: string;
  organizationId: string;
}

/** One declared role: AOT name or label as written; `legalEntities` empty = unrestricted. */
export interface DeclaredRole {
  role: string;
  legalEntities: string[];
}

/** The declared F&O access of one user in one environment (the resource inputs we plan from). */
export interface DesiredFnoUser {
  upn: string;
  /** UserID to create with (≤ 20 characters, derived by the model); ignored when adopting. */
  userId: string;
  /** Display name → `UserName`. */
  userName: string;
  /** Default legal entity → `Company`. */
  company: string;
  enabled: boolean;
  roles: DeclaredRole[];
}

/** A role we manage on a user, as recorded in the outputs: what removal revokes. */
export interface ManagedRole {
  /** SecurityRoleIdentifier. */
  role: string;
  /** Legal entities (upper-case, sorted); empty = unrestricted. */
  legalEntities: string[];
}

/** What the environment holds that matters for one user. Collections may hold other users' rows. */
export interface FnoLiveState {
  users: readonly FnoUserRecord[];
  assignments: readonly FnoRoleAssignment[];
  organizations: readonly FnoRoleOrganization[];
}

/** Fields of an existing user we set; only the ones that differ are present. */
export interface FnoUserChanges {
  /** The sign-in identity, after the person's UPN changed in Entra. */
  alias?: string;
  userName?: string;
  company?: string;
  enabled?: boolean;
  email?: string;
}

/** Resolved inputs of `fno:User` as the provider receives them (after `check`). */
export interface FnoUserInputs {
  upn: string;
  objectId?: string;
  environment: string;
  userId: string;
  userName: string;
  company: string;
  enabled: boolean;
  roles: DeclaredRole[];
  onRemove?: "disable" | "delete";
  /**
   * `created` when the person's Entra identity was created by d365-access and a run that was
   * writing this resource was interrupted: an account found then is the killed run's, not
   * adopted (providers/core/inflight.ts). Never compared by diff; not in outputs.
   */
  provenance?: "created" | undefined;
}

/** Outputs: the inputs as applied plus what removal needs. */
export interface FnoUserOutputs extends FnoUserInputs {
  /** True when the record existed before we managed it: removal never deletes it. */
  adopted: boolean;
  /**
   * The declared roles held by our (Manual, Enabled) rows at the last apply, with their legal
   * entities: a record for audit. Removal revokes every Manual, Enabled row, not only these.
   */
  managedRoles: ManagedRole[];
}

/** A user's declared account and roles in one F&O environment (users.yaml, normalized). */
export interface DesiredFnoAccess {
  environment: string;
  /** F&O UserID: from the YAML or derived from the UPN; at most 20 characters, unique per environment. */
  userId: string;
  /** Default (startup) legal entity, upper case. */
  company: string;
  /** Roles sorted by role name (case-insensitive). */
  roles: DeclaredRole[];
}

/** What F&O reads of a declared user. */
export interface FnoPerson {
  upn: string;
  displayName: string;
  enabled: boolean;
  onRemove: "disable" | "delete";
  fno: DesiredFnoAccess[];
}
