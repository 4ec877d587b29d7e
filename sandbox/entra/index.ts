/**
 * Entra ID sign-in (the `login` origin, i.e. `authorityHost`): OpenID discovery, JWKS and the v2
 * token endpoint for the client-credentials grant, with a client secret or a client assertion
 * (workload identity federation).
 *
 * Tokens are v1-style access tokens as Entra issues them for Graph, Dataverse, F&O and the Power
 * Platform admin API: `aud` = the requested resource exactly (`<resource>/.default` → `<resource>`),
 * `iss` = `https://sts.windows.net/{tid}/`, `ver` "1.0", `roles` only when the app has some
 * (reference/graph.md §7 items 11–12; https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
 * Error bodies follow https://learn.microsoft.com/entra/identity-platform/reference-error-codes.
 */
import { randomUUID } from "node:crypto";
import { decodeJwt, type SigningKey, signJwt, verifyJwt } from "../core/jwt.ts";
import type { MountedModule } from "../core/server.ts";
import type {
  EntraApp,
  SandboxRequest,
  SandboxResponse,
  ServiceContext,
  TokenClaims,
} from "../core/types.ts";
import { SANDBOX_ISSUER_ALIAS } from "./seed.ts";

/** Access-token lifetime: Entra's default is 60–90 minutes; a fixed hour keeps tests deterministic. */
export const TOKEN_LIFETIME_SECONDS = 3599;
const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** A resource the token endpoint can issue tokens for. */
export interface KnownResource {
  audience: string;
  /** The `roles` claim for `app`; undefined or empty → no claim. */
  roles?: (app: EntraApp) => string[] | undefined;
}

/** What the Entra module needs from the sandbox. */
export interface EntraDeps {
  signingKey: SigningKey;
  /** Key of the sandbox's test OIDC issuer (client assertions for workload identity). */
  oidcKey: SigningKey;
  /** The test issuer's URL (`${adminUrl}/oidc`). */
  oidcIssuer: () => string;
  /** Every audience some service accepts (AADSTS500011 for the rest). */
  resources: (ctx: ServiceContext) => KnownResource[];
}

/** Claims of an access token for `app` and `audience` at `nowMs`. */
export function accessTokenClaims(
  ctx: ServiceContext,
  app: EntraApp,
  audience: string,
  roles: string[] | undefined,
  options: { appidacr?: "1" | "2"; lifetimeSeconds?: number; notBeforeSeconds?: number } = {},
): TokenClaims {
  const tid = ctx.state.entra.tenantId;
  const iat = Math.floor(ctx.now() / 1000);
  const claims: TokenClaims = {
    aud: audience,
    iss: `https://sts.windows.net/${tid}/`,
    iat,
    nbf: iat + (options.notBeforeSeconds ?? 0),
    exp: iat + (options.lifetimeSeconds ?? TOKEN_LIFETIME_SECONDS),
    aio: randomUUID().replace(/-/g, ""),
    app_displayname: app.displayName,
    appid: app.appId,
    appidacr: options.appidacr ?? "1",
    idp: `https://sts.windows.net/${tid}/`,
    idtyp: "app",
    oid: app.servicePrincipalId,
    rh: "0.sandbox.",
    sub: app.servicePrincipalId,
    tid,
    uti: randomUUID().replace(/-/g, "").slice(0, 22),
    ver: "1.0",
  };
  if (roles && roles.length > 0) claims.roles = [...roles];
  return claims;
}

function formatTimestamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}

function tokenError(
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
function missingParameter(ctx: ServiceContext, req: SandboxRequest, name: string): SandboxResponse {
  return tokenError(
    ctx,
    req,
    400,
    "invalid_request",
    900144,
    `The request body must contain the following parameter: '${name}'.`,
  );
}

function knownTenant(ctx: ServiceContext, tenant: string): boolean {
  const entra = ctx.state.entra;
  return (
    tenant.toLowerCase() === entra.tenantId.toLowerCase() ||
    entra.verifiedDomains.some((d) => d.toLowerCase() === tenant.toLowerCase())
  );
}

function discovery(ctx: ServiceContext, tenant: string): SandboxResponse {
  const base = `${ctx.endpoints.authorityHost}/${ctx.state.entra.tenantId}`;
  void tenant;
  return {
    status: 200,
    body: {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ["query", "fragment", "form_post"],
      subject_types_supported: ["pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
      scopes_supported: ["openid", "profile", "email", "offline_access"],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${ctx.endpoints.graphUrl}/oidc/userinfo`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid", "ver"],
      kerberos_endpoint: `${base}/kerberos`,
      tenant_region_scope: "EU",
      cloud_instance_name: "microsoftonline.com",
      cloud_graph_host_name: "graph.windows.net",
      msgraph_host: new URL(ctx.endpoints.graphUrl).host,
      rbac_url: "https://pas.windows.net",
    },
  };
}

function parseForm(raw: string): URLSearchParams {
  return new URLSearchParams(raw);
}

/** Authenticates the client by secret or assertion; returns the app or an error response. */
function authenticateClient(
  ctx: ServiceContext,
  req: SandboxRequest,
  form: URLSearchParams,
  deps: EntraDeps,
  tenant: string,
): { app: EntraApp; appidacr: "1" | "2" } | SandboxResponse {
  let clientId = form.get("client_id") ?? undefined;
  let secret = form.get("client_secret") ?? undefined;
  const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? "");
  if (basic?.[1]) {
    const [id, pass] = Buffer.from(basic[1], "base64").toString("utf8").split(":", 2);
    clientId ??= decodeURIComponent(id ?? "");
    secret ??= decodeURIComponent(pass ?? "");
  }
  if (!clientId) {
    return missingParameter(ctx, req, "client_id");
  }
  const app = ctx.state.entra.apps.find((a) => a.appId.toLowerCase() === clientId.toLowerCase());
  if (!app) {
    return tokenError(
      ctx,
      req,
      400,
      "unauthorized_client",
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    );
  }
  const assertion = form.get("client_assertion");
  if (secret !== undefined && secret !== "") {
    // Constant-time comparison is moot for a local emulator; secrets are never echoed back.
    if (!app.clientSecrets.includes(secret)) {
      return tokenError(
        ctx,
        req,
        401,
        "invalid_client",
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.appId}'.`,
      );
    }
    return { app, appidacr: "1" };
  }
  if (!assertion) {
    return tokenError(
      ctx,
      req,
      401,
      "invalid_client",
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    );
  }
  if (form.get("client_assertion_type") !== ASSERTION_TYPE) {
    return missingParameter(ctx, req, "client_assertion_type");
  }
  return verifyAssertion(ctx, req, app, assertion, deps);
}

/**
 * Workload identity federation: the assertion must come from an issuer registered as a federated
 * credential of the app, with a matching subject and audience
 * (https://learn.microsoft.com/entra/workload-id/workload-identity-federation). Only the sandbox's
 * own test issuer can be verified offline; other issuers are refused with AADSTS700211.
 * HTTP status of these refusals: 401 invalid_client (UNCONFIRMED; Entra documents the AADSTS codes).
 */
function verifyAssertion(
  ctx: ServiceContext,
  req: SandboxRequest,
  app: EntraApp,
  assertion: string,
  deps: EntraDeps,
): { app: EntraApp; appidacr: "1" | "2" } | SandboxResponse {
  const decoded = decodeJwt(assertion);
  if (!decoded)
    return tokenError(ctx, req, 400, "invalid_request", 50027, "JWT token is invalid or malformed.");
  const { iss, sub, aud, exp, nbf } = decoded.claims;
  if (iss === app.appId && sub === app.appId) {
    return tokenError(
      ctx,
      req,
      401,
      "invalid_client",
      700027,
      `Client assertion failed signature validation: the sandbox does not emulate certificate credentials for app '${app.appId}'.`,
    );
  }
  const ownIssuer = deps.oidcIssuer();
  const matchesIssuer = (registered: string) =>
    registered === iss || (registered === SANDBOX_ISSUER_ALIAS && iss === ownIssuer);
  const byIssuer = app.federatedCredentials.filter((c) => matchesIssuer(c.issuer));
  const mismatch = (code: number, what: string, value: unknown) =>
    tokenError(
      ctx,
      req,
      401,
      "invalid_client",
      code,
      `No matching federated identity record found for presented assertion ${what} '${String(value)}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation`,
    );
  if (byIssuer.length === 0 || iss !== ownIssuer) return mismatch(700211, "issuer", iss);
  const bySubject = byIssuer.filter((c) => c.subject === sub);
  if (bySubject.length === 0) return mismatch(700213, "subject", sub);
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!bySubject.some((c) => c.audiences.some((a) => audiences.includes(a))))
    return mismatch(700212, "audience", audiences.join(","));
  const verified = verifyJwt(assertion, deps.oidcKey);
  if (!verified.ok) {
    return tokenError(
      ctx,
      req,
      401,
      "invalid_client",
      50012,
      "The client assertion signature could not be validated by the issuer's keys.",
    );
  }
  const now = Math.floor(ctx.now() / 1000);
  if (typeof exp !== "number" || exp <= now || (typeof nbf === "number" && nbf > now + 300)) {
    return tokenError(
      ctx,
      req,
      400,
      "invalid_client",
      700024,
      "Client assertion is not within its valid time range.",
    );
  }
  return { app, appidacr: "2" };
}

function token(ctx: ServiceContext, req: SandboxRequest, tenant: string, deps: EntraDeps): SandboxResponse {
  if (!knownTenant(ctx, tenant)) {
    return tokenError(
      ctx,
      req,
      400,
      "invalid_request",
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
    );
  }
  const form = parseForm(req.rawBody);
  const grant = form.get("grant_type");
  if (!grant) return missingParameter(ctx, req, "grant_type");
  if (grant !== "client_credentials") {
    return tokenError(
      ctx,
      req,
      400,
      "unsupported_grant_type",
      70003,
      `The app requested an unsupported grant type '${grant}'. The sandbox emulates client_credentials only.`,
    );
  }
  const client = authenticateClient(ctx, req, form, deps, tenant);
  if ("status" in client) return client;
  const scopeParam = form.get("scope");
  if (!scopeParam) return missingParameter(ctx, req, "scope");
  // OIDC scopes ride along in some clients' requests; they do not name a resource.
  const scopes = scopeParam
    .split(/\s+/)
    .filter((s) => s && !["openid", "profile", "offline_access", "email"].includes(s));
  const scope = scopes[0];
  if (scopes.length !== 1 || !scope?.endsWith("/.default")) {
    return tokenError(
      ctx,
      req,
      400,
      "invalid_scope",
      1002012,
      `The provided value for scope ${scopeParam} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    );
  }
  const resource = scope.slice(0, -"/.default".length);
  const known = deps.resources(ctx).find((r) => r.audience === resource);
  if (!known) {
    return tokenError(
      ctx,
      req,
      400,
      "invalid_resource",
      500011,
      `The resource principal named ${resource} was not found in the tenant named ${ctx.state.entra.tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
    );
  }
  const claims = accessTokenClaims(ctx, client.app, resource, known.roles?.(client.app), {
    appidacr: client.appidacr,
  });
  return {
    status: 200,
    headers: { "cache-control": "no-store, no-cache", pragma: "no-cache", "x-ms-request-id": req.requestId },
    body: {
      token_type: "Bearer",
      expires_in: TOKEN_LIFETIME_SECONDS,
      ext_expires_in: TOKEN_LIFETIME_SECONDS,
      access_token: signJwt(claims, deps.signingKey),
    },
  };
}

/** Builds the login module (anonymous: it is where tokens come from). */
export function createEntraModule(deps: EntraDeps): MountedModule {
  const plain = (status: number, body: unknown): SandboxResponse => ({ status, body });
  return {
    name: "login",
    anonymous: true,
    audiences: () => [],
    unauthorized: () => plain(401, {}),
    throttled: (seconds, req) => ({
      status: 429,
      headers: { "retry-after": String(seconds), "x-ms-request-id": req.requestId },
      body: {
        error: "temporarily_unavailable",
        error_description:
          "AADSTS50196: The server terminated an operation because it encountered a client request loop.",
      },
    }),
    unavailable: (req) => ({
      status: 503,
      headers: { "x-ms-request-id": req.requestId },
      body: {
        error: "temporarily_unavailable",
        error_description: "AADSTS90033: A transient error has occurred. Please try again.",
      },
    }),
    handle(req, ctx) {
      const path = req.url.pathname;
      const discoveryMatch = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(path);
      if (discoveryMatch && req.method === "GET") {
        const tenant = decodeURIComponent(discoveryMatch[1] as string);
        if (!knownTenant(ctx, tenant)) {
          return tokenError(
            ctx,
            req,
            400,
            "invalid_tenant",
            90002,
            `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
          );
        }
        return discovery(ctx, tenant);
      }
      if (/^\/[^/]+\/discovery\/v2\.0\/keys$/.test(path) && req.method === "GET") {
        return plain(200, { keys: [deps.signingKey.jwk] });
      }
      const tokenMatch = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(path);
      if (tokenMatch && req.method === "POST")
        return token(ctx, req, decodeURIComponent(tokenMatch[1] as string), deps);
      return plain(501, {
        error: "not_implemented",
        error_description: `The sandbox does not emulate ${req.method} ${path} on the Entra sign-in origin.`,
      });
    },
  };
}
