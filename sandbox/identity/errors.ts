/**
 * The identity service's one error factory: Entra's token-endpoint error body
 * (`error`, `error_description` starting `AADSTS<code>:`, `error_codes`, `timestamp`, `trace_id`,
 * `correlation_id`, `error_uri`), https://learn.microsoft.com/entra/identity-platform/reference-error-codes.
 */
import { randomUUID } from "node:crypto";
import type { SandboxRequest, SandboxResponse, ServiceContext } from "../core/types.ts";

function formatTimestamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}

/** An Entra sign-in error with its AADSTS code. */
export function tokenError(
  ctx: ServiceContext,
  req: SandboxRequest,
  status: number,
  error: string,
  code: number,
  message: string,
): SandboxResponse {
  const traceId = randomUUID();
  const correlationId = req.headers["client-request-id"] ?? randomUUID();
  const timestamp = formatTimestamp(ctx.now());
  return {
    status,
    headers: {
      "x-ms-request-id": traceId,
      "client-request-id": correlationId,
      "cache-control": "no-store, no-cache",
    },
    body: {
      error,
      error_description: `AADSTS${code}: ${message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `${ctx.endpoints.authorityHost}/error?code=${code}`,
    },
  };
}

/** AADSTS900144: a required form parameter is absent (400 invalid_request). */
export function missingParameter(ctx: ServiceContext, req: SandboxRequest, name: string): SandboxResponse {
  return tokenError(
    ctx,
    req,
    400,
    "invalid_request",
    900144,
    `The request body must contain the following parameter: '${name}'.`,
  );
}

/** AADSTS90002: the tenant in the path is neither the tenant id nor a verified domain. */
export function tenantNotFound(
  ctx: ServiceContext,
  req: SandboxRequest,
  tenant: string,
  error: "invalid_request" | "invalid_tenant",
): SandboxResponse {
  return tokenError(
    ctx,
    req,
    400,
    error,
    90002,
    `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
  );
}

/** A plain JSON answer of the sign-in origin (its 401/429/503 renderers and the loud 501). */
export function plain(status: number, body: unknown, headers: Record<string, string> = {}): SandboxResponse {
  return { status, headers, body };
}
