/**
 * What a failed sign-in or an unreachable service means, as the fields of an ApiError: the
 * AADSTS code, the trace id (Entra's request id for support), and the fix. Used by the HTTP core
 * (http.ts) for every error thrown before a service answered; names no system.
 *
 * AADSTS codes and their fixes: https://learn.microsoft.com/entra/identity-platform/reference-error-codes
 * and https://learn.microsoft.com/azure/developer/java/sdk/troubleshooting-authentication-service-principal
 * (the same codes for every Azure SDK credential).
 */

import type { ApiErrorOptions } from "./errors.ts";
import { isApiError } from "./errors.ts";

/** The fix for the AADSTS codes a misconfigured service principal meets. */
const AADSTS_HINTS: Record<string, string> = {
  "7000215":
    "the client secret is wrong: use the secret's Value (not its Secret ID) from the app registration's Certificates & secrets, in d365-access:clientSecret or AZURE_CLIENT_SECRET",
  "7000222":
    "the client secret has expired: create a new one under the app registration's Certificates & secrets and update d365-access:clientSecret or AZURE_CLIENT_SECRET",
  "700016":
    "no app with this client id in the tenant: check d365-access:clientId (AZURE_CLIENT_ID) and d365-access:tenantId (AZURE_TENANT_ID)",
  "90002": "the tenant was not found: check d365-access:tenantId (AZURE_TENANT_ID) and authorityHost",
  "700213":
    "no federated credential matches the token's subject: check the app's federated credential (issuer, subject, audience)",
  "70021":
    "no federated credential matches the token's subject: check the app's federated credential (issuer, subject, audience)",
  "700027":
    "the certificate is not the one registered on the app: check d365-access:certificatePath (AZURE_CLIENT_CERTIFICATE_PATH)",
};

const GENERIC_HINT =
  "check clientId, tenantId, the client secret/certificate/federated token and authorityHost";

/** Connection failures: nothing answered at all. */
const UNREACHABLE = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EHOSTUNREACH", "ETIMEDOUT"]);

/** Whether a URL points at this machine (the sandbox, or a local emulator). */
function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === "localhost" || host === "[::1]" || host.startsWith("127.");
  } catch {
    return false;
  }
}

/** The fix when nothing answers at `baseUrl`. */
export function unreachableHint(baseUrl: string): string {
  return isLoopback(baseUrl)
    ? `nothing answers at ${new URL(baseUrl).host}: start the sandbox with \`npm run sandbox start\``
    : "check the service URL and the network; transient failures were already retried";
}

/**
 * Whether `e` is a sign-in that failed (a refused credential, an authority that did not
 * answer): the same credential signs in to every system, so it fails them all alike.
 */
export function isSignInError(e: unknown): boolean {
  return isApiError(e) && /^could not get a token:/.test(e.message);
}

/** Whether a pipeline error's code says the connection could not be made. */
export function isUnreachable(code: string | undefined): boolean {
  return code !== undefined && UNREACHABLE.has(code);
}

interface CredentialFailure {
  name?: string;
  message?: string;
  statusCode?: number;
  errorResponse?: { error?: string; errorDescription?: string };
  cause?: { errorCode?: string; correlationId?: string };
}

/**
 * The ApiError fields of a failed token request (an `@azure/identity` error), or undefined when
 * `e` is something else.
 */
export function signInFailure(
  e: unknown,
  baseUrl: string,
): Omit<ApiErrorOptions, "system" | "operation"> | undefined {
  const err = e as CredentialFailure | undefined;
  if (
    !err ||
    ![
      "AuthenticationError",
      "AuthenticationRequiredError",
      "CredentialUnavailableError",
      "AggregateAuthenticationError",
    ].includes(err.name ?? "")
  )
    return undefined;
  const text = err.errorResponse?.errorDescription ?? err.message ?? "";
  // MSAL could not fetch the authority's metadata: nothing answered at the authority host.
  if (/endpoints_resolution_error|ECONNREFUSED|getaddrinfo/i.test(text)) {
    return {
      status: 0,
      code: "endpoints_resolution_error",
      kind: "Transient",
      message: "could not get a token: the sign-in authority did not answer",
      hint: isLoopback(baseUrl) ? unreachableHint(baseUrl) : "check authorityHost and the network",
    };
  }
  const aadsts = /AADSTS(\d+)/.exec(text)?.[1];
  // The first sentence after the code, without the trace, correlation and timestamp lines.
  const description = (
    aadsts ? (text.slice(text.indexOf(`AADSTS${aadsts}`)).split(/\s+Trace ID:/)[0] ?? text) : text
  )
    .split(/\r?\n/)[0]
    ?.trim();
  const traceId = /Trace ID: ([0-9a-f-]{36})/i.exec(text)?.[1] ?? err.cause?.correlationId;
  return {
    status: err.statusCode ?? 0,
    code: aadsts ? `AADSTS${aadsts}` : (err.errorResponse?.error ?? err.cause?.errorCode ?? err.name ?? ""),
    kind: "Unauthorized",
    message: `could not get a token: ${(description ?? "").replace(/^AADSTS\d+:\s*/, "") || "sign-in failed"}`,
    ...(traceId ? { requestId: traceId } : {}),
    hint: (aadsts && AADSTS_HINTS[aadsts]) || GENERIC_HINT,
  };
}
