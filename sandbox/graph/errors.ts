/**
 * Microsoft Graph's error envelope: `{"error":{"code","message","innerError":{"date","request-id",
 * "client-request-id"}}}` (https://learn.microsoft.com/graph/errors; reference/graph.md §3.1, §7.10).
 */
import type { AuthFailure, SandboxRequest, SandboxResponse } from "../core/types.ts";

/** Headers every Graph response carries. */
export function graphHeaders(
  req: SandboxRequest,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    "request-id": req.requestId,
    "client-request-id": req.headers["client-request-id"] ?? req.requestId,
    "x-ms-ags-diagnostic":
      '{"ServerInfo":{"DataCenter":"Sandbox","Slice":"E","Ring":"5","ScaleUnit":"000","RoleInstance":"sandbox"}}',
    ...extra,
  };
}

/** A Graph error response. */
export function graphError(
  req: SandboxRequest,
  status: number,
  code: string,
  message: string,
  extra: { details?: unknown[]; headers?: Record<string, string>; innerError?: Record<string, string> } = {},
): SandboxResponse {
  const error: Record<string, unknown> = {
    code,
    message,
    innerError: {
      ...extra.innerError,
      date: new Date().toISOString().replace(/\.\d+Z$/, ""),
      "request-id": req.requestId,
      "client-request-id": req.headers["client-request-id"] ?? req.requestId,
    },
  };
  if (extra.details) error.details = extra.details;
  return { status, headers: graphHeaders(req, extra.headers), body: { error } };
}

/** 401 `InvalidAuthenticationToken` with Microsoft's messages (graph.md §3.1). */
export function graphUnauthorized(failure: AuthFailure, req: SandboxRequest): SandboxResponse {
  const messages: Record<AuthFailure["kind"], string> = {
    missing: "Access token is empty.",
    malformed: "CompactToken parsing failed with error code: 80049217",
    expired: "Lifetime validation failed, the token is expired.",
    // Signature failures: exact Graph wording UNCONFIRMED; the code is the documented one.
    badSignature: "Access token validation failure.",
    wrongAudience: "Access token validation failure. Invalid audience.",
  };
  return graphError(req, 401, "InvalidAuthenticationToken", messages[failure.kind], {
    headers: {
      "www-authenticate":
        'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"',
    },
  });
}

/** 403 for a token without the needed application permission (graph.md §3.1: 403, not 401). */
export function graphForbidden(req: SandboxRequest): SandboxResponse {
  return graphError(
    req,
    403,
    "Authorization_RequestDenied",
    "Insufficient privileges to complete the operation.",
  );
}

/**
 * Injected 429, shaped like the throttling sample in https://learn.microsoft.com/graph/throttling.
 * Graph's `Retry-After` may be fractional (the sample has 2.128): it is sent as configured, where
 * the other services round up to whole seconds.
 */
export function graphThrottled(retryAfterSeconds: number, req: SandboxRequest): SandboxResponse {
  return graphError(req, 429, "TooManyRequests", "Please retry again later.", {
    headers: { "retry-after": String(retryAfterSeconds) },
    innerError: { code: "429", status: "429", message: "Please retry after" },
  });
}

/** Injected 503 with Retry-After (documented together, graph.md §3.1). */
export function graphUnavailable(req: SandboxRequest): SandboxResponse {
  return graphError(
    req,
    503,
    "serviceNotAvailable",
    "The service is temporarily unavailable. Please retry later.",
    {
      headers: { "retry-after": "2" },
    },
  );
}

export function notFound(req: SandboxRequest, key: string): SandboxResponse {
  return graphError(
    req,
    404,
    "Request_ResourceNotFound",
    `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`,
  );
}

export function badRequest(req: SandboxRequest, message: string, details?: unknown[]): SandboxResponse {
  return graphError(req, 400, "Request_BadRequest", message, details ? { details } : {});
}

export function unsupportedQuery(req: SandboxRequest, message: string): SandboxResponse {
  return graphError(req, 400, "Request_UnsupportedQuery", message);
}

export function conflictUpn(req: SandboxRequest): SandboxResponse {
  return badRequest(
    req,
    "Another object with the same value for property userPrincipalName already exists.",
    [{ target: "userPrincipalName", code: "ObjectConflict" }],
  );
}

export function invalidProperty(req: SandboxRequest, name: string): SandboxResponse {
  return badRequest(req, `Invalid value specified for property '${name}' of resource 'User'.`, [
    { target: name, code: "InvalidValue" },
  ]);
}
