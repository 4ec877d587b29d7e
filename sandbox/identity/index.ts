/**
 * The identity service: Microsoft Entra ID's sign-in origin (`login.microsoftonline.com`, here
 * `authorityHost`) as clients of the client-credentials flow see it — OpenID discovery, JWKS and
 * the v2 token endpoint, with a client secret or a client assertion (workload identity
 * federation). It issues the tokens every other service verifies. Error bodies follow
 * https://learn.microsoft.com/entra/identity-platform/reference-error-codes.
 */
import { matchRoute } from "../core/routes.ts";
import type { MountedModule } from "../core/server.ts";
import { IDENTITY_ADMIN_ROUTES } from "./admin.ts";
import { plain } from "./errors.ts";
import { notEmulated } from "./handlers.ts";
import { IDENTITY_ROUTES } from "./routes.ts";
import { clientIdOf, type IdentityDeps } from "./rules.ts";

export { accessTokenClaims, type IdentityDeps, type KnownResource, TOKEN_LIFETIME_SECONDS } from "./rules.ts";
export { seedApps } from "./seed.ts";
export { type EntraApp, type IdentityState, SANDBOX_ISSUER_ALIAS } from "./state.ts";

/** Builds the sign-in module (anonymous: it is where tokens come from). */
export function createIdentityModule(deps: IdentityDeps): MountedModule {
  return {
    name: "login",
    anonymous: true,
    audiences: () => [],
    admin: { prefix: "identity", routes: IDENTITY_ADMIN_ROUTES },
    // A token request changes nothing in the tenant; the journal names its client_id as the caller.
    isWrite: () => false,
    caller: (req) => clientIdOf(req),
    unauthorized: () => plain(401, {}),
    throttled: (seconds, req) =>
      plain(
        429,
        {
          error: "temporarily_unavailable",
          error_description:
            "AADSTS50196: The server terminated an operation because it encountered a client request loop.",
        },
        { "retry-after": String(Math.ceil(seconds)), "x-ms-request-id": req.requestId },
      ),
    unavailable: (req) =>
      plain(
        503,
        {
          error: "temporarily_unavailable",
          error_description: "AADSTS90033: A transient error has occurred. Please try again.",
        },
        { "x-ms-request-id": req.requestId },
      ),
    handle(req, ctx) {
      const call = { req, ctx, deps };
      const found = matchRoute(IDENTITY_ROUTES, req.method, req.url.pathname);
      return found ? found.route.handler(call, found.params) : notEmulated(call);
    },
  };
}
