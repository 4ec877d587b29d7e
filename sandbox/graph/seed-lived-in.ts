/**
 * The directory of the lived-in tenant: the demo directory, plus Microsoft 365 SKUs held
 * directly by most people, a second licensing group (with a user in `CountViolation`), a
 * security group for a Dataverse group team, a synced user, a guest, a Global Administrator, a
 * disabled user still holding licences, and an integration app — person by person as
 * core/lived-in.ts describes them. Seats are sized to what the people hold, with headroom.
 *
 * skuIds and service plan ids: "Product names and service plan identifiers for licensing"
 * (https://learn.microsoft.com/entra/identity/users/licensing-service-plan-reference); plan lists
 * are trimmed to the main plans of each product (every id listed is the real one).
 */

import { stableGuid } from "../core/ids.ts";
import {
  GUEST_DOMAIN,
  INTEGRATION_APP_ID,
  LIVED_IN_GROUP_TEAMS,
  LIVED_IN_GROUPS,
  type LivedInPerson,
  livedInGroupId,
} from "../core/lived-in.ts";
import { livedInPeople } from "../core/population.ts";
import { DEMO_DOMAIN } from "../core/tenant.ts";
import type { SeedInfo } from "../core/types.ts";
import { seedDirectory } from "./seed.ts";
import type { EntraSku, EntraState, EntraUser } from "./state.ts";

const plan = (servicePlanName: string, servicePlanId: string) => ({
  servicePlanId,
  servicePlanName,
  provisioningStatus: "Success",
  appliesTo: "User",
});

const EXCHANGE_ENTERPRISE = plan("EXCHANGE_S_ENTERPRISE", "efb87545-963c-4e0d-99df-69c6916d9eb0");
const SHAREPOINT = plan("SHAREPOINTENTERPRISE", "5dbe027f-2339-4123-9542-606e4d348a72");
const OFFICE_WEB = plan("SHAREPOINTWAC", "e95bec33-7c88-4a70-8e19-b10bd9d0c014");
const OFFICE_APPS = plan("OFFICESUBSCRIPTION", "43de0ff5-c92c-492b-9116-175376d08c38");
const TEAMS = plan("TEAMS1", "57ff2da0-773e-42df-b2af-ffb7a2317929");
const SKYPE = plan("MCOSTANDARD", "0feaeb32-d00e-4d66-bd5a-43b5b83db82c");
const RIGHTS = plan("RMS_S_ENTERPRISE", "bea4c11e-220a-4e6d-8eb8-8ea15d019f90");
const PLANNER = plan("PROJECTWORKMANAGEMENT", "b737dad2-2f6c-4c65-90e3-ca563267e8b9");
const SWAY = plan("SWAY", "a23b959c-7ce8-4e57-9140-b90eb88a9e97");
const BOOKINGS = plan("MICROSOFTBOOKINGS", "199a5c09-e0ca-4e37-8f7c-b05d533e1ea2");
const FOUNDATION = plan("EXCHANGE_S_FOUNDATION", "113feb6c-3fe4-4440-bddc-54d774bf0318");
const ENTRA_P1 = plan("AAD_PREMIUM", "41781fb2-bc02-4b7c-bd55-b576c07bb09d");
const MFA = plan("MFA_PREMIUM", "8a256a2b-b617-496d-b51b-e76466e88db0");
const INTUNE = plan("INTUNE_A", "c1ec4a95-1f05-45b3-a911-aa3fa01094f5");

/** Microsoft 365 SKUs of the lived-in tenant. Their Dataverse plans are the free Microsoft 365 ones. */
function microsoft365Skus(): EntraSku[] {
  const units = { enabled: 0, suspended: 0, warning: 0, lockedOut: 0 };
  return [
    {
      skuId: "06ebc4ee-1bb5-47dd-8120-11324bc54e06",
      skuPartNumber: "SPE_E5",
      prepaidUnits: { ...units },
      servicePlans: [
        EXCHANGE_ENTERPRISE,
        SHAREPOINT,
        OFFICE_WEB,
        OFFICE_APPS,
        TEAMS,
        SKYPE,
        RIGHTS,
        PLANNER,
        SWAY,
        BOOKINGS,
        ENTRA_P1,
        plan("AAD_PREMIUM_P2", "eec0eb4f-6444-4f95-aba0-50c24d67f998"),
        MFA,
        INTUNE,
        plan("MCOEV", "4828c8ec-dc2e-4779-b502-87ac9ce28ab7"),
        plan("BI_AZURE_P2", "70d33638-9c74-4d01-bfd3-562de28bd4ba"),
        plan("POWERAPPS_O365_P3", "9c0dab89-a30c-4117-86e7-97bda240acd2"),
        plan("FLOW_O365_P3", "07699545-9485-468e-95b6-2fca3738be01"),
        plan("DYN365_CDS_O365_P3", "28b0fa46-c39a-4188-89e2-58e979a6b014"),
        plan("CDS_O365_P3", "afa73018-811e-46e9-988f-f75d2b1b8430"),
        plan("WINDEFATP", "871d91ec-ec1a-452b-a83f-bd76c7d770ef"),
      ],
    },
    {
      skuId: "05e9a617-0261-4cee-bb44-138d3ef5d965",
      skuPartNumber: "SPE_E3",
      prepaidUnits: { ...units },
      servicePlans: [
        EXCHANGE_ENTERPRISE,
        SHAREPOINT,
        OFFICE_WEB,
        OFFICE_APPS,
        TEAMS,
        SKYPE,
        RIGHTS,
        PLANNER,
        SWAY,
        BOOKINGS,
        ENTRA_P1,
        MFA,
        INTUNE,
        plan("POWERAPPS_O365_P2", "c68f8d98-5534-41c8-bf36-22fa496fa792"),
        plan("FLOW_O365_P2", "76846ad7-7776-4c40-a281-a386362dd1b9"),
        plan("DYN365_CDS_O365_P2", "4ff01e01-1ba7-4d71-8cf8-ce96c3bbcf14"),
      ],
    },
    {
      skuId: "6fd2c87f-b296-42f0-b197-1e91e994b900",
      skuPartNumber: "ENTERPRISEPACK",
      prepaidUnits: { ...units },
      servicePlans: [
        EXCHANGE_ENTERPRISE,
        SHAREPOINT,
        OFFICE_WEB,
        OFFICE_APPS,
        TEAMS,
        SKYPE,
        RIGHTS,
        PLANNER,
        SWAY,
        BOOKINGS,
        plan("POWERAPPS_O365_P2", "c68f8d98-5534-41c8-bf36-22fa496fa792"),
        plan("FLOW_O365_P2", "76846ad7-7776-4c40-a281-a386362dd1b9"),
        plan("DYN365_CDS_O365_P2", "4ff01e01-1ba7-4d71-8cf8-ce96c3bbcf14"),
        FOUNDATION,
      ],
    },
  ];
}

function upnOf(person: LivedInPerson): string {
  const guest = person.entra.guestOf;
  return guest ? `${person.alias}_${guest}#EXT#@${DEMO_DOMAIN}` : `${person.alias}@${DEMO_DOMAIN}`;
}

/** Applies a person's Entra part to `user` (a demo user, or a fresh one). */
function applyPerson(directory: EntraState, user: EntraUser, person: LivedInPerson): void {
  const e = person.entra;
  const skuOf = (part: string) => directory.skus.find((s) => s.skuPartNumber === part);
  for (const part of e.licenses ?? []) {
    const sku = skuOf(part);
    if (!sku) throw new Error(`lived-in seed: unknown SKU ${part}`);
    if (user.assignedLicenses.some((l) => l.skuId === sku.skuId)) continue;
    const disabled = (e.disabledPlans?.[part] ?? []).map((name) => {
      const found = sku.servicePlans.find((p) => p.servicePlanName === name);
      if (!found) throw new Error(`lived-in seed: ${part} has no plan ${name}`);
      return found.servicePlanId;
    });
    user.assignedLicenses.push({ skuId: sku.skuId, disabledPlans: disabled });
  }
  for (const group of e.groups ?? []) {
    const id = livedInGroupId(group);
    if (!user.memberOf.includes(id)) user.memberOf.push(id);
  }
  for (const [group, error] of Object.entries(e.groupErrors ?? {})) {
    user.groupLicenseErrors = { ...user.groupLicenseErrors, [livedInGroupId(group)]: error };
  }
  if (e.accountEnabled === false) user.accountEnabled = false;
  if (e.directoryRoles) user.directoryRoles = [...e.directoryRoles];
  if (e.onPremises) {
    user.onPremisesSyncEnabled = true;
    user.onPremisesImmutableId = Buffer.from(person.id.replace(/-/g, ""), "hex").toString("base64");
    user.onPremisesSamAccountName = person.alias.replace(/\./g, "").slice(0, 20);
    user.onPremisesLastSyncDateTime = "2026-04-30T22:15:00Z";
  }
}

function newUser(person: LivedInPerson): EntraUser {
  const guest = person.entra.guestOf;
  return {
    id: person.id,
    userPrincipalName: upnOf(person),
    displayName: `${person.givenName} ${person.surname}`,
    mail: guest ? `${person.alias}@${GUEST_DOMAIN}` : `${person.alias}@${DEMO_DOMAIN}`,
    mailNickname: guest ? `${person.alias}_${guest}#EXT#` : person.alias,
    accountEnabled: true,
    usageLocation: person.usageLocation,
    userType: guest ? "Guest" : "Member",
    createdDateTime: "2023-06-12T08:30:00Z",
    assignedLicenses: [],
    memberOf: [],
    givenName: person.givenName,
    surname: person.surname,
    jobTitle: person.jobTitle,
    businessPhones: [],
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: null,
  };
}

/** Builds the lived-in directory for `info.seed` (the hand-written people plus any generated ones). */
export function seedLivedInDirectory(info: SeedInfo): EntraState {
  const directory = seedDirectory(info);
  directory.skus.push(...microsoft365Skus());
  for (const g of LIVED_IN_GROUPS) {
    const sku = directory.skus.find((s) => s.skuPartNumber === g.skuPartNumber);
    if (!sku) throw new Error(`lived-in seed: unknown SKU ${g.skuPartNumber}`);
    if (directory.groups.some((x) => x.displayName === g.displayName)) continue;
    directory.groups.push({
      id: livedInGroupId(g.displayName),
      displayName: g.displayName,
      assignedLicenses: [{ skuId: sku.skuId, disabledPlans: [] }],
    });
  }
  for (const t of LIVED_IN_GROUP_TEAMS) {
    directory.groups.push({
      id: livedInGroupId(t.displayName),
      displayName: t.displayName,
      assignedLicenses: [],
    });
  }
  directory.apps.push({
    appId: INTEGRATION_APP_ID,
    servicePrincipalId: stableGuid("lived-in", "service-principal", INTEGRATION_APP_ID),
    displayName: "Contoso Finance Integration (Azure Data Factory)",
    clientSecretHashes: [],
    federatedCredentials: [],
    graphAppRoles: ["User.Read.All"],
  });
  const byId = new Map(directory.users.map((u) => [u.id, u]));
  for (const person of livedInPeople(info.seed)) {
    const existing = byId.get(person.id);
    const user = existing ?? newUser(person);
    applyPerson(directory, user, person);
    if (!existing) directory.users.push(user);
  }
  sizeSeats(directory);
  return directory;
}

/**
 * Seats: what the people hold (a SKU held directly and through a group counts once; a group
 * licence in error counts not at all), plus headroom so the demo can still assign licences.
 */
function sizeSeats(directory: EntraState): void {
  const holders = new Map<string, Set<string>>();
  for (const user of directory.users) {
    const skus = new Set(user.assignedLicenses.map((l) => l.skuId));
    for (const groupId of user.memberOf) {
      if (user.groupLicenseErrors?.[groupId]) continue;
      for (const l of directory.groups.find((g) => g.id === groupId)?.assignedLicenses ?? [])
        skus.add(l.skuId);
    }
    for (const sku of skus) holders.set(sku, (holders.get(sku) ?? new Set()).add(user.id));
  }
  for (const sku of directory.skus) {
    const held = holders.get(sku.skuId)?.size ?? 0;
    sku.prepaidUnits.enabled = Math.max(sku.prepaidUnits.enabled, held + Math.max(5, Math.ceil(held * 0.1)));
  }
}
