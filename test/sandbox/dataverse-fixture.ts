/**
 * A hand-built ServiceContext for unit tests of the Dataverse and Power Platform modules
 * (no server, injected clock). Contract tests through the real server use helpers.ts.
 */
import { defaultFaults } from "../../sandbox/core/faults.ts";
import type {
  EntraState,
  EntraUser,
  SandboxRequest,
  ServiceContext,
  TokenClaims,
} from "../../sandbox/core/types.ts";
import { dataverseService } from "../../sandbox/dataverse/index.ts";
import { powerPlatformService } from "../../sandbox/powerplatform/index.ts";

export const TENANT = "72f988bf-0000-4000-8000-00000000c0de";
export const DEMO_APP = "8d7c3e2a-6f5b-4a19-9e0d-2b4c6a8f1e37";
export const NO_PERMS_APP = "11111111-2222-3333-4444-555555555555";
export const FINANCE_SKU = "55c9eb4e-c746-45b4-b255-9ab6b19d5c62";
export const ACTIVITY_SKU = "b75074f1-4c54-41bf-970f-c9ac871567f5";
export const ENV = "contoso-demo";
export const PP_ENV_ID = "0a1b2c3d-0000-4000-8000-00000000e001";
export const ORIGIN = "https://127.0.0.1:7443";

export function entraUser(id: string, upn: string, licensed: boolean, enabled = true): EntraUser {
  return {
    id,
    userPrincipalName: upn,
    displayName: upn.split("@")[0]?.replace(".", " ") ?? upn,
    mail: upn,
    mailNickname: upn.split("@")[0] ?? upn,
    accountEnabled: enabled,
    usageLocation: "US",
    userType: "Member",
    createdDateTime: "2026-01-01T00:00:00Z",
    assignedLicenses: licensed ? [{ skuId: FINANCE_SKU, disabledPlans: [] }] : [],
    memberOf: [],
  };
}

export function entraState(): EntraState {
  return {
    tenantId: TENANT,
    verifiedDomains: ["contoso.example"],
    apps: [
      {
        appId: DEMO_APP,
        servicePrincipalId: "5f0c2b7e-0000-4000-8000-00000000a001",
        displayName: "d365-access demo",
        clientSecretHashes: [],
        federatedCredentials: [],
        graphAppRoles: [],
      },
      {
        appId: NO_PERMS_APP,
        servicePrincipalId: "5f0c2b7e-0000-4000-8000-00000000a002",
        displayName: "no-permissions app",
        clientSecretHashes: [],
        federatedCredentials: [],
        graphAppRoles: [],
      },
    ],
    users: [
      entraUser("aaaaaaaa-0000-4000-8000-000000000001", "alice@contoso.example", true),
      entraUser("aaaaaaaa-0000-4000-8000-000000000002", "bob@contoso.example", false),
      entraUser("aaaaaaaa-0000-4000-8000-000000000003", "carol@contoso.example", true, false),
    ],
    skus: [
      {
        skuId: FINANCE_SKU,
        skuPartNumber: "DYN365_FINANCE",
        prepaidUnits: { enabled: 10, suspended: 0, warning: 0, lockedOut: 0 },
        servicePlans: [
          {
            servicePlanId: "e95d7060-d4d9-400a-a2bd-a244bf0b609e",
            servicePlanName: "DYN365_CDS_FINANCE",
            provisioningStatus: "Success",
            appliesTo: "User",
          },
          {
            servicePlanId: "9f0e1b4e-9b33-4300-b451-b2c662cd4ff7",
            servicePlanName: "D365_Finance",
            provisioningStatus: "Success",
            appliesTo: "User",
          },
        ],
      },
      {
        skuId: ACTIVITY_SKU,
        skuPartNumber: "Dyn365_Operations_Activity",
        prepaidUnits: { enabled: 10, suspended: 0, warning: 0, lockedOut: 0 },
        servicePlans: [
          {
            servicePlanId: "6bddf93e-d6f4-4991-b9fc-30cfdf07ee7b",
            servicePlanName: "Dynamics_365_for_Operations_Activity",
            provisioningStatus: "Success",
            appliesTo: "User",
          },
        ],
      },
    ],
    groups: [],
  };
}

/** A context with a movable clock. */
export interface TestContext extends ServiceContext {
  clock: { now: number };
  changes: number;
}

export function makeContext(syncDelaySeconds = 0): TestContext {
  const info = {
    tenantId: TENANT,
    environments: [{ name: ENV, powerPlatformEnvironmentId: PP_ENV_ID }],
    seed: { name: "demo" as const },
  };
  const clock = { now: Date.parse("2026-03-01T10:00:00Z") };
  const ctx: TestContext = {
    clock,
    changes: 0,
    state: {
      entra: entraState(),
      powerplatform: powerPlatformService.seed?.(info) as never,
      dataverse: dataverseService.seed?.(info) as never,
      fno: {},
    },
    changed() {
      ctx.changes++;
    },
    now: () => clock.now,
    endpoints: {
      tenantId: TENANT,
      authorityHost: "https://127.0.0.1:7001",
      graphUrl: "https://127.0.0.1:7002",
      powerPlatformUrl: "https://127.0.0.1:7003",
      adminUrl: "https://127.0.0.1:7004",
      caCertPath: "/dev/null",
      clientId: DEMO_APP,
      clientSecret: "x",
      environments: [
        {
          name: ENV,
          dataverseUrl: ORIGIN,
          fnoUrl: "https://127.0.0.1:7444",
          powerPlatformEnvironmentId: PP_ENV_ID,
        },
      ],
    },
    random: () => 0.5,
    journal: { record: () => undefined },
    faults: { ...defaultFaults(), retryAfterSeconds: 1, syncDelaySeconds },
  };
  return ctx;
}

function token(appid: string, aud: string): TokenClaims {
  return {
    aud,
    iss: `https://sts.windows.net/${TENANT}/`,
    tid: TENANT,
    appid,
    oid: appid === DEMO_APP ? "5f0c2b7e-0000-4000-8000-00000000a001" : "5f0c2b7e-0000-4000-8000-00000000a002",
    ver: "1.0",
    iat: 0,
    nbf: 0,
    exp: 0,
  };
}

/** A request to the Dataverse module. */
export function dvRequest(
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; app?: string } = {},
): SandboxRequest {
  return {
    method,
    url: new URL(path.startsWith("http") ? path : `${ORIGIN}/api/data/v9.2/${path}`),
    headers: options.headers ?? {},
    body: options.body,
    rawBody: options.body === undefined ? "" : JSON.stringify(options.body),
    requestId: "req-1",
    token: token(options.app ?? DEMO_APP, ORIGIN),
    environment: ENV,
  };
}

/** A request to the Power Platform module. */
export function ppRequest(
  method: string,
  path: string,
  options: { body?: unknown; app?: string } = {},
): SandboxRequest {
  return {
    method,
    url: new URL(`https://127.0.0.1:7003${path}`),
    headers: {},
    body: options.body,
    rawBody: options.body === undefined ? "" : JSON.stringify(options.body),
    requestId: "req-2",
    token: token(options.app ?? DEMO_APP, "https://service.powerapps.com/"),
  };
}

/** A parsed JSON body in tests (shapes are asserted, not typed). */
// biome-ignore lint/suspicious/noExplicitAny: test bodies are arbitrary JSON
export type Json = any;

/** Calls a module and returns status, headers and body. */
export async function dv(ctx: ServiceContext, req: SandboxRequest) {
  const res = await dataverseService.handle(req, ctx);
  return { status: res.status, headers: res.headers ?? {}, body: res.body as Json };
}

export async function pp(ctx: ServiceContext, req: SandboxRequest) {
  const res = await powerPlatformService.handle(req, ctx);
  return { status: res.status, headers: res.headers ?? {}, body: res.body as Json };
}
