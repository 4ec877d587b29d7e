/**
 * The Dataverse slice of the sandbox state: one {@link DataverseEnvironmentState} per environment,
 * keyed by environment name. Rows keep Dataverse's own logical names (`systemuserid`,
 * `azureactivedirectoryobjectid`, ...); lookups are stored as plain ids and rendered as
 * `_<name>_value` on the wire (see rows.ts).
 *
 * Tables per https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/systemuser
 * (and role, businessunit, team); the sync per https://learn.microsoft.com/power-platform/admin/create-users.
 */

/** A business unit (`businessunits`). Exactly one has `parentbusinessunitid === null` (the root). */
export interface BusinessUnitRow {
  businessunitid: string;
  name: string;
  parentbusinessunitid: string | null;
  isdisabled: boolean;
  versionnumber: number;
  createdon: string;
  modifiedon: string;
}

/**
 * Privileges the sandbox checks. Real roles hold hundreds; these are the ones the routes need
 * (https://learn.microsoft.com/power-platform/admin/security-roles-privileges).
 */
/** The privileges the sandbox checks (a System Administrator's `*` holds them all). */
export const DATAVERSE_PRIVILEGES = [
  "prvReadUser",
  "prvWriteUser",
  "prvCreateUser",
  "prvDeleteUser",
  "prvReadRole",
  "prvAssignRole",
  "prvReadBusinessUnit",
  "prvReadTeam",
] as const;

export type DataversePrivilege = (typeof DATAVERSE_PRIVILEGES)[number];

/** A security role (`roles`). Roles are per business unit: a root role has a copy in each child unit. */
export interface RoleRow {
  roleid: string;
  name: string;
  businessunitid: string;
  /** The root business unit's role this one derives from (the root role points to itself). */
  parentrootroleid: string;
  /** The parent unit's copy this role was inherited from; null for a root role. */
  parentroleid: string | null;
  /** Only built-in platform roles carry a template id (System Administrator, Basic User, ...). */
  roletemplateid: string | null;
  ismanaged: boolean;
  /** 0 = team privileges only, 1 = direct user access level and team privileges. */
  isinherited: 0 | 1;
  solutionid: string;
  versionnumber: number;
  createdon: string;
  modifiedon: string;
  /** The sandbox's privilege model for this role; `"*"` means every privilege (System Administrator). */
  privileges: (DataversePrivilege | "*")[];
}

/** A user (`systemusers`): a synced Entra user, an application user or a built-in placeholder. */
export interface SystemUserRow {
  systemuserid: string;
  /** Entra object id of the user or service principal; null for placeholders (Support user, ...). */
  azureactivedirectoryobjectid: string | null;
  domainname: string;
  internalemailaddress: string | null;
  windowsliveid: string | null;
  fullname: string;
  firstname: string | null;
  lastname: string | null;
  isdisabled: boolean;
  islicensed: boolean;
  /** 0 Read-Write, 1 Administrative, 2 Read, 3 Support User, 4 Non-interactive, 5 Delegated Admin. */
  accessmode: number;
  caltype: number;
  /** Entra application (client) id: set exactly for application users. */
  applicationid: string | null;
  businessunitid: string;
  setupuser: boolean;
  issyncwithdirectory: boolean;
  /** Non-zero once soft-deleted (first DELETE); a second DELETE purges the row. */
  deletedstate: number;
  versionnumber: number;
  createdon: string;
  modifiedon: string;
  /** Directly assigned roles (`systemuserroles_association`), by roleid. */
  roleids: string[];
}

/**
 * A team (`teams`): here the Microsoft Entra group teams (`teamtype` 2), whose members get the
 * team's roles besides their own (https://learn.microsoft.com/power-apps/developer/data-platform/aad-group-team).
 */
export interface TeamRow {
  teamid: string;
  name: string;
  /** 0 Owner, 1 Access, 2 Microsoft Entra security group, 3 Microsoft Entra Office group. */
  teamtype: 0 | 1 | 2 | 3;
  /** 0 Members and guests, 1 Members, 2 Owners, 3 Guests. */
  membershiptype: 0 | 1 | 2 | 3;
  /** The Entra group's object id (group teams). */
  azureactivedirectoryobjectid: string | null;
  businessunitid: string;
  isdefault: boolean;
  /** The team's administrator (a systemuserid). */
  administratorid: string;
  /** Roles of the team (`teamroles_association`). */
  roleids: string[];
  /** Members (`teammembership_association`), by systemuserid. */
  memberids: string[];
  versionnumber: number;
  createdon: string;
  modifiedon: string;
}

/** Environment (OrgDBOrgSettings / database) settings that change documented behaviour. */
export interface DataverseSettings {
  /** "Record ownership across business units": roles from any unit may be assigned. */
  recordOwnershipAcrossBusinessUnits: boolean;
  /** `DoNotRemoveRolesOnChangeBusinessUnit`: keep roles when a user's unit changes. */
  doNotRemoveRolesOnChangeBusinessUnit: boolean;
  /** `allowRoleAssignmentOnDisabledUsers`: allow roles on disabled users. */
  allowRoleAssignmentOnDisabledUsers: boolean;
}

/** What the background sync remembers about one Entra object id, to apply its delay exactly. */
export interface SyncObservation {
  /** Whether the Entra user was eligible for the background sync at the last evaluation. */
  eligible: boolean;
  /** Whether an on-demand add would accept the user (absent in older state: same as `eligible`). */
  keepable?: boolean;
  /** When (ms, injected clock) the user was first seen in the current eligibility state. */
  since: number;
  /** When an on-demand sync (PP `addUser`) was requested, if one is pending. */
  forcedAt?: number;
}

/** One Dataverse environment (organization). */
export interface DataverseEnvironmentState {
  organizationId: string;
  /** Whether the environment is linked to a finance and operations environment. */
  linkedToFinanceAndOperations: boolean;
  settings: DataverseSettings;
  businessUnits: BusinessUnitRow[];
  roles: RoleRow[];
  systemUsers: SystemUserRow[];
  /** Teams (absent in state written before teams were emulated: none). */
  teams?: TeamRow[];
  /** Monotonic row version source (`versionnumber`, `@odata.etag`). */
  nextVersion: number;
  sync: {
    /** False until the first evaluation, which adds every eligible user at once (environment creation). */
    initialSyncDone: boolean;
    observations: Record<string, SyncObservation>;
    /** When the sync last evaluated this environment (ms, injected clock). */
    lastEvaluatedAt?: number;
  };
}
