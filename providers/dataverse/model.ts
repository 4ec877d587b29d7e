/**
 * Our Dataverse vocabulary: the resource's inputs and outputs, and the users, roles and business
 * units the planner reasons about. Wire shapes and their conversions live in dto.ts.
 */

/** A role in our vocabulary. */
export interface Role {
  roleId: string;
  name: string;
  businessUnitId: string;
  /** The role template (`_roletemplateid_value`) of Microsoft's predefined roles; undefined otherwise or when not read. */
  templateId?: string | undefined;
}

/**
 * Template ids of the roles only a System Administrator may assign: "a caller who is not System
 * Administrator cannot assign System Administrator, System Customizer, or any security roles that
 * have a higher privilege" than its own
 * (https://learn.microsoft.com/power-platform/admin/prevent-elevation-security-role-privilege).
 * The template ids are the same in every environment; no Learn page lists them (UNCONFIRMED as
 * documented), but public solutions and tools match these roles by exactly these ids.
 */
export const SYSTEM_ADMINISTRATOR_TEMPLATE = "627090ff-40a3-4053-8790-584edc5be201";
export const SYSTEM_CUSTOMIZER_TEMPLATE = "119f245c-3cc8-4b62-b31c-d1a046ced15d";

/** What d365-access knows of its own caller (the app's application user). */
export interface Caller {
  /** Whether it holds System Administrator directly (so it may assign every role). */
  systemAdministrator: boolean;
}

/** A business unit in our vocabulary. */
export interface BusinessUnit {
  businessUnitId: string;
  name: string;
  /** Undefined on the root business unit. */
  parentId: string | undefined;
}

/** A Dataverse user in our vocabulary: identity, business unit and DIRECT roles. */
export interface SystemUser {
  systemUserId: string;
  objectId: string | undefined;
  domainName: string | undefined;
  disabled: boolean;
  businessUnitId: string;
  /** Direct roles, or undefined when the row was read without them. */
  roles: Role[] | undefined;
}

/** The declared access of one user in one Dataverse environment (the resource inputs). */
export interface DataverseUserInputs {
  /** User principal name as written in users.yaml; compared case-insensitively. */
  upn: string;
  /** Entra object id of the user (the `entra:User` output). */
  objectId: string;
  /** Logical environment name, e.g. "contoso-demo". */
  environment: string;
  /** Business unit name; undefined = the root business unit. */
  businessUnit?: string | undefined;
  /** Security role names, within the business unit. */
  roles: string[];
  /** Whether users.yaml keeps the person enabled (default true): a disabled Dataverse user is re-synced, or left disabled. */
  enabled?: boolean | undefined;
  /**
   * `created` when the person's Entra identity was created by d365-access and a run that was
   * writing this resource was interrupted: an account found then is the killed run's, not
   * adopted (providers/core/inflight.ts). Never compared by diff; not in outputs.
   */
  provenance?: "created" | undefined;
}

/** What the provider stores after applying (inputs plus what it learnt). */
export interface DataverseUserOutputs extends DataverseUserInputs {
  /** `systemuserid` of the Dataverse user. */
  systemUserId: string;
  /** `businessunitid` the user is in. */
  businessUnitId: string;
  /** Role names we granted, sorted: a record for audit (removal revokes the whole owned scope). */
  managedRoles: string[];
  /**
   * Declared roles not granted because the user is disabled and stays so (Dataverse refuses roles
   * to disabled users): granted once users.yaml enables the person. Absent when none.
   */
  pendingRoles?: string[];
  /** True when the Dataverse user existed before we managed it. */
  adopted: boolean;
}

/** The environment's catalog, read once per run. */
export interface Catalog {
  /** Logical environment name, used in error messages. */
  environment: string;
  businessUnits: BusinessUnit[];
  roles: Role[];
}

/** The user as Dataverse holds it now. */
export interface ActualUser {
  systemUserId: string;
  businessUnitId: string;
  disabled: boolean;
  /** Direct roles (`systemuserroles_association`). */
  roles: Role[];
  /** Roles reaching the user through teams or Entra groups: reported, never changed. */
  teamRoles?: TeamRole[];
}

/** A role held through a team (owner team or Entra group team). */
export interface TeamRole {
  team: string;
  role: string;
}

/** A user's declared presence and roles in one Dataverse environment (users.yaml, normalized). */
export interface DesiredDataverseAccess {
  environment: string;
  /** Business unit name; undefined = the root business unit. */
  businessUnit?: string;
  /** Security role names, sorted. */
  roles: string[];
}

/** What Dataverse reads of a declared user. */
export interface DataversePerson {
  upn: string;
  enabled: boolean;
  dataverse: DesiredDataverseAccess[];
}
