/**
 * Wire shapes of the emulated tables: how a stored row is rendered in JSON (lookups as
 * `_<name>_value`, `@odata.etag` = `W/"<versionnumber>"`), which columns hold GUIDs (a quoted
 * string compared with a GUID column is a type error in Dataverse), and the entity metadata
 * the query layer needs. Shapes follow reference dataverse.md §2 (TF fixtures).
 */
import type { Navigation } from "./query.ts";
import type { BusinessUnitRow, DataverseEnvironmentState, RoleRow, SystemUserRow, TeamRow } from "./state.ts";

/** Metadata of one emulated entity set. */
export interface EntityInfo {
  /** Logical name, e.g. `systemuser`. */
  logicalName: string;
  /** Entity set name, e.g. `systemusers`. */
  setName: string;
  primaryKey: string;
  /** Object type code (shown in privilege errors). */
  objectTypeCode: number;
  /** Columns of type Edm.Guid (including lookup `_x_value` columns). */
  guidColumns: readonly string[];
  /** Single-valued navigation (lookup) names usable in `$filter` for their `_x_value`. */
  lookups: readonly string[];
}

export const SYSTEMUSER: EntityInfo = {
  logicalName: "systemuser",
  setName: "systemusers",
  primaryKey: "systemuserid",
  objectTypeCode: 8,
  guidColumns: [
    "systemuserid",
    "azureactivedirectoryobjectid",
    "applicationid",
    "_businessunitid_value",
    "_organizationid_value",
  ],
  lookups: ["businessunitid"],
};

export const ROLE: EntityInfo = {
  logicalName: "role",
  setName: "roles",
  primaryKey: "roleid",
  objectTypeCode: 1036,
  guidColumns: [
    "roleid",
    "roleidunique",
    "solutionid",
    "_businessunitid_value",
    "_parentrootroleid_value",
    "_parentroleid_value",
    "_roletemplateid_value",
    "_organizationid_value",
  ],
  lookups: ["businessunitid", "parentrootroleid", "parentroleid", "roletemplateid"],
};

export const BUSINESSUNIT: EntityInfo = {
  logicalName: "businessunit",
  setName: "businessunits",
  primaryKey: "businessunitid",
  objectTypeCode: 10,
  guidColumns: ["businessunitid", "_parentbusinessunitid_value", "_organizationid_value"],
  lookups: ["parentbusinessunitid"],
};

export const TEAM: EntityInfo = {
  logicalName: "team",
  setName: "teams",
  primaryKey: "teamid",
  objectTypeCode: 9,
  guidColumns: [
    "teamid",
    "azureactivedirectoryobjectid",
    "_businessunitid_value",
    "_administratorid_value",
    "_organizationid_value",
  ],
  lookups: ["businessunitid", "administratorid"],
};

const etag = (versionnumber: number) => `W/"${versionnumber}"`;

/** Renders a `systemuser` row (without navigation properties). */
export function systemUserToWire(env: DataverseEnvironmentState, u: SystemUserRow): Record<string, unknown> {
  return {
    "@odata.etag": etag(u.versionnumber),
    systemuserid: u.systemuserid,
    azureactivedirectoryobjectid: u.azureactivedirectoryobjectid,
    domainname: u.domainname,
    internalemailaddress: u.internalemailaddress,
    windowsliveid: u.windowsliveid,
    fullname: u.fullname,
    firstname: u.firstname,
    lastname: u.lastname,
    isdisabled: u.isdisabled,
    islicensed: u.islicensed,
    accessmode: u.accessmode,
    caltype: u.caltype,
    applicationid: u.applicationid,
    setupuser: u.setupuser,
    issyncwithdirectory: u.issyncwithdirectory,
    deletedstate: u.deletedstate,
    azurestate: 0,
    _businessunitid_value: u.businessunitid,
    _organizationid_value: env.organizationId,
    versionnumber: u.versionnumber,
    createdon: u.createdon,
    modifiedon: u.modifiedon,
  };
}

/** Renders a `team` row (without navigation properties). */
export function teamToWire(env: DataverseEnvironmentState, t: TeamRow): Record<string, unknown> {
  return {
    "@odata.etag": etag(t.versionnumber),
    teamid: t.teamid,
    name: t.name,
    teamtype: t.teamtype,
    membershiptype: t.membershiptype,
    azureactivedirectoryobjectid: t.azureactivedirectoryobjectid,
    isdefault: t.isdefault,
    systemmanaged: false,
    _businessunitid_value: t.businessunitid,
    _administratorid_value: t.administratorid,
    _organizationid_value: env.organizationId,
    versionnumber: t.versionnumber,
    createdon: t.createdon,
    modifiedon: t.modifiedon,
  };
}

/** The managed-property complex value Dataverse returns for `iscustomizable` / `canbedeleted`. */
function managedProperty(value: boolean, logicalName: string): Record<string, unknown> {
  return { Value: value, CanBeChanged: value, ManagedPropertyLogicalName: logicalName };
}

/** Renders a `role` row. */
export function roleToWire(env: DataverseEnvironmentState, r: RoleRow): Record<string, unknown> {
  return {
    "@odata.etag": etag(r.versionnumber),
    roleid: r.roleid,
    name: r.name,
    _businessunitid_value: r.businessunitid,
    _parentrootroleid_value: r.parentrootroleid,
    _parentroleid_value: r.parentroleid,
    _roletemplateid_value: r.roletemplateid,
    ismanaged: r.ismanaged,
    isinherited: r.isinherited,
    roleidunique: r.parentrootroleid,
    solutionid: r.solutionid,
    componentstate: 0,
    _organizationid_value: env.organizationId,
    iscustomizable: managedProperty(!r.ismanaged, "iscustomizableanddeletable"),
    canbedeleted: managedProperty(!r.ismanaged, "canbedeleted"),
    versionnumber: r.versionnumber,
    createdon: r.createdon,
    modifiedon: r.modifiedon,
  };
}

/** Renders a `businessunit` row. */
export function businessUnitToWire(
  env: DataverseEnvironmentState,
  b: BusinessUnitRow,
): Record<string, unknown> {
  return {
    "@odata.etag": etag(b.versionnumber),
    businessunitid: b.businessunitid,
    name: b.name,
    _parentbusinessunitid_value: b.parentbusinessunitid,
    isdisabled: b.isdisabled,
    _organizationid_value: env.organizationId,
    versionnumber: b.versionnumber,
    createdon: b.createdon,
    modifiedon: b.modifiedon,
  };
}

export function rolesOf(env: DataverseEnvironmentState, user: SystemUserRow): Record<string, unknown>[] {
  return user.roleids.flatMap((id) => {
    const role = env.roles.find((r) => r.roleid === id);
    return role ? [roleToWire(env, role)] : [];
  });
}

/** `businessunitid`: the owning business unit of a systemuser or role row (single-valued). */
export function businessUnitNavigation(env: DataverseEnvironmentState): Navigation {
  return {
    target: BUSINESSUNIT,
    collection: false,
    related: (parent) =>
      env.businessUnits
        .filter((b) => b.businessunitid === parent._businessunitid_value)
        .map((b) => businessUnitToWire(env, b)),
  };
}

/** The navigations of `systemuser`: its roles, its teams and its business unit. */
export function systemUserNavigations(env: DataverseEnvironmentState): Record<string, Navigation> {
  let byId: Map<string, SystemUserRow> | undefined;
  const userOf = (parent: Record<string, unknown>) => {
    byId ??= new Map(env.systemUsers.map((u) => [u.systemuserid, u]));
    return byId.get(parent.systemuserid as string);
  };
  return {
    systemuserroles_association: {
      target: ROLE,
      collection: true,
      related: (parent) => {
        const user = userOf(parent);
        return user ? rolesOf(env, user) : [];
      },
    },
    teammembership_association: {
      target: TEAM,
      collection: true,
      related: (parent) =>
        (env.teams ?? [])
          .filter((t) => t.memberids.includes(parent.systemuserid as string))
          .map((t) => teamToWire(env, t)),
    },
    businessunitid: businessUnitNavigation(env),
  };
}

/** The navigations of `team`: its roles and its members. */
export function teamNavigations(env: DataverseEnvironmentState): Record<string, Navigation> {
  const teamOf = (parent: Record<string, unknown>) =>
    (env.teams ?? []).find((t) => t.teamid === parent.teamid);
  return {
    teamroles_association: {
      target: ROLE,
      collection: true,
      related: (parent) =>
        (teamOf(parent)?.roleids ?? []).flatMap((id) => {
          const role = env.roles.find((r) => r.roleid === id);
          return role ? [roleToWire(env, role)] : [];
        }),
    },
    teammembership_association: {
      target: SYSTEMUSER,
      collection: true,
      related: (parent) => {
        const members = new Set(teamOf(parent)?.memberids ?? []);
        return env.systemUsers
          .filter((u) => members.has(u.systemuserid))
          .map((u) => systemUserToWire(env, u));
      },
    },
    businessunitid: businessUnitNavigation(env),
  };
}

export function roleNavigations(env: DataverseEnvironmentState): Record<string, Navigation> {
  return {
    businessunitid: businessUnitNavigation(env),
  };
}
