/**
 * The Dataverse Web API (one origin per environment) and the Power Platform admin API (one per
 * tenant) as the HTTP core sees them: where they are, token scopes, errors, concurrency.
 * Dataverse errors: `{"error":{"code":"0x80040217","message"}}`, request id in
 * `x-ms-service-request-id`
 * (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors);
 * limits: https://learn.microsoft.com/power-apps/developer/data-platform/api-limits (52
 * concurrent requests per user).
 */
import { asObject, asString, isApiError } from "../core/errors.ts";
import type { ServiceSpec } from "../core/service.ts";

/** Code of the 403 for a caller without an application user in the environment. */
export const NOT_MEMBER_OF_ORGANIZATION = "0x80072560";

/** Code of Dataverse's privilege refusals: a missing privilege, and a role the caller may not assign. */
export const PRIVILEGE_DENIED = "0x80040220";

/**
 * Whether a refused role grant means "the caller may not assign this role" (no privilege
 * elevation: https://learn.microsoft.com/power-platform/admin/prevent-elevation-security-role-privilege)
 * rather than a privilege the caller lacks for every grant. Both answer 403 with the same code;
 * the elevation refusal's text is undocumented (UNCONFIRMED), while a missing privilege is named
 * in Dataverse's well-known text "is missing prv… privilege". So this dialect, the one place that
 * reads message text, takes any other refusal with that code as elevation.
 */
export function isElevationRefusal(e: unknown): boolean {
  return (
    isApiError(e, "Forbidden") &&
    e.system === "dataverse" &&
    e.code.toLowerCase() === PRIVILEGE_DENIED &&
    !/is missing prv\w+ privilege/i.test(e.message)
  );
}

/** The privilege a Dataverse 403 names ("… is missing prvReadRole privilege …"), if it names one. */
export function missingPrivilege(e: unknown): string | undefined {
  if (!isApiError(e, "Forbidden") || e.system !== "dataverse") return undefined;
  return /is missing (prv\w+) privilege/i.exec(e.message)?.[1];
}

/**
 * The Dataverse Web API of an environment (`environments[].dataverseUrl`). Service protection
 * limits per user (our application user) and environment: 6,000 requests per sliding 300 s and
 * 52 concurrent requests (https://learn.microsoft.com/power-apps/developer/data-platform/api-limits).
 * We send at most 8 at once and pace under the request limit, so a large first `up` waits
 * instead of drawing 429s it caused itself.
 */
export const dataverse: ServiceSpec = {
  name: "dataverse",
  endpoint: { kind: "environment", urlKey: "dataverseUrl" },
  maxConcurrency: 8,
  rateLimit: { requests: 6000, windowSeconds: 300 },
  errors: {
    classify({ code }) {
      const hex = code.toLowerCase();
      if (hex === "0x80040217") return "NotFound"; // ObjectDoesNotExist
      if (hex === "0x80040237") return "Conflict"; // DuplicateRecord (412)
      if (hex === "0x80072322" || hex === "0x80072321" || hex === "0x80072326") return "Throttled"; // service protection
      return undefined;
    },
    hint({ kind, code }) {
      if (kind !== "Forbidden") return undefined;
      return code.toLowerCase() === NOT_MEMBER_OF_ORGANIZATION
        ? "the app has no enabled application user in this environment: add one with a security role"
        : "give the app's application user a security role that can read and assign users and roles";
    },
  },
};

/**
 * The Power Platform admin (BAP) API. Its host is not a token audience: tokens are for
 * `https://service.powerapps.com/`, hence the double slash in the scope (the Terraform Power
 * Platform provider asks for the same). Errors are ARM-style `{"error":{"code","message"}}`;
 * some answers carry `errors[0].Description` instead (other shapes are parsed leniently).
 */
export const powerPlatform: ServiceSpec = {
  name: "powerplatform",
  endpoint: {
    kind: "tenant",
    urlKey: "powerPlatformUrl",
    scopeKey: "powerPlatformScope",
    // The admin endpoints of the US government and China clouds are not documented alike: configure them.
    clouds: {
      "login.microsoftonline.com": {
        url: "https://api.bap.microsoft.com",
        scope: "https://service.powerapps.com//.default",
      },
    },
    scope: "https://service.powerapps.com//.default",
  },
  maxConcurrency: 4,
  errors: {
    parse({ root }, common) {
      const errors = Array.isArray(root?.errors) ? root.errors : undefined;
      const first = asObject(errors?.[0]);
      return {
        message:
          common.message ||
          (asString(first?.Description) ?? asString(first?.description) ?? asString(root?.message) ?? ""),
        code: common.code || (asString(first?.Code) ?? asString(first?.code) ?? asString(root?.code) ?? ""),
      };
    },
    classify({ code, message }) {
      // `addUser` answers userNotLicensed while a newly assigned license propagates, as the code or
      // only inside the message (a JSON string, as Microsoft's Add-AdminPowerAppsSyncUser surfaces
      // it); the Terraform provider matches it anywhere in the body
      // (terraform-provider-power-platform, internal/services/authorization/api_user.go).
      return /userNotLicensed/i.test(`${code} ${message}`) ? "Unlicensed" : undefined;
    },
    hint({ kind }) {
      return kind === "Forbidden" ? "register the app as a Power Platform management application" : undefined;
    },
  },
};
