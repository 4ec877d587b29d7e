/**
 * The Power Platform admin API (BAP, `api.bap.microsoft.com`) as the sandbox serves it:
 * list and get environments (with their Dataverse and F&O linkage) and `addUser`, which forces a
 * user sync into the environment's Dataverse.
 *
 * Tokens: the audience is `https://service.powerapps.com/` (scope `https://service.powerapps.com//.default`);
 * `https://service.powerapps.com` (scope `https://service.powerapps.com/.default`, as the
 * Terraform provider requests) names the same resource. The API's own host is not an audience.
 * The calling app must be registered as a management application, else 403
 * (https://learn.microsoft.com/power-platform/admin/powerplatform-api-create-service-principal).
 */
import type { ServiceModule } from "../core/types.ts";
import { POWER_PLATFORM_ADMIN_ROUTES } from "./admin.ts";
import { error } from "./errors.ts";
import { routePowerPlatform } from "./routes.ts";
import { POWER_PLATFORM_AUDIENCES } from "./rules.ts";
import { seedPowerPlatform } from "./seed.ts";
import type { PowerPlatformState } from "./state.ts";

export { POWER_PLATFORM_AUDIENCES } from "./rules.ts";
export type { PowerPlatformState } from "./state.ts";

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
        "Retry-After": String(Math.ceil(retryAfterSeconds)),
      },
    );
  },
  unavailable(req) {
    return error(req, 503, "ServiceUnavailable", "The service is temporarily unavailable. Please retry.");
  },
  handle: routePowerPlatform,
  admin: { prefix: "powerplatform", routes: POWER_PLATFORM_ADMIN_ROUTES },
  seed(info) {
    return seedPowerPlatform(info);
  },
};
