/**
 * The directory of the demo tenant: SKUs with their real skuIds and service plans, a licensing
 * group and a handful of users, plus the app registrations of identity/seed.ts.
 *
 * SKU and service-plan ids: Microsoft's "Product names and service plan identifiers for
 * licensing" (https://learn.microsoft.com/entra/identity/users/licensing-service-plan-reference),
 * as collected in reference/graph.md §4. The Team Members and Operations – Activity plan lists
 * are trimmed to the plans whose ids the reference (or a second public listing) gives in full.
 */
import { DEMO_DOMAIN, DEMO_TENANT_ID, TEAM_MEMBERS_GROUP_ID } from "../core/tenant.ts";
import type { SeedInfo } from "../core/types.ts";
import { seedApps } from "../identity/seed.ts";
import type { EntraSku, EntraState, EntraUser } from "./state.ts";

/** skuId of Dynamics 365 Finance. */
export const SKU_FINANCE = "55c9eb4e-c746-45b4-b255-9ab6b19d5c62";
/** skuId of Dynamics 365 for Team Members Enterprise Edition. */
export const SKU_TEAM_MEMBERS = "8e7a3d30-d97d-43ab-837c-d7701cef83dc";
/** skuId of Dynamics 365 Operations – Activity. */
export const SKU_OPERATIONS_ACTIVITY = "b75074f1-4c54-41bf-970f-c9ac871567f5";
export { TEAM_MEMBERS_GROUP_ID } from "../core/tenant.ts";

const EXCHANGE_FOUNDATION = {
  servicePlanId: "113feb6c-3fe4-4440-bddc-54d774bf0318",
  servicePlanName: "EXCHANGE_S_FOUNDATION",
};

function plans(list: { servicePlanId: string; servicePlanName: string }[]): EntraSku["servicePlans"] {
  return list.map((p) => ({ ...p, provisioningStatus: "Success", appliesTo: "User" }));
}

function skus(): EntraSku[] {
  return [
    {
      skuId: SKU_FINANCE,
      skuPartNumber: "DYN365_FINANCE",
      prepaidUnits: { enabled: 5, suspended: 0, warning: 0, lockedOut: 0 },
      servicePlans: plans([
        { servicePlanId: "e95d7060-d4d9-400a-a2bd-a244bf0b609e", servicePlanName: "DYN365_CDS_FINANCE" },
        {
          servicePlanId: "c7657ae3-c0b0-4eed-8c1d-6a7967bd9c65",
          servicePlanName: "DYN365_REGULATORY_SERVICE",
        },
        EXCHANGE_FOUNDATION,
        { servicePlanId: "9f0e1b4e-9b33-4300-b451-b2c662cd4ff7", servicePlanName: "D365_Finance" },
        { servicePlanId: "874fc546-6efe-4d22-90b8-5c4e7aa59f4b", servicePlanName: "POWERAPPS_DYN_APPS" },
        { servicePlanId: "7e6d7d78-73de-46ba-83b1-6d25117334ba", servicePlanName: "FLOW_DYN_APPS" },
      ]),
    },
    {
      skuId: SKU_TEAM_MEMBERS,
      skuPartNumber: "DYN365_ENTERPRISE_TEAM_MEMBERS",
      prepaidUnits: { enabled: 10, suspended: 0, warning: 0, lockedOut: 0 },
      servicePlans: plans([
        {
          servicePlanId: "f5aa7b45-8a36-4cd1-bc37-5d06dea98645",
          servicePlanName: "Dynamics_365_for_Operations_Team_members",
        },
        {
          servicePlanId: "6a54b05e-4fab-40e7-9828-428db3b336fa",
          servicePlanName: "DYN365_ENTERPRISE_TEAM_MEMBERS",
        },
        {
          servicePlanId: "c0454a3d-32b5-4740-b090-78c32f48f0ad",
          servicePlanName: "Dynamics_365_for_Retail_Team_members",
        },
        {
          servicePlanId: "d5156635-0704-4f66-8803-93258f8b2678",
          servicePlanName: "Dynamics_365_for_Talent_Team_members",
        },
        { servicePlanId: "52e619e2-2730-439a-b0d3-d09ab7e8b705", servicePlanName: "POWERAPPS_DYN_TEAM" },
        { servicePlanId: "1ec58c70-f69c-486a-8109-4b87ce86e449", servicePlanName: "FLOW_DYN_TEAM" },
        EXCHANGE_FOUNDATION,
      ]),
    },
    {
      skuId: SKU_OPERATIONS_ACTIVITY,
      skuPartNumber: "Dyn365_Operations_Activity",
      prepaidUnits: { enabled: 2, suspended: 0, warning: 0, lockedOut: 0 },
      servicePlans: plans([
        {
          servicePlanId: "6bddf93e-d6f4-4991-b9fc-30cfdf07ee7b",
          servicePlanName: "Dynamics_365_for_Operations_Activity",
        },
        EXCHANGE_FOUNDATION,
      ]),
    },
  ];
}

function user(
  id: string,
  alias: string,
  displayName: string,
  extra: Partial<EntraUser> & { givenName: string; surname: string },
): EntraUser {
  const upn = `${alias}@${DEMO_DOMAIN}`;
  return {
    id,
    userPrincipalName: upn,
    displayName,
    mail: upn,
    mailNickname: alias,
    accountEnabled: true,
    usageLocation: null,
    userType: "Member",
    createdDateTime: "2024-01-15T09:00:00Z",
    assignedLicenses: [],
    memberOf: [],
    businessPhones: [],
    jobTitle: null,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: null,
    ...extra,
  };
}

/** Builds the directory (the Entra slice) of the demo tenant. */
export function seedDirectory(info?: SeedInfo): EntraState {
  return {
    tenantId: info?.tenantId ?? DEMO_TENANT_ID,
    verifiedDomains: [DEMO_DOMAIN],
    apps: seedApps(),
    skus: skus(),
    groups: [
      {
        id: TEAM_MEMBERS_GROUP_ID,
        displayName: "D365 Team Members (group-based licensing)",
        assignedLicenses: [{ skuId: SKU_TEAM_MEMBERS, disabledPlans: [] }],
      },
    ],
    users: [
      user("4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a51", "adele.vance", "Adele Vance", {
        givenName: "Adele",
        surname: "Vance",
        jobTitle: "Finance Manager",
        usageLocation: "US",
        assignedLicenses: [{ skuId: SKU_FINANCE, disabledPlans: [] }],
      }),
      user("4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a52", "bruno.keller", "Bruno Keller", {
        givenName: "Bruno",
        surname: "Keller",
        jobTitle: "Warehouse Lead",
        usageLocation: "DE",
        memberOf: [TEAM_MEMBERS_GROUP_ID],
      }),
      user("4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a53", "chloe.martin", "Chloé Martin", {
        givenName: "Chloé",
        surname: "Martin",
        jobTitle: "Accounts Payable Clerk",
        usageLocation: "FR",
      }),
      user("4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a54", "diego.ramos", "Diego Ramos", {
        givenName: "Diego",
        surname: "Ramos",
        jobTitle: "Auditor (left the company)",
        usageLocation: "US",
        accountEnabled: false,
        assignedLicenses: [{ skuId: SKU_OPERATIONS_ACTIVITY, disabledPlans: [] }],
      }),
      user("4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a55", "eva.nowak", "Eva Nowak", {
        givenName: "Eva",
        surname: "Nowak",
        jobTitle: "New joiner",
      }),
    ],
    deletedUsers: [],
  };
}
