/**
 * The route table of the Power Platform admin API (BAP) below
 * `/providers/Microsoft.BusinessAppPlatform` (path segments compare case-insensitively, as BAP's
 * do). Every request needs `api-version` and a registered management application first.
 */
import { matchRoute, type Route } from "../core/routes.ts";
import type { SandboxRequest, SandboxResponse, ServiceContext } from "../core/types.ts";
import { runDataverseSync } from "../dataverse/sync.ts";
import { error, json, unrouted } from "./errors.ts";
import { addUser, renderEnvironment } from "./handlers.ts";
import { findEnvironment, isManagementApplication, PROVIDER } from "./rules.ts";
import type { PowerPlatformEnvironment } from "./state.ts";

/** What every Power Platform handler gets. */
export interface PowerPlatformCall {
  req: SandboxRequest;
  ctx: ServiceContext;
}

/** Resolves the environment in the path, or answers BAP's 404. */
function withEnvironment(
  { req, ctx }: PowerPlatformCall,
  id: string,
  then: (env: PowerPlatformEnvironment) => SandboxResponse,
): SandboxResponse {
  const env = findEnvironment(ctx.state.powerplatform, id);
  if (!env) {
    return error(
      req,
      404,
      "EnvironmentNotFound",
      `The environment '${id}' could not be found in the tenant '${ctx.endpoints.tenantId}'.`,
    );
  }
  return then(env);
}

export const POWER_PLATFORM_ROUTES: readonly Route<PowerPlatformCall>[] = [
  {
    method: "GET",
    path: /^\/scopes\/admin\/environments$/i,
    handler: ({ req, ctx }) =>
      json(req, 200, { value: ctx.state.powerplatform.environments.map((e) => renderEnvironment(ctx, e)) }),
  },
  {
    method: "GET",
    path: /^(?:\/scopes\/admin)?\/environments\/([^/]+)$/i,
    handler: (call, [id]) =>
      withEnvironment(call, id as string, (env) => json(call.req, 200, renderEnvironment(call.ctx, env))),
  },
  {
    method: "POST",
    path: /^\/scopes\/admin\/environments\/([^/]+)\/addUser$/i,
    handler: (call, [id]) => withEnvironment(call, id as string, (env) => addUser(call.req, call.ctx, env)),
  },
  // Any other request about an environment: BAP's 404 when it does not exist, else not emulated.
  {
    method: "*",
    path: /^(?:\/scopes\/admin)?\/environments\/([^/]+)(?:\/.*)?$/i,
    handler: (call, [id]) => withEnvironment(call, id as string, () => unrouted(call.req)),
  },
];

/** Routes one authenticated request. */
export function routePowerPlatform(req: SandboxRequest, ctx: ServiceContext): SandboxResponse {
  const path = decodeURIComponent(req.url.pathname).replace(/\/+$/, "");
  if (!path.toLowerCase().startsWith(PROVIDER.toLowerCase())) return unrouted(req);
  if (!req.url.searchParams.get("api-version")) {
    return error(
      req,
      400,
      "MissingApiVersionParameter",
      "The api-version query parameter (?api-version=) is required for all requests.",
    );
  }
  if (!isManagementApplication(ctx.state.powerplatform, req.token.appid)) {
    return error(
      req,
      403,
      "Forbidden",
      `The service principal with id '${req.token.oid}' for application '${req.token.appid}' does not have permission to access the path '${req.url.pathname}' in tenant '${req.token.tid}'.`,
    );
  }
  runDataverseSync(ctx);
  const rest = `/${path.slice(PROVIDER.length).split("/").filter(Boolean).join("/")}`;
  const found = matchRoute(POWER_PLATFORM_ROUTES, req.method, rest);
  return found ? (found.route.handler({ req, ctx }, found.params) as SandboxResponse) : unrouted(req);
}
