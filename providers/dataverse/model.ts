/**
 * Our Dataverse vocabulary (style.md principle 2): the resource's inputs and outputs, and the
 * users, roles and business units the planner reasons about. Wire shapes and their conversions
 * live in dto.ts.
 */

/** A role in our vocabulary. */
export interface Role {
  roleId: string;
  name: string;
  businessUnitId: string;
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
}

/** What the provider stores after applying (inputs plus what it learnt). */
export interface DataverseUserOutputs extends DataverseUserInputs {
  /** `systemuserid` of the Dataverse user. */
  systemUserId: string;
  /** `businessunitid` the user is in. */
  businessUnitId: string;
  /** Role names we granted (what removal revokes), sorted. */
  managedRoles: string[];
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
  teamRoles?: Role[];
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
  dataverse: DesiredDataverseAccess[];
}
