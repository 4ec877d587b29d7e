/**
 * Handlers of the Power Platform admin API: list and get environments (with their Dataverse and
 * F&O linkage, shaped after the Terraform provider's recorded fixtures,
 * https://github.com/microsoft/terraform-provider-power-platform/tree/main/internal/services/environment)
 * and `addUser`, which forces a user sync into the environment's Dataverse.
 */
import type { SandboxRequest, SandboxResponse, ServiceContext } from "../core/types.ts";
import { hasDataverseLicense, requestUserSync } from "../dataverse/sync.ts";
import { error } from "./errors.ts";
import { PROVIDER } from "./rules.ts";
import type { PowerPlatformEnvironment } from "./state.ts";

export function renderEnvironment(
  ctx: ServiceContext,
  env: PowerPlatformEnvironment,
): Record<string, unknown> {
  // Shape after the TF fixture `get_environments.json` (reference §10; TF internal/services/environment/dto.go).
  const links = ctx.endpoints.environments.find((e) => e.name === env.environmentName);
  const hasDataverse = links !== undefined && ctx.state.dataverse[env.environmentName] !== undefined;
  return {
    id: `${PROVIDER}/scopes/admin/environments/${env.id}`,
    type: "Microsoft.BusinessAppPlatform/scopes/environments",
    location: env.location,
    name: env.id,
    properties: {
      tenantId: ctx.endpoints.tenantId,
      azureRegion: env.azureRegion,
      displayName: env.displayName,
      createdTime: env.createdTime,
      createdBy: { id: "SYSTEM", displayName: "SYSTEM", type: "NotSpecified" },
      provisioningState: "Succeeded",
      creationType: "User",
      environmentSku: env.environmentSku,
      isDefault: false,
      databaseType: hasDataverse ? "CommonDataService" : "None",
      linkedEnvironmentMetadata: hasDataverse
        ? {
            type: "Dynamics365Instance",
            resourceId: env.resourceId,
            friendlyName: env.displayName,
            uniqueName: env.uniqueName,
            domainName: env.domainName,
            version: env.version,
            instanceUrl: `${links.dataverseUrl}/`,
            instanceApiUrl: links.dataverseUrl,
            baseLanguage: 1033,
            instanceState: "Ready",
            createdTime: env.createdTime,
            securityGroupId: env.securityGroupId,
            template: env.templates,
            backgroundOperationsState: "Enabled",
            platformSku: "Standard",
            schemaType: "Standard",
          }
        : null,
      // The F&O link (type value for unified F&O environments UNCONFIRMED).
      linkedAppMetadata:
        env.linkedFinanceAndOperations && links
          ? { type: "Internal", id: env.linkedAppId, url: links.fnoUrl }
          : null,
      states: { management: { id: "Ready" }, runtime: { id: "Enabled" } },
    },
  };
}

export function addUser(
  req: SandboxRequest,
  ctx: ServiceContext,
  env: PowerPlatformEnvironment,
): SandboxResponse {
  const body = (req.body ?? {}) as Record<string, unknown>;
  // Microsoft's cmdlet sends `ObjectId`, the Terraform provider `objectId` (reference §8.2).
  const objectId = body.objectId ?? body.ObjectId;
  if (typeof objectId !== "string" || !/^[0-9a-f-]{36}$/i.test(objectId)) {
    return error(
      req,
      400,
      "InvalidRequestContent",
      "The request body must contain 'objectId', the user's Microsoft Entra object id.",
    );
  }
  if (!ctx.state.dataverse[env.environmentName]) {
    return error(
      req,
      400,
      "EnvironmentHasNoDataverse",
      `The environment '${env.id}' has no Dataverse database.`,
    );
  }
  const user = ctx.state.entra.users.find((u) => u.id.toLowerCase() === objectId.toLowerCase());
  if (!user) {
    return error(
      req,
      404,
      "userNotFound",
      `The user '${objectId}' was not found in the tenant '${ctx.endpoints.tenantId}'.`,
    );
  }
  if (!user.accountEnabled) {
    return error(req, 400, "userDisabled", `The user '${objectId}' is disabled in Microsoft Entra ID.`);
  }
  if (!hasDataverseLicense(user, ctx.state.entra, "onDemand")) {
    // Clients retry while a new license propagates. The condition can arrive as the code or
    // inside the message (a JSON string with a tracking id, as Microsoft's own cmdlet surfaces
    // it): the Terraform provider matches "userNotLicensed" anywhere in the body
    // (terraform-provider-power-platform, internal/services/authorization/api_user.go,
    // CreateDataverseUser). Which form when is UNCONFIRMED: `fidelity.notLicensedInMessage` selects the
    // message-only form, the stricter one for a client.
    if (!ctx.faults.fidelity.notLicensedInMessage) {
      return error(
        req,
        400,
        "userNotLicensed",
        `The user '${objectId}' does not have a valid license to access the environment '${env.id}'.`,
      );
    }
    const inner = JSON.stringify({
      errors: [
        {
          code: "userNotLicensed",
          description: `The user '${objectId}' does not have a valid license to access the environment '${env.id}'.`,
        },
      ],
    });
    return error(req, 400, "BadRequest", `${inner} The tracking Id is ${req.requestId}.`);
  }
  requestUserSync(ctx, env.environmentName, user.id);
  // 200 with an empty body (TF mock); the systemusers row may appear only after the sync delay.
  return { status: 200, headers: { "x-ms-request-id": req.requestId } };
}
