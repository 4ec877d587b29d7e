/**
 * What the model knows about license SKUs, offline: which part numbers exist for Dynamics 365
 * finance and operations and which of them let a user into F&O. Source: Microsoft's
 * "Product names and service plan identifiers for licensing" table,
 * https://learn.microsoft.com/entra/identity/users/licensing-service-plan-reference.
 * Tenants hold many other SKUs; unknown part numbers are accepted as written.
 */

/**
 * User SKUs that carry an F&O entitlement (full, attach, activity or team-member level). The
 * device and sandbox-tier SKUs are left out on purpose: they do not license a person.
 */
export const FNO_USER_SKUS: ReadonlySet<string> = new Set([
  "DYN365_FINANCE",
  "DYN365_FINANCE_ATTACH",
  "DYN365_FINANCE_ATTACH_ISVEMB_PROJOPS",
  "DYN365_SCM",
  "DYN365_SCM_ATTACH",
  "Dynamics_365_Supply_Chain_Management_Premium",
  "Dyn365_Operations_Activity",
  "DYN365_ENTERPRISE_TEAM_MEMBERS",
  "DYN365_TEAM_MEMBERS",
  "Dynamics_365_for_Operations",
  "DYN365_PROJECT_OPERATIONS",
  "AX7_USER_TRIAL",
]);

/** Every SKU part number the model recognizes (for "did you mean" on near misses). */
export const KNOWN_SKUS: readonly string[] = [
  ...FNO_USER_SKUS,
  "Dynamics_365_for_Operations_Devices",
  "Dynamics_365_for_Operations_Sandbox_Tier2_SKU",
  "Dynamics_365_for_Operations_Sandbox_Tier4_SKU",
];

/** Service plan names per SKU, for the SKUs whose complete plan list we carry from that table. */
export const SKU_SERVICE_PLANS: Readonly<Record<string, readonly string[]>> = {
  DYN365_FINANCE: [
    "DYN365_CDS_FINANCE",
    "DYN365_REGULATORY_SERVICE",
    "EXCHANGE_S_FOUNDATION",
    "D365_Finance",
    "POWERAPPS_DYN_APPS",
    "FLOW_DYN_APPS",
  ],
  DYN365_SCM: [
    "DYN365_CDS_SUPPLYCHAINMANAGEMENT",
    "DYN365_REGULATORY_SERVICE",
    "D365_SCM",
    "EXCHANGE_S_FOUNDATION",
    "FLOW_DYN_APPS",
    "POWERAPPS_DYN_APPS",
  ],
};

/**
 * The Dataverse role that opens F&O virtual tables and business events; F&O still authorizes
 * every call against the user's F&O roles.
 * https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/power-platform/authentication-and-authorization
 */
export const FNO_VIRTUAL_TABLE_ROLE = "Finance and Operations Basic User";
