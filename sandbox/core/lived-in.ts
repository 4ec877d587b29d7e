/**
 * The lived-in tenant, person by person: who exists, and what each holds in Entra, Dataverse and
 * F&O, the way a tenant in daily use looks (Microsoft 365 licences held directly by most users,
 * group-based licensing with an error, synced and guest users, an admin, hand-granted and team
 * roles, rule-based F&O roles and an exclusion, users F&O will not delete). The demo users keep
 * their ids and what the demo seed gives them; their entries here add what a real tenant would
 * have given them besides. Each service's seed renders the part it owns (graph/seed-lived-in.ts,
 * dataverse/seed-lived-in.ts, fno/seed-lived-in.ts); sandbox/README.md lists it as a table.
 */
import { stableGuid } from "./ids.ts";
import { TEAM_MEMBERS_GROUP_ID } from "./tenant.ts";

/** A role grant in F&O as the seed writes it (`SecurityUserRoles` + organizations). */
export interface FnoGrant {
  role: string;
  /** `Manual` (default) or `Automatic`; rule-based rows come from the rules, not from here. */
  mode?: "Manual" | "Automatic";
  /** `Enabled` (default); a `Manual` + `Disabled` row is an exclusion from a rule. */
  status?: "Enabled" | "Disabled";
  /** Legal entities the role is restricted to (`SecurityUserRoleOrganizations`). */
  legalEntities?: string[];
}

/** One person of the lived-in tenant. */
export interface LivedInPerson {
  /** The Entra object id (kept for the demo users). */
  id: string;
  /** Mail local part; the UPN is `<alias>@contoso.example` except for guests. */
  alias: string;
  givenName: string;
  surname: string;
  jobTitle: string;
  /** ISO country of `usageLocation` (null: none set). */
  usageLocation: string | null;
  /** One of the demo seed's users: its objects exist already and the entries below add to them. */
  demo?: true;
  entra: {
    accountEnabled?: boolean;
    /** skuPartNumbers held directly. */
    licenses?: string[];
    /** Service plan names disabled, by skuPartNumber. */
    disabledPlans?: Record<string, string[]>;
    /** Licensing groups (by display name) the user is a member of. */
    groups?: string[];
    /** Group-based licensing failed for this user in that group (`licenseAssignmentStates.error`). */
    groupErrors?: Record<string, "CountViolation" | "MutuallyExclusiveViolation" | "DependencyViolation">;
    /** Synced from on-premises Active Directory (`onPremisesSyncEnabled`). */
    onPremises?: true;
    /** A B2B guest from this home domain (`#EXT#` UPN, `userType: Guest`). */
    guestOf?: string;
    /** Directory roles held (e.g. "Global Administrator"). */
    directoryRoles?: string[];
  };
  /** A Dataverse row seeded as is (others arrive through the user sync). */
  dataverse?: {
    /** Business unit name; default the root unit. */
    businessUnit?: string;
    /** Role names, in the user's business unit (besides any the sync assigns). */
    roles: string[];
    disabled?: boolean;
    /** Group teams (by name) the user is a member of. */
    teams?: string[];
  };
  /** The F&O user and its roles (Manual rows; rule-based rows come from the environment's rules). */
  fno?: {
    userId: string;
    company: string;
    enabled?: boolean;
    roles: FnoGrant[];
    /** Records in this table reference the user, so F&O refuses to delete it. */
    referencedBy?: string;
  };
}

/** Licensing groups of the lived-in tenant and the SKU each assigns. */
export const LIVED_IN_GROUPS: { displayName: string; skuPartNumber: string }[] = [
  {
    displayName: "D365 Team Members (group-based licensing)",
    skuPartNumber: "DYN365_ENTERPRISE_TEAM_MEMBERS",
  },
  { displayName: "D365 Finance (group-based licensing)", skuPartNumber: "DYN365_FINANCE" },
];

/** Entra groups that exist as Dataverse group teams (with roles). */
export const LIVED_IN_GROUP_TEAMS: { displayName: string; roles: string[] }[] = [
  { displayName: "Contoso Approvers", roles: ["Contoso Finance Reader"] },
];

/** Ids of the lived-in tenant's groups, by display name (the demo's Team Members group kept). */
export function livedInGroupId(displayName: string): string {
  return displayName === "D365 Team Members (group-based licensing)"
    ? TEAM_MEMBERS_GROUP_ID
    : stableGuid("lived-in", "group", displayName);
}

/** The app id of the tenant's own integration (an Azure Data Factory pipeline); no secret in the sandbox. */
export const INTEGRATION_APP_ID = "3c9f1e2d-7b6a-4c58-9e0f-1a2b3c4d5e6f";

/** The home domain of the tenant's guests. */
export const GUEST_DOMAIN = "fabrikam.example";

const FINANCE = "DYN365_FINANCE";
const TEAM_MEMBERS = "DYN365_ENTERPRISE_TEAM_MEMBERS";
const E5 = "SPE_E5";
const M365_E3 = "SPE_E3";
const O365_E3 = "ENTERPRISEPACK";
const ACTIVITY = "Dyn365_Operations_Activity";

/** The people, demo users first. */
export const LIVED_IN_PEOPLE: LivedInPerson[] = [
  {
    id: "4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a51",
    alias: "adele.vance",
    givenName: "Adele",
    surname: "Vance",
    jobTitle: "Finance Manager",
    usageLocation: "US",
    demo: true,
    entra: { licenses: [E5] },
  },
  {
    id: "4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a52",
    alias: "bruno.keller",
    givenName: "Bruno",
    surname: "Keller",
    jobTitle: "Warehouse Lead",
    usageLocation: "DE",
    demo: true,
    entra: { licenses: [O365_E3] },
  },
  {
    id: "4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a53",
    alias: "chloe.martin",
    givenName: "Chloé",
    surname: "Martin",
    jobTitle: "Accounts Payable Clerk",
    usageLocation: "FR",
    demo: true,
    entra: { licenses: [O365_E3] },
  },
  {
    id: "4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a54",
    alias: "diego.ramos",
    givenName: "Diego",
    surname: "Ramos",
    jobTitle: "Auditor (left the company)",
    usageLocation: "US",
    demo: true,
    // Disabled in Entra and still licensed: nobody reclaimed his seats.
    entra: { licenses: [M365_E3] },
  },
  {
    id: "4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a55",
    alias: "eva.nowak",
    givenName: "Eva",
    surname: "Nowak",
    jobTitle: "New joiner",
    usageLocation: null,
    demo: true,
    entra: {},
  },
  {
    id: "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a01",
    alias: "admin",
    givenName: "MOD",
    surname: "Administrator",
    jobTitle: "Tenant administrator",
    usageLocation: "US",
    entra: { licenses: [E5], directoryRoles: ["Global Administrator"] },
    dataverse: { roles: ["System Administrator"] },
  },
  {
    id: "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a02",
    alias: "megan.bowen",
    givenName: "Megan",
    surname: "Bowen",
    jobTitle: "Dynamics 365 Administrator",
    usageLocation: "US",
    entra: { licenses: [E5, FINANCE] },
    dataverse: { roles: ["Finance and Operations Basic User", "Environment Maker", "System Customizer"] },
    fno: {
      userId: "megan.bowen",
      company: "USMF",
      roles: [{ role: "SYSTEMUSER" }, { role: "LEDGERACCOUNTINGSUPERVISOR" }],
    },
  },
  {
    id: "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a03",
    alias: "lee.gu",
    givenName: "Lee",
    surname: "Gu",
    jobTitle: "Accountant",
    usageLocation: "US",
    entra: { licenses: [M365_E3], groups: ["D365 Finance (group-based licensing)"] },
    fno: { userId: "lee.gu", company: "USMF", roles: [{ role: "SYSTEMUSER" }, { role: "LEDGERACCOUNTANT" }] },
  },
  {
    id: "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a04",
    alias: "isaiah.langer",
    givenName: "Isaiah",
    surname: "Langer",
    jobTitle: "Accounts Receivable Clerk",
    usageLocation: "US",
    // Group-based licensing ran out of Finance seats for him: the group's licence is in error.
    entra: {
      licenses: [M365_E3],
      groups: ["D365 Finance (group-based licensing)"],
      groupErrors: { "D365 Finance (group-based licensing)": "CountViolation" },
    },
  },
  {
    id: "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a05",
    alias: "alex.wilber",
    givenName: "Alex",
    surname: "Wilber",
    jobTitle: "Controller UK",
    usageLocation: "GB",
    // Finance both directly and through the group: one seat.
    entra: { licenses: [E5, FINANCE], groups: ["D365 Finance (group-based licensing)"] },
    dataverse: {
      businessUnit: "Contoso Europe",
      roles: ["Basic User", "Finance and Operations Basic User", "Contoso Finance Reader"],
    },
    fno: {
      userId: "alex.wilber",
      company: "GBSI",
      roles: [{ role: "SYSTEMUSER" }, { role: "LEDGERACCOUNTINGMANAGER", legalEntities: ["GBSI"] }],
    },
  },
  {
    id: "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a06",
    alias: "johanna.lorenz",
    givenName: "Johanna",
    surname: "Lorenz",
    jobTitle: "Buyer",
    usageLocation: "DE",
    entra: { licenses: [O365_E3, FINANCE], onPremises: true },
    fno: {
      userId: "johanna.lorenz",
      company: "DEMF",
      roles: [{ role: "SYSTEMUSER" }, { role: "TRADEBUYINGAGENT", legalEntities: ["DEMF"] }],
    },
  },
  {
    id: "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a07",
    alias: "grady.archie",
    givenName: "Grady",
    surname: "Archie",
    jobTitle: "External auditor (Fabrikam)",
    usageLocation: "US",
    entra: { licenses: [TEAM_MEMBERS], guestOf: GUEST_DOMAIN },
    fno: {
      userId: "grady.archie",
      company: "USMF",
      roles: [{ role: "SYSTEMUSER" }, { role: "HCMEMPLOYEE" }],
    },
  },
  {
    id: "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a08",
    alias: "pradeep.gupta",
    givenName: "Pradeep",
    surname: "Gupta",
    jobTitle: "Accountant (on leave)",
    usageLocation: "IN",
    // Disabled in Entra, still licensed; disabled in Dataverse with his roles; still enabled in F&O.
    entra: { accountEnabled: false, licenses: [FINANCE] },
    dataverse: {
      roles: ["Finance and Operations Basic User", "Environment Maker", "Basic User"],
      disabled: true,
    },
    fno: {
      userId: "pradeep.gupta",
      company: "USMF",
      roles: [{ role: "SYSTEMUSER" }, { role: "LEDGERACCOUNTANT" }],
    },
  },
  {
    id: "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a09",
    alias: "lidia.holloway",
    givenName: "Lidia",
    surname: "Holloway",
    jobTitle: "Product Manager",
    usageLocation: "US",
    entra: { licenses: [M365_E3] },
  },
  {
    id: "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a10",
    alias: "miriam.graham",
    givenName: "Miriam",
    surname: "Graham",
    jobTitle: "Director of Operations",
    usageLocation: "US",
    entra: { licenses: [E5, TEAM_MEMBERS] },
    dataverse: { roles: ["Basic User"], teams: ["Contoso Approvers"] },
    fno: { userId: "miriam.graham", company: "USMF", roles: [{ role: "SYSTEMUSER" }] },
  },
  {
    id: "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a11",
    alias: "joni.sherman",
    givenName: "Joni",
    surname: "Sherman",
    jobTitle: "Payroll Specialist",
    usageLocation: "US",
    entra: { licenses: [O365_E3, FINANCE] },
    dataverse: {
      roles: ["Finance and Operations Basic User", "Environment Maker", "Contoso User Administrator"],
    },
    fno: {
      userId: "joni.sherman",
      company: "USMF",
      roles: [{ role: "SYSTEMUSER" }, { role: "VENDINVOICEACCOUNTSPAYABLECLERK" }],
      // Posted vendor invoices reference her: F&O will not delete the user.
      referencedBy: "VendInvoiceJour",
    },
  },
  {
    id: "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a12",
    alias: "patti.fernandez",
    givenName: "Patti",
    surname: "Fernandez",
    jobTitle: "President",
    usageLocation: "US",
    entra: { licenses: [E5, FINANCE] },
    dataverse: { roles: ["Finance and Operations Basic User", "Environment Maker", "System Administrator"] },
    fno: {
      userId: "patti.fernandez",
      company: "USMF",
      // Excluded from the USMF employee rule: a Manual row that is not Enabled.
      roles: [{ role: "SYSTEMUSER" }, { role: "HCMEMPLOYEE", status: "Disabled" }],
    },
  },
  {
    id: "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a13",
    alias: "henrietta.mueller",
    givenName: "Henrietta",
    surname: "Mueller",
    jobTitle: "Warehouse Worker",
    usageLocation: "DE",
    entra: { licenses: [O365_E3], groups: ["D365 Team Members (group-based licensing)"] },
    dataverse: { businessUnit: "Contoso Europe", roles: ["Basic User"] },
    fno: {
      userId: "henrietta.mueller",
      company: "DEMF",
      roles: [{ role: "SYSTEMUSER" }, { role: "WHSWAREHOUSEWORKER", legalEntities: ["DEMF"] }],
    },
  },
  {
    id: "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a14",
    alias: "christie.cline",
    givenName: "Christie",
    surname: "Cline",
    jobTitle: "Accounts Payable Manager",
    usageLocation: "US",
    entra: { licenses: [O365_E3, FINANCE], disabledPlans: { [FINANCE]: ["FLOW_DYN_APPS"] } },
    fno: {
      userId: "christie.cline",
      company: "USMF",
      roles: [{ role: "SYSTEMUSER" }, { role: "VENDINVOICEACCOUNTSPAYABLEMANAGER" }],
    },
  },
  {
    id: "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a15",
    alias: "raul.razo",
    givenName: "Raul",
    surname: "Razo",
    jobTitle: "Shipping Clerk",
    usageLocation: "MX",
    entra: { licenses: [ACTIVITY] },
    fno: {
      userId: "raul.razo",
      company: "USMF",
      roles: [{ role: "SYSTEMUSER" }, { role: "WHSWAREHOUSEWORKER" }],
    },
  },
  {
    id: "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a16",
    alias: "enrico.cattaneo",
    givenName: "Enrico",
    surname: "Cattaneo",
    jobTitle: "Marketing Lead",
    usageLocation: "IT",
    entra: { licenses: [E5] },
  },
  {
    id: "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a17",
    alias: "debra.berger",
    givenName: "Debra",
    surname: "Berger",
    jobTitle: "Sales Manager",
    usageLocation: "US",
    entra: { licenses: [M365_E3, TEAM_MEMBERS] },
    fno: {
      userId: "debra.berger",
      company: "USMF",
      roles: [{ role: "SYSTEMUSER" }, { role: "TRADESALESMANAGER" }],
    },
  },
  {
    id: "7a3e0c11-2b4d-4e6f-8a1b-3c5d7e9f0a18",
    alias: "lynne.robbins",
    givenName: "Lynne",
    surname: "Robbins",
    jobTitle: "Budget Analyst",
    usageLocation: "US",
    entra: { licenses: [E5, FINANCE], onPremises: true },
    fno: {
      userId: "lynne.robbins",
      company: "USMF",
      roles: [{ role: "SYSTEMUSER" }, { role: "BUDGETBUDGETCLERK" }],
    },
  },
];

/** The F&O user our own app is registered as (SysAADClients), with the role it needs. */
export const LIVED_IN_APP_USER = { userId: "svc-d365access", name: "d365-access service user" };
