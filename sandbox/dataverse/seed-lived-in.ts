/**
 * The Dataverse part of the lived-in tenant, per environment: the demo organization, plus the
 * people core/lived-in.ts gives a Dataverse row (hand-granted roles, the child business unit,
 * a disabled user who keeps his roles), a Microsoft Entra group team with a role, our
 * integration's application user, and application users Microsoft provisions in every
 * environment ("System and application users",
 * https://learn.microsoft.com/power-platform/admin/system-application-users). Everyone else
 * with a licence arrives through the user sync, as in the demo.
 */
import { stableGuid } from "../core/ids.ts";
import {
  INTEGRATION_APP_ID,
  LIVED_IN_GROUP_TEAMS,
  type LivedInPerson,
  livedInGroupId,
} from "../core/lived-in.ts";
import { livedInPeople } from "../core/population.ts";
import { DEMO_APP_ID, DEMO_DOMAIN } from "../core/tenant.ts";
import type { SeedInfo } from "../core/types.ts";
import { copyRolesIntoBusinessUnit, seedDataverseEnvironment } from "./seed.ts";
import type { DataverseEnvironmentState, RoleRow, SystemUserRow } from "./state.ts";

const SEEDED_ON = "2026-01-05T08:00:00Z";

/**
 * Microsoft's application users: full name, user name and role as the docs list them. Their
 * application ids are Microsoft's first-party apps; the sandbox derives stand-ins (illustrative).
 */
const MICROSOFT_APPLICATION_USERS: { fullname: string; domainname: string; role: string }[] = [
  {
    fullname: "Business Application Platform Service account",
    domainname: "bap_sa@microsoft.com",
    role: "System Administrator",
  },
  {
    fullname: "Finance and Operations Runtime Integration User",
    domainname: "FinanceandOperationsRuntimeIntegrationUser@onmicrosoft.com",
    role: "Finance and Operations Integration User",
  },
  {
    fullname: "Power Platform Dataflows",
    domainname: "ppdfcdsclient@onmicrosoft.com",
    role: "System Administrator",
  },
];

function rootUnitId(env: DataverseEnvironmentState): string {
  return (env.businessUnits.find((b) => b.parentbusinessunitid === null) as { businessunitid: string })
    .businessunitid;
}

/** Adds a managed role to the root unit and its copies to every other unit, as Dataverse does. */
function addRole(env: DataverseEnvironmentState, name: string): void {
  const root = rootUnitId(env);
  const roleid = stableGuid(env.organizationId, "role", root, name);
  const role: RoleRow = {
    roleid,
    name,
    businessunitid: root,
    parentrootroleid: roleid,
    parentroleid: null,
    roletemplateid: null,
    ismanaged: true,
    isinherited: 1,
    solutionid: "fd140aaf-4df4-11dd-bd17-0019b9312238",
    versionnumber: env.nextVersion++,
    createdon: SEEDED_ON,
    modifiedon: SEEDED_ON,
    privileges: [],
  };
  env.roles.push(role);
  for (const unit of env.businessUnits.filter((b) => b.businessunitid !== root)) {
    copyRolesIntoBusinessUnit(env, root, unit.businessunitid, SEEDED_ON, (r) => r === role);
  }
}

function roleIn(env: DataverseEnvironmentState, name: string, businessunitid: string): string {
  const role = env.roles.find((r) => r.name === name && r.businessunitid === businessunitid);
  if (!role) throw new Error(`lived-in seed: no role '${name}' in business unit ${businessunitid}`);
  return role.roleid;
}

function applicationUser(
  env: DataverseEnvironmentState,
  appId: string,
  fullname: string,
  domainname: string,
  role: string,
): SystemUserRow {
  const root = rootUnitId(env);
  return {
    systemuserid: stableGuid(env.organizationId, "systemuser", "app", appId),
    // The integration app's service principal id comes from the directory at the first sync.
    azureactivedirectoryobjectid:
      appId === INTEGRATION_APP_ID ? null : stableGuid("service-principal", appId),
    domainname,
    internalemailaddress: null,
    windowsliveid: null,
    fullname: `# ${fullname}`,
    firstname: "#",
    lastname: fullname,
    isdisabled: false,
    islicensed: false,
    accessmode: 4,
    caltype: 0,
    applicationid: appId,
    businessunitid: root,
    setupuser: false,
    issyncwithdirectory: false,
    deletedstate: 0,
    versionnumber: env.nextVersion++,
    createdon: SEEDED_ON,
    modifiedon: SEEDED_ON,
    roleids: [roleIn(env, role, root)],
  };
}

function personRow(env: DataverseEnvironmentState, person: LivedInPerson): SystemUserRow {
  const spec = person.dataverse as NonNullable<LivedInPerson["dataverse"]>;
  const unit = spec.businessUnit
    ? env.businessUnits.find((b) => b.name === spec.businessUnit)?.businessunitid
    : rootUnitId(env);
  if (!unit) throw new Error(`lived-in seed: no business unit '${spec.businessUnit}'`);
  const upn = `${person.alias}@${DEMO_DOMAIN}`;
  return {
    systemuserid: stableGuid(env.organizationId, "systemuser", person.id),
    azureactivedirectoryobjectid: person.id,
    domainname: upn,
    internalemailaddress: upn,
    windowsliveid: upn,
    fullname: `${person.givenName} ${person.surname}`,
    firstname: person.givenName,
    lastname: person.surname,
    isdisabled: spec.disabled === true,
    islicensed: true,
    accessmode: 0,
    caltype: 7,
    applicationid: null,
    businessunitid: unit,
    setupuser: false,
    issyncwithdirectory: true,
    deletedstate: 0,
    versionnumber: env.nextVersion++,
    createdon: SEEDED_ON,
    modifiedon: SEEDED_ON,
    roleids: spec.roles.map((name) => roleIn(env, name, unit)),
  };
}

/** Seeds one environment of the lived-in tenant. */
export function seedLivedInEnvironment(name: string, info: SeedInfo): DataverseEnvironmentState {
  const env = seedDataverseEnvironment(name, info.tenantId);
  addRole(env, "Finance and Operations Integration User");
  const root = rootUnitId(env);
  // The demo app's application user keeps System Administrator; the integration reads finance data.
  env.systemUsers.push(
    applicationUser(
      env,
      INTEGRATION_APP_ID,
      "Contoso Finance Integration",
      `${INTEGRATION_APP_ID}@${DEMO_DOMAIN}`,
      "Contoso Finance Reader",
    ),
  );
  for (const app of MICROSOFT_APPLICATION_USERS) {
    env.systemUsers.push(
      applicationUser(
        env,
        stableGuid("microsoft-app", app.domainname),
        app.fullname,
        app.domainname,
        app.role,
      ),
    );
  }
  const people = livedInPeople(info.seed).filter((p) => p.dataverse);
  const rows = new Map<string, SystemUserRow>();
  for (const person of people) {
    const row = personRow(env, person);
    rows.set(person.id, row);
    env.systemUsers.push(row);
  }
  const demoApp = env.systemUsers.find((u) => u.applicationid === DEMO_APP_ID) as SystemUserRow;
  env.teams = LIVED_IN_GROUP_TEAMS.map((t) => ({
    teamid: stableGuid(env.organizationId, "team", t.displayName),
    name: t.displayName,
    teamtype: 2 as const,
    membershiptype: 0 as const,
    azureactivedirectoryobjectid: livedInGroupId(t.displayName),
    businessunitid: root,
    isdefault: false,
    administratorid: demoApp.systemuserid,
    roleids: t.roles.map((role) => roleIn(env, role, root)),
    memberids: people
      .filter((p) => p.dataverse?.teams?.includes(t.displayName))
      .map((p) => (rows.get(p.id) as SystemUserRow).systemuserid),
    versionnumber: env.nextVersion++,
    createdon: SEEDED_ON,
    modifiedon: SEEDED_ON,
  }));
  return env;
}

/** The Dataverse slice of the lived-in tenant. */
export function seedLivedInDataverse(info: SeedInfo): Record<string, DataverseEnvironmentState> {
  const slice: Record<string, DataverseEnvironmentState> = {};
  for (const e of info.environments) slice[e.name] = seedLivedInEnvironment(e.name, info);
  return slice;
}
