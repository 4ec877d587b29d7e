/**
 * The F&O part of the lived-in tenant, per environment: the demo environment, plus every
 * preconfigured system account the docs list ("Pre-configured system accounts":
 * Axrunner, FRServiceUser, RetailServiceAccount, SysHealthServiceUser,
 * https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/sysadmin/pre-configured-system-accounts),
 * our app registered in SysAADClients as a dedicated service user holding System administrator,
 * the integration app's user, the people of core/lived-in.ts with their roles (some restricted to
 * legal entities), a rule giving USMF users the Employee role (with one exclusion), and users
 * that posted transactions reference.
 */
import { GUEST_DOMAIN, INTEGRATION_APP_ID, LIVED_IN_APP_USER, type LivedInPerson } from "../core/lived-in.ts";
import { livedInPeople } from "../core/population.ts";
import { DEMO_APP_ID, DEMO_DOMAIN } from "../core/tenant.ts";
import type { SeedInfo } from "../core/types.ts";
import { runAutomaticRoleAssignment } from "./rules-roles.ts";
import {
  ENTRA_PROVIDER,
  newSystemUserRecord,
  SYSADMIN_ROLE,
  SYSTEM_USER_ROLE,
  seedFnoEnvironment,
} from "./seed.ts";
import { allocateRecId, type FnoEnvironmentState } from "./state.ts";

/** The rule of the lived-in environment: users of USMF get Employee self-service. */
export const EMPLOYEE_RULE = {
  SecurityRoleIdentifier: "HCMEMPLOYEE",
  Name: "USMF employees",
  Company: "USMF",
};

/** The integration's F&O service user. */
const INTEGRATION_USER = { userId: "svc-integration", name: "Finance integration service user" };

function addUser(
  env: FnoEnvironmentState,
  fields: { UserID: string; UserName: string; Alias: string; Company: string; Enabled?: boolean },
  extra: Partial<{ NetworkDomain: string; Email: string; ExternalUser: boolean }> = {},
): void {
  env.users.push(
    newSystemUserRecord(allocateRecId(env), {
      ...fields,
      Email: extra.Email ?? fields.Alias,
      NetworkDomain: extra.NetworkDomain ?? ENTRA_PROVIDER,
      ExternalUser: extra.ExternalUser ?? false,
      Enabled: fields.Enabled ?? true,
      UserInfo_language: "en-us",
      Helplanguage: "en-us",
      Language: "en-us",
      AccountType: "ClaimsUser",
      Theme: "Theme1",
    }),
  );
}

function grant(
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

function addPerson(env: FnoEnvironmentState, person: LivedInPerson): void {
  const spec = person.fno as NonNullable<LivedInPerson["fno"]>;
  const guest = person.entra.guestOf;
  const alias = guest ? `${person.alias}@${guest}` : `${person.alias}@${DEMO_DOMAIN}`;
  addUser(
    env,
    {
      UserID: spec.userId,
      UserName: `${person.givenName} ${person.surname}`,
      Alias: alias,
      Company: spec.company,
      Enabled: spec.enabled ?? true,
    },
    // A guest signs in through the home tenant's provider (d365fo.tools derives it from the mail domain).
    guest ? { NetworkDomain: `${ENTRA_PROVIDER}${GUEST_DOMAIN}/`, ExternalUser: true } : {},
  );
  for (const g of spec.roles) grant(env, spec.userId, g.role, g);
  if (spec.referencedBy) {
    env.userReferences = [...(env.userReferences ?? []), { UserId: spec.userId, Table: spec.referencedBy }];
  }
}

/** Seeds one environment of the lived-in tenant. */
export function seedLivedInFnoEnvironment(info: SeedInfo): FnoEnvironmentState {
  const env = seedFnoEnvironment();
  // Axrunner is the one account the docs list that the demo seed lacks.
  addUser(env, { UserID: "Axrunner", UserName: "Axrunner", Alias: "Axrunner@dynamics.com", Company: "DAT" });
  grant(env, "Axrunner", SYSTEM_USER_ROLE);

  // Our app acts as a dedicated service user (as the docs advise), not as Admin.
  addUser(env, {
    UserID: LIVED_IN_APP_USER.userId,
    UserName: LIVED_IN_APP_USER.name,
    Alias: `${LIVED_IN_APP_USER.userId}@${DEMO_DOMAIN}`,
    Company: "DAT",
  });
  grant(env, LIVED_IN_APP_USER.userId, SYSADMIN_ROLE);
  grant(env, LIVED_IN_APP_USER.userId, SYSTEM_USER_ROLE);
  const demoClient = env.aadClients.find((c) => c.AADClientId === DEMO_APP_ID);
  if (demoClient) demoClient.UserId = LIVED_IN_APP_USER.userId;

  addUser(env, {
    UserID: INTEGRATION_USER.userId,
    UserName: INTEGRATION_USER.name,
    Alias: `${INTEGRATION_USER.userId}@${DEMO_DOMAIN}`,
    Company: "DAT",
  });
  grant(env, INTEGRATION_USER.userId, SYSTEM_USER_ROLE);
  grant(env, INTEGRATION_USER.userId, "LEDGERACCOUNTANT");
  env.aadClients.push({
    RecId: allocateRecId(env),
    RecVersion: 1,
    AADClientId: INTEGRATION_APP_ID,
    Name: "Contoso Finance Integration",
    UserId: INTEGRATION_USER.userId,
  });

  for (const person of livedInPeople(info.seed)) if (person.fno) addPerson(env, person);
  env.roleRules = [{ RecId: allocateRecId(env), RecVersion: 1, ...EMPLOYEE_RULE }];
  runAutomaticRoleAssignment(env);
  return env;
}

/** The F&O slice of the lived-in tenant. */
export function seedLivedInFno(info: SeedInfo): Record<string, FnoEnvironmentState> {
  const slice: Record<string, FnoEnvironmentState> = {};
  for (const e of info.environments) slice[e.name] = seedLivedInFnoEnvironment(info);
  return slice;
}
