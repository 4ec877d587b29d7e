/** The Power Platform part of the demo tenant: the linked environment pair and the demo app as management app. */

import { stableGuid } from "../core/ids.ts";
import { DEMO_APP_ID } from "../core/tenant.ts";
import type { SeedInfo } from "../core/types.ts";
import type { PowerPlatformState } from "./state.ts";

/** Seeds one environment per sandbox environment, using the id the framework publishes in endpoints.json. */
export function seedPowerPlatform(info: SeedInfo): PowerPlatformState {
  return {
    environments: info.environments.map((e) => ({
      id: e.powerPlatformEnvironmentId,
      environmentName: e.name,
      displayName: `Contoso ${e.name}`,
      location: "unitedstates",
      azureRegion: "westus",
      environmentSku: "Sandbox",
      createdTime: "2026-01-05T08:00:00Z",
      // Same derivation as the Dataverse seed's organization id, so both slices agree.
      resourceId: stableGuid(info.tenantId, "organization", e.name),
      uniqueName: `unq${stableGuid(info.tenantId, "unique", e.name).replace(/-/g, "").slice(0, 24)}`,
      domainName: e.name,
      version: "9.2.26011.00150",
      securityGroupId: null,
      templates: ["D365_FinOps_Finance"],
      linkedFinanceAndOperations: true,
      linkedAppId: stableGuid(info.tenantId, "fno-app", e.name),
    })),
    managementApplications: [{ applicationId: DEMO_APP_ID }],
  };
}
