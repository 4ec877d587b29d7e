/**
 * The Power Platform admin API (BAP) slice: environments and registered management applications.
 * Sources: https://learn.microsoft.com/power-platform/admin/create-users (addUser),
 * https://learn.microsoft.com/power-platform/admin/powerplatform-api-create-service-principal
 * (management applications) and microsoft/terraform-provider-power-platform
 * (internal/services/environment/dto.go, internal/services/authorization/api_user.go).
 */

/** One Power Platform environment with Dataverse, linked to a finance and operations environment. */
export interface PowerPlatformEnvironment {
  /** The environment id (a GUID): `name` on the wire, `powerPlatformEnvironmentId` in endpoints.json. */
  id: string;
  /** The sandbox's logical environment name (key of `state.dataverse` / `state.fno`). */
  environmentName: string;
  displayName: string;
  location: string;
  azureRegion: string;
  /** `Production`, `Sandbox`, `Trial`, `Developer`, ... */
  environmentSku: string;
  createdTime: string;
  /** Dataverse organization id (`linkedEnvironmentMetadata.resourceId`). */
  resourceId: string;
  uniqueName: string;
  domainName: string;
  version: string;
  /** The environment's security group; null = every licensed user of the tenant may be added. */
  securityGroupId: string | null;
  templates: string[];
  /** Whether a finance and operations environment is linked (`linkedAppMetadata`). */
  linkedFinanceAndOperations: boolean;
  /** Id of the linked F&O app. */
  linkedAppId: string;
}

/** A client id registered as a Power Platform management application (`adminApplications`). */
export interface ManagementApplication {
  applicationId: string;
}

/** The Power Platform admin API's state. */
export interface PowerPlatformState {
  environments: PowerPlatformEnvironment[];
  managementApplications: ManagementApplication[];
}
