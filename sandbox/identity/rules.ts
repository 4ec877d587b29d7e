/**
 * The identity service's rules: which tenants it answers for, how a client authenticates (client
 * secret, or a client assertion from a registered federated credential) and what an access
 * token carries. Tokens are v1-style, as Entra issues them for Graph, Dataverse, F&O and the
 * Power Platform admin API: `aud` = the requested resource exactly, `iss`
 * `https://sts.windows.net/{tid}/`, `ver` "1.0", `roles` only when the app has some
 * (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
 */
import { createHash, randomUUID } from "node:crypto";
import { decodeJwt, type SigningKey, verifyJwt } from "../core/jwt.ts";
import type { SandboxRequest, SandboxResponse, ServiceContext, TokenClaims } from "../core/types.ts";
import { missingParameter, tokenError } from "./errors.ts";
import { type EntraApp, SANDBOX_ISSUER_ALIAS } from "./state.ts";

/** Access-token lifetime: Entra's default is 60–90 minutes; a fixed hour keeps tests deterministic. */
export const TOKEN_LIFETIME_SECONDS = 3599;
const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** A resource the token endpoint can issue tokens for. */
export interface KnownResource {
  audience: string;
  /** The `roles` claim for `app`; undefined or empty → no claim. */
  roles?: (app: EntraApp) => string[] | undefined;
}

/** What the identity service needs from the sandbox. */
export interface IdentityDeps {
  signingKey: SigningKey;
  /** Key of the sandbox's test OIDC issuer (client assertions for workload identity). */
  oidcKey: SigningKey;
  /** The test issuer's URL (`${adminUrl}/oidc`). */
  oidcIssuer: () => string;
  /** Every audience some service accepts (AADSTS500011 for the rest). */
  resources: (ctx: ServiceContext) => KnownResource[];
}

/** How the client proved who it is: `appidacr` "1" for a secret, "2" for an assertion. */
export interface AuthenticatedClient {
  app: EntraApp;
  appidacr: "1" | "2";
}

/** Claims of an access token for `app` and `audience` at the context's time. */
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

/** How a client secret is kept: its SHA-256, hex (the state file never holds the secret). */
export function secretHash(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** True when `tenant` is the tenant id or one of its verified domains. */
export function knownTenant(ctx: ServiceContext, tenant: string): boolean {
  const entra = ctx.state.entra;
  return (
    tenant.toLowerCase() === entra.tenantId.toLowerCase() ||
    entra.verifiedDomains.some((d) => d.toLowerCase() === tenant.toLowerCase())
  );
}

/** The app registration with `appId` (client ids compare case-insensitively). */
export function findApp(ctx: ServiceContext, appId: string): EntraApp | undefined {
  return ctx.state.entra.apps.find((a) => a.appId.toLowerCase() === appId.toLowerCase());
}

/** The client id a token request names (form `client_id`, or the user part of HTTP Basic). */
export function clientIdOf(req: SandboxRequest): string | undefined {
  const fromForm = new URLSearchParams(req.rawBody).get("client_id");
  if (fromForm) return fromForm;
  const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? "");
  if (!basic?.[1]) return undefined;
  const id = Buffer.from(basic[1], "base64").toString("utf8").split(":", 1)[0];
  return id ? decodeURIComponent(id) : undefined;
}

/** Authenticates the client by secret (form or HTTP Basic) or assertion; returns the app or an error. */
export function authenticateClient(
  ctx: ServiceContext,
  req: SandboxRequest,
  form: URLSearchParams,
  deps: IdentityDeps,
  tenant: string,
): AuthenticatedClient | SandboxResponse {
  let clientId = form.get("client_id") ?? undefined;
  let secret = form.get("client_secret") ?? undefined;
  const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? "");
  if (basic?.[1]) {
    const [id, pass] = Buffer.from(basic[1], "base64").toString("utf8").split(":", 2);
    clientId ??= decodeURIComponent(id ?? "");
    secret ??= decodeURIComponent(pass ?? "");
  }
  if (!clientId) return missingParameter(ctx, req, "client_id");
  const app = findApp(ctx, clientId);
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
    // Constant-time comparison is moot for a local emulator; secrets are never echoed or stored.
    if (!app.clientSecretHashes.includes(secretHash(secret))) {
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
  deps: IdentityDeps,
): AuthenticatedClient | SandboxResponse {
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

/** OIDC scopes that ride along in some clients' requests; they do not name a resource. */
const OIDC_SCOPES = ["openid", "profile", "offline_access", "email"];

/**
 * The resource a client-credentials `scope` names (`<resource>/.default`), or undefined when the
 * scope is not exactly one `/.default` resource (AADSTS1002012).
 */
export function resourceOfScope(scopeParam: string): string | undefined {
  const scopes = scopeParam.split(/\s+/).filter((s) => s && !OIDC_SCOPES.includes(s));
  const scope = scopes[0];
  if (scopes.length !== 1 || !scope?.endsWith("/.default")) return undefined;
  return scope.slice(0, -"/.default".length);
}
