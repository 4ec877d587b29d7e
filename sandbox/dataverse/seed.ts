/**
 * The Dataverse part of the demo tenant: per environment a root business unit and one child
 * unit, the standard roles (copied into the child unit), two custom roles, the built-in
 * placeholder users and the demo app's application user. Entra users arrive through the
 * background sync (sync.ts) on the first evaluation, as at environment creation.
 *
 * Reference: /work/shared/reference/dataverse.md §2.2 (roles, template ids), §8.1 (placeholders),
 * §13 item 15 (seed).
 */

import { stableGuid } from "../core/ids.ts";
import type { SeedInfo } from "../core/types.ts";
import type {
  BusinessUnitRow,
  DataverseEnvironmentState,
  DataversePrivilege,
  RoleRow,
  SystemUserRow,
} from "./state.ts";

/** The demo app registration (sandbox only): its application user is System Administrator. */
export const DEMO_APP_ID = "8d7c3e2a-6f5b-4a19-9e0d-2b4c6a8f1e37";

/** Fixed time stamp of seeded rows, so a reset restores an identical state. */
const SEEDED_ON = "2026-01-05T08:00:00Z";

const READ_ALL: DataversePrivilege[] = ["prvReadUser", "prvReadRole", "prvReadBusinessUnit", "prvReadTeam"];

/** A role of the root business unit as seeded. */
interface RoleSeed {
  name: string;
  roletemplateid: string | null;
  ismanaged: boolean;
  isinherited: 0 | 1;
  privileges: RoleRow["privileges"];
}

/**
 * Built-in roles. Template ids from the reference (§2.2, TF fixture); solution-shipped roles
 * (Environment Maker, Finance and Operations Basic User) have no template id.
 */
export const STANDARD_ROLES: readonly RoleSeed[] = [
  {
    name: "System Administrator",
    roletemplateid: "627090ff-40a3-4053-8790-584edc5be201",
    ismanaged: true,
    isinherited: 1,
    privileges: ["*"],
  },
  {
    name: "System Customizer",
    roletemplateid: "119f245c-3cc8-4b62-b31c-d1a046ced15d",
    ismanaged: true,
    isinherited: 1,
    privileges: READ_ALL,
  },
  {
    name: "Basic User",
    roletemplateid: "236750cd-45ae-4939-ab12-b24b920ced93",
    ismanaged: true,
    isinherited: 1,
    privileges: READ_ALL,
  },
  {
    name: "Delegate",
    roletemplateid: "d892cc0b-28c7-4e88-bd92-72f2c366baed",
    ismanaged: true,
    isinherited: 1,
    privileges: [],
  },
  {
    name: "Support User",
    roletemplateid: "2d101bb3-5ced-4122-83f1-94d5efde4e3b",
    ismanaged: true,
    isinherited: 1,
    privileges: READ_ALL,
  },
  {
    name: "Knowledge Manager",
    roletemplateid: "b4b40b17-cf37-4ea8-b2c5-b580f2f48654",
    ismanaged: true,
    isinherited: 1,
    privileges: [],
  },
  { name: "Environment Maker", roletemplateid: null, ismanaged: true, isinherited: 1, privileges: [] },
  {
    name: "Finance and Operations Basic User",
    roletemplateid: null,
    ismanaged: true,
    isinherited: 1,
    privileges: [],
  },
];

/** Customer-made (unmanaged) roles of the demo organization. */
export const CUSTOM_ROLES: readonly RoleSeed[] = [
  {
    name: "Contoso User Administrator",
    roletemplateid: null,
    ismanaged: false,
    isinherited: 1,
    privileges: [...READ_ALL, "prvWriteUser", "prvAssignRole"],
  },
  {
    name: "Contoso Finance Reader",
    roletemplateid: null,
    ismanaged: false,
    isinherited: 0,
    privileges: ["prvReadUser"],
  },
];

/** Name of the seeded child business unit (every root role has a copy there). */
export const CHILD_BUSINESS_UNIT_NAME = "Contoso Europe";

/** Solution ids as Dataverse reports them: the system solution for managed roles, Active for custom ones. */
const SYSTEM_SOLUTION_ID = "fd140aaf-4df4-11dd-bd17-0019b9312238";
const ACTIVE_SOLUTION_ID = "fd140aae-4df4-11dd-bd17-0019b9312238";

/**
 * Copies every role of `parent` business unit into `child` with a new roleid, as Dataverse does
 * when a unit is created (same name and template; `parentrootroleid` = the root role).
 */
export function copyRolesIntoBusinessUnit(
  env: DataverseEnvironmentState,
  parentBusinessUnitId: string,
  childBusinessUnitId: string,
  now: string,
  only: (role: RoleRow) => boolean = () => true,
): void {
  for (const role of env.roles.filter((r) => r.businessunitid === parentBusinessUnitId && only(r))) {
    env.roles.push({
      ...role,
      roleid: stableGuid(env.organizationId, "role", childBusinessUnitId, role.parentrootroleid),
      businessunitid: childBusinessUnitId,
      parentroleid: role.roleid,
      versionnumber: env.nextVersion++,
      createdon: now,
      modifiedon: now,
      privileges: [...role.privileges],
    });
  }
}

/** Seeds one environment's organization. */
export function seedDataverseEnvironment(name: string, tenantId: string): DataverseEnvironmentState {
  const organizationId = stableGuid(tenantId, "organization", name);
  const env: DataverseEnvironmentState = {
    organizationId,
    linkedToFinanceAndOperations: true,
    settings: {
      recordOwnershipAcrossBusinessUnits: false,
      doNotRemoveRolesOnChangeBusinessUnit: false,
      allowRoleAssignmentOnDisabledUsers: false,
    },
    businessUnits: [],
    roles: [],
    systemUsers: [],
    teams: [],
    nextVersion: 1_000_000,
    sync: { initialSyncDone: false, observations: {} },
  };
  // The root unit carries the organization's name (Dataverse names it after the org).
  const root: BusinessUnitRow = {
    businessunitid: stableGuid(organizationId, "businessunit", "root"),
    name: name,
    parentbusinessunitid: null,
    isdisabled: false,
    versionnumber: env.nextVersion++,
    createdon: SEEDED_ON,
    modifiedon: SEEDED_ON,
  };
  env.businessUnits.push(root);
  for (const seed of [...STANDARD_ROLES, ...CUSTOM_ROLES]) {
    const roleid = stableGuid(organizationId, "role", root.businessunitid, seed.name);
    env.roles.push({
      roleid,
      name: seed.name,
      businessunitid: root.businessunitid,
      parentrootroleid: roleid,
      parentroleid: null,
      roletemplateid: seed.roletemplateid,
      ismanaged: seed.ismanaged,
      isinherited: seed.isinherited,
      solutionid: seed.ismanaged ? SYSTEM_SOLUTION_ID : ACTIVE_SOLUTION_ID,
      versionnumber: env.nextVersion++,
      createdon: SEEDED_ON,
      modifiedon: SEEDED_ON,
      privileges: [...seed.privileges],
    });
  }
  const child: BusinessUnitRow = {
    businessunitid: stableGuid(organizationId, "businessunit", CHILD_BUSINESS_UNIT_NAME),
    name: CHILD_BUSINESS_UNIT_NAME,
    parentbusinessunitid: root.businessunitid,
    isdisabled: false,
    versionnumber: env.nextVersion++,
    createdon: SEEDED_ON,
    modifiedon: SEEDED_ON,
  };
  env.businessUnits.push(child);
  copyRolesIntoBusinessUnit(env, root.businessunitid, child.businessunitid, SEEDED_ON);

  const sysAdmin = env.roles.find(
    (r) => r.businessunitid === root.businessunitid && r.name === "System Administrator",
  );
  const placeholder = (domainname: string, fullname: string, accessmode: number): SystemUserRow => ({
    systemuserid: stableGuid(organizationId, "systemuser", domainname),
    azureactivedirectoryobjectid: null,
    domainname,
    internalemailaddress: domainname,
    windowsliveid: domainname,
    fullname,
    firstname: fullname.split(" ")[0] ?? fullname,
    lastname: fullname.split(" ").slice(1).join(" ") || null,
    isdisabled: false,
    islicensed: false,
    accessmode,
    caltype: 0,
    applicationid: null,
    businessunitid: root.businessunitid,
    setupuser: false,
    issyncwithdirectory: false,
    deletedstate: 0,
    versionnumber: env.nextVersion++,
    createdon: SEEDED_ON,
    modifiedon: SEEDED_ON,
    roleids: [],
  });
  // Every environment has these two never-synced placeholders (reference §8.1, create-users.md).
  env.systemUsers.push(placeholder("crmoln@microsoft.com", "Support User", 3));
  env.systemUsers.push(placeholder("crmoln2@microsoft.com", "Delegated Admin", 5));
  // The demo app's application user (accessmode 4, firstname "#" by design), so WhoAmI works.
  // Its azureactivedirectoryobjectid (the service principal's object id) is filled in from the
  // Entra slice by the first sync, since Entra owns that id.
  env.systemUsers.push({
    ...placeholder(`${DEMO_APP_ID}@contoso.example`, "# d365-access demo", 4),
    systemuserid: stableGuid(organizationId, "systemuser", "app", DEMO_APP_ID),
    firstname: "#",
    lastname: "d365-access demo",
    internalemailaddress: null,
    windowsliveid: null,
    applicationid: DEMO_APP_ID,
    roleids: sysAdmin ? [sysAdmin.roleid] : [],
  });
  return env;
}

/** The Dataverse seed slice: one organization per environment of the demo tenant. */
export function seedDataverse(info: SeedInfo): Record<string, DataverseEnvironmentState> {
  const slice: Record<string, DataverseEnvironmentState> = {};
  for (const e of info.environments) slice[e.name] = seedDataverseEnvironment(e.name, info.tenantId);
  return slice;
}
