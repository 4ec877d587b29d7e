/**
 * Constants of the demo tenant every service seeds from (sandbox-only values, never real ones).
 */
import type { SeedInfo, SeedOptions } from "./types.ts";

/** The demo tenant id (a GUID, as `tid` claims carry). */
export const DEMO_TENANT_ID = "72f988bf-0000-4000-8000-00000000c0de";
/** The demo tenant's verified domain. */
export const DEMO_DOMAIN = "contoso.example";
/** The demo app registration the tool signs in with (sandbox only). */
export const DEMO_APP_ID = "8d7c3e2a-6f5b-4a19-9e0d-2b4c6a8f1e37";
/** The demo app's client secret: a published sandbox value, never a real secret. */
export const DEMO_APP_SECRET = "sandbox-demo-secret";
/** An app with no permissions anywhere, so every service's 401/403 path is testable with real tokens. */
export const NO_PERMISSIONS_APP_ID = "11111111-2222-3333-4444-555555555555";
/** The no-permissions app's client secret (sandbox only). */
export const NO_PERMISSIONS_APP_SECRET = "sandbox-no-permissions-secret";
/** Microsoft Graph's well-known application id, also accepted as a token audience. */
export const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";
/** The resource the Power Platform admin API (BAP) takes tokens for; its own host is not an audience. */
export const POWER_PLATFORM_RESOURCE = "https://service.powerapps.com/";

/** The group that grants Team Members by group-based licensing (in both seeds). */
export const TEAM_MEMBERS_GROUP_ID = "0b5c2d4e-6f70-4a81-9b2c-3d4e5f607182";

/** The environments of the demo tenant (one linked Dataverse + F&O pair). */
export const DEMO_ENVIRONMENTS: SeedInfo["environments"] = [
  { name: "contoso-demo", powerPlatformEnvironmentId: "5e0c9b1a-7d2f-4c3e-9a8b-0d1e2f3a4b5c" },
];

/** The seed info handed to every module's `seed()` (the demo tenant unless told otherwise). */
export function demoSeedInfo(seed: SeedOptions = { name: "demo" }): SeedInfo {
  return {
    tenantId: DEMO_TENANT_ID,
    environments: DEMO_ENVIRONMENTS.map((e) => ({ ...e })),
    seed: { ...seed },
  };
}
