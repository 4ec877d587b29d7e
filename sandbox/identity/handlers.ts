/**
 * Handlers of the sign-in origin (`authorityHost`): OpenID discovery, the JWKS and the v2 token
 * endpoint for the client-credentials grant. Each parses the request, applies rules.ts and
 * renders the answer; errors come from errors.ts.
 */
import { signJwt } from "../core/jwt.ts";
import type { SandboxRequest, SandboxResponse, ServiceContext } from "../core/types.ts";
import { missingParameter, plain, tenantNotFound, tokenError } from "./errors.ts";
import {
  accessTokenClaims,
  authenticateClient,
  type IdentityDeps,
  knownTenant,
  resourceOfScope,
  TOKEN_LIFETIME_SECONDS,
} from "./rules.ts";

/** What every identity handler gets. */
export interface IdentityCall {
  req: SandboxRequest;
  ctx: ServiceContext;
  deps: IdentityDeps;
}

/** `GET /{tenant}/v2.0/.well-known/openid-configuration`. */
export function discovery({ req, ctx }: IdentityCall, tenant: string): SandboxResponse {
  if (!knownTenant(ctx, tenant)) return tenantNotFound(ctx, req, tenant, "invalid_tenant");
  const base = `${ctx.endpoints.authorityHost}/${ctx.state.entra.tenantId}`;
  return plain(200, {
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
  });
}

/** `GET /{tenant}/discovery/v2.0/keys`: the key access tokens are signed with. */
export function keys({ deps }: IdentityCall): SandboxResponse {
  return plain(200, { keys: [deps.signingKey.jwk] });
}

/** `POST /{tenant}/oauth2/v2.0/token` with `grant_type=client_credentials`. */
export function token({ req, ctx, deps }: IdentityCall, tenant: string): SandboxResponse {
  if (!knownTenant(ctx, tenant)) return tenantNotFound(ctx, req, tenant, "invalid_request");
  const form = new URLSearchParams(req.rawBody);
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
  const resource = resourceOfScope(scopeParam);
  if (resource === undefined) {
    return tokenError(
      ctx,
      req,
      400,
      "invalid_scope",
      1002012,
      `The provided value for scope ${scopeParam} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    );
  }
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
  return plain(
    200,
    {
      token_type: "Bearer",
      expires_in: TOKEN_LIFETIME_SECONDS,
      ext_expires_in: TOKEN_LIFETIME_SECONDS,
      access_token: signJwt(claims, deps.signingKey),
    },
    { "cache-control": "no-store, no-cache", pragma: "no-cache", "x-ms-request-id": req.requestId },
  );
}

/** The sign-in origin's loud 501 for anything it does not route. */
export function notEmulated({ req }: IdentityCall): SandboxResponse {
  return plain(501, {
    error: "not_implemented",
    error_description: `The sandbox does not emulate ${req.method} ${req.url.pathname} on the Entra sign-in origin.`,
  });
}
