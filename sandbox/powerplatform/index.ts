/**
 * The Power Platform admin API (BAP, `api.bap.microsoft.com`) as the sandbox serves it:
 * list and get environments (with their Dataverse and F&O linkage) and `addUser`, which forces a
 * user sync into the environment's Dataverse.
 *
 * Tokens: the audience is `https://service.powerapps.com/` (scope `https://service.powerapps.com//.default`);
 * `https://service.powerapps.com` (scope `https://service.powerapps.com/.default`, as the
 * Terraform provider requests) names the same resource. The API's own host is not an audience.
 * The calling app must be registered as a management application, else 403
 * (reference dataverse.md §8.2, §13 item 14; https://learn.microsoft.com/power-platform/admin/powerplatform-api-create-service-principal).
 * Error `code`s other than `userNotLicensed` are UNCONFIRMED; they follow the ARM-style
 * `{"error":{"code","message"}}` shape BAP uses.
 */
import type { SandboxRequest, SandboxResponse, ServiceContext, ServiceModule } from "../core/types.ts";
import { hasDataverseLicense, requestUserSync, runDataverseSync } from "../dataverse/sync.ts";
import { seedPowerPlatform } from "./seed.ts";
import type { PowerPlatformEnvironment, PowerPlatformState } from "./state.ts";

/** Token audiences of the Power Platform admin API. */
export const POWER_PLATFORM_AUDIENCES = ["https://service.powerapps.com/", "https://service.powerapps.com"];

const PROVIDER = "/providers/Microsoft.BusinessAppPlatform";

function json(
  req: SandboxRequest,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): SandboxResponse {
  return {
    status,
    headers: {
      "Content-Type": "application/json; charset=utf-8",
      "x-ms-request-id": req.requestId,
      "x-ms-correlation-request-id": req.requestId,
      ...extra,
    },
    body,
  };
}

function error(
  req: SandboxRequest,
  status: number,
  code: string,
  message: string,
  extra: Record<string, string> = {},
) {
  return json(req, status, { error: { code, message } }, extra);
}

function renderEnvironment(ctx: ServiceContext, env: PowerPlatformEnvironment): Record<string, unknown> {
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

function findEnvironment(state: PowerPlatformState, id: string): PowerPlatformEnvironment | undefined {
  return state.environments.find((e) => e.id.toLowerCase() === id.toLowerCase());
}

function addUser(req: SandboxRequest, ctx: ServiceContext, env: PowerPlatformEnvironment): SandboxResponse {
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
  if (!hasDataverseLicense(user, ctx.state.entra)) {
    // Clients retry while a new license propagates (TF retries on this string; reference §8.2).
    return error(
      req,
      400,
      "userNotLicensed",
      `The user '${objectId}' does not have a valid license to access the environment '${env.id}'.`,
    );
  }
  requestUserSync(ctx, env.environmentName, user.id);
  // 200 with an empty body (TF mock); the systemusers row may appear only after the sync delay.
  return { status: 200, headers: { "x-ms-request-id": req.requestId } };
}

function route(req: SandboxRequest, ctx: ServiceContext): SandboxResponse {
  const path = decodeURIComponent(req.url.pathname).replace(/\/+$/, "");
  const method = req.method.toUpperCase();
  if (!path.toLowerCase().startsWith(PROVIDER.toLowerCase())) return unrouted(req);
  const rest = path.slice(PROVIDER.length).split("/").filter(Boolean);
  if (!req.url.searchParams.get("api-version")) {
    return error(
      req,
      400,
      "MissingApiVersionParameter",
      "The api-version query parameter (?api-version=) is required for all requests.",
    );
  }
  const state = ctx.state.powerplatform;
  const appId = req.token.appid.toLowerCase();
  if (!state.managementApplications.some((a) => a.applicationId.toLowerCase() === appId)) {
    return error(
      req,
      403,
      "Forbidden",
      `The service principal with id '${req.token.oid}' for application '${req.token.appid}' does not have permission to access the path '${req.url.pathname}' in tenant '${req.token.tid}'.`,
    );
  }
  runDataverseSync(ctx);
  // /scopes/admin/environments[/{id}[/addUser]] and the non-admin /environments/{id}
  const scoped = rest[0]?.toLowerCase() === "scopes" && rest[1]?.toLowerCase() === "admin";
  const parts = scoped ? rest.slice(2) : rest;
  if (parts[0]?.toLowerCase() !== "environments") return unrouted(req);
  if (parts.length === 1) {
    if (method !== "GET" || !scoped) return unrouted(req);
    return json(req, 200, { value: state.environments.map((e) => renderEnvironment(ctx, e)) });
  }
  const env = findEnvironment(state, parts[1] as string);
  if (!env) {
    return error(
      req,
      404,
      "EnvironmentNotFound",
      `The environment '${parts[1]}' could not be found in the tenant '${ctx.endpoints.tenantId}'.`,
    );
  }
  if (parts.length === 2 && method === "GET") return json(req, 200, renderEnvironment(ctx, env));
  if (parts.length === 3 && scoped && parts[2]?.toLowerCase() === "adduser" && method === "POST") {
    return addUser(req, ctx, env);
  }
  return unrouted(req);
}

function unrouted(req: SandboxRequest): SandboxResponse {
  return error(
    req,
    501,
    "NotImplemented",
    `The sandbox does not emulate ${req.method} ${req.url.pathname} (Power Platform admin API).`,
  );
}

/** The authority each origin's 401 challenge names, learnt in `audiences()` (`unauthorized` gets no context). */
const challengeByOrigin = new Map<string, string>();

/** The Power Platform admin API module. */
export const powerPlatformService: ServiceModule<PowerPlatformState> = {
  name: "powerplatform",
  audiences(ctx) {
    challengeByOrigin.set(
      ctx.endpoints.powerPlatformUrl,
      `${ctx.endpoints.authorityHost}/${ctx.endpoints.tenantId}`,
    );
    return [...POWER_PLATFORM_AUDIENCES];
  },
  unauthorized(failure, req) {
    // ARM-style authentication errors (codes UNCONFIRMED for BAP).
    const authority = challengeByOrigin.get(req.url.origin) ?? "https://login.microsoftonline.com/common";
    const headers = { "WWW-Authenticate": `Bearer authorization_uri="${authority}", error="invalid_token"` };
    switch (failure.kind) {
      case "missing":
        return error(
          req,
          401,
          "AuthenticationFailed",
          "Authentication failed. The 'Authorization' header is missing.",
          headers,
        );
      case "expired":
        return error(
          req,
          401,
          "ExpiredAuthenticationToken",
          "The access token expiry UTC time is earlier than current UTC time.",
          headers,
        );
      case "wrongAudience":
        return error(
          req,
          401,
          "InvalidAuthenticationTokenAudience",
          `The access token has been obtained for wrong audience or resource '${failure.audience}'. It should exactly match one of the allowed audiences 'https://service.powerapps.com/'.`,
          headers,
        );
      default:
        return error(req, 401, "InvalidAuthenticationToken", "The access token is invalid.", headers);
    }
  },
  throttled(retryAfterSeconds, req) {
    return error(
      req,
      429,
      "TooManyRequests",
      "The request was throttled. Retry after the number of seconds in Retry-After.",
      {
        "Retry-After": String(retryAfterSeconds),
      },
    );
  },
  unavailable(req) {
    return error(req, 503, "ServiceUnavailable", "The service is temporarily unavailable. Please retry.");
  },
  handle(req, ctx) {
    return route(req, ctx);
  },
  seed(info) {
    return seedPowerPlatform(info);
  },
};

export type { PowerPlatformState } from "./state.ts";
