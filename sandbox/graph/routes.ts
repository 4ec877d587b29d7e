/**
 * The route table of Microsoft Graph v1.0 as the sandbox serves it. Users are addressed by id
 * or UPN (`/users/{id | userPrincipalName}`), or as `/users('{upn}')` for UPNs starting with `$`
 * (https://learn.microsoft.com/graph/api/user-get).
 */
import { matchRoute, type Route } from "../core/routes.ts";
import type { SandboxRequest, SandboxResponse, ServiceContext } from "../core/types.ts";
import { graphError } from "./errors.ts";
import { batch } from "./handlers-batch.ts";
import { assignLicense, licenseDetails, subscribedSkus } from "./handlers-licenses.ts";
import { createUser, deleteUser, getUser, listUsers, updateUser } from "./handlers-users.ts";

/** What every Graph handler gets. */
export interface GraphCall {
  req: SandboxRequest;
  ctx: ServiceContext;
}

/** `{key}` from the captured `/users/{key}` or `/users('{key}')` segment. */
function userKey([plain, quoted]: string[]): string {
  const inner = /^\('(.*)'\)$/.exec(quoted ?? "");
  const raw = inner ? (inner[1] as string).replace(/''/g, "'") : (plain ?? "");
  return decodeURIComponent(raw);
}

const USER = String.raw`^/v1\.0/users(?:/([^/()]+)|(\('(?:[^']|'')*'\)))`;
const user = (tail = "") => new RegExp(`${USER}${tail}$`);

export const GRAPH_ROUTES: readonly Route<GraphCall>[] = [
  { method: "GET", path: /^\/v1\.0\/users$/, handler: ({ req, ctx }) => listUsers(req, ctx, false) },
  { method: "POST", path: /^\/v1\.0\/users$/, handler: ({ req, ctx }) => createUser(req, ctx) },
  {
    method: "GET",
    path: /^\/v1\.0\/users\/(?:\$|%24)count$/,
    handler: ({ req, ctx }) => listUsers(req, ctx, true),
  },
  { method: "GET", path: user(), handler: ({ req, ctx }, p) => getUser(req, ctx, userKey(p)) },
  { method: "PATCH", path: user(), handler: ({ req, ctx }, p) => updateUser(req, ctx, userKey(p)) },
  { method: "DELETE", path: user(), handler: ({ req, ctx }, p) => deleteUser(req, ctx, userKey(p)) },
  {
    method: "POST",
    path: user("/assignLicense"),
    handler: ({ req, ctx }, p) => assignLicense(req, ctx, userKey(p)),
  },
  {
    method: "GET",
    path: user("/licenseDetails"),
    handler: ({ req, ctx }, p) => licenseDetails(req, ctx, userKey(p)),
  },
  { method: "GET", path: /^\/v1\.0\/subscribedSkus$/, handler: ({ req, ctx }) => subscribedSkus(req, ctx) },
  {
    method: "GET",
    path: /^\/v1\.0\/subscribedSkus\/([^/]+)$/,
    handler: ({ req, ctx }, [id]) => subscribedSkus(req, ctx, decodeURIComponent(id as string)),
  },
  {
    method: "POST",
    path: /^\/v1\.0\/(?:\$|%24)batch$/,
    handler: ({ req, ctx }) => batch(req, ctx, routeGraph),
  },
];

/** Whether `req` is a JSON batch envelope (`POST /v1.0/$batch`). */
export function isBatch(req: SandboxRequest): boolean {
  return req.method.toUpperCase() === "POST" && /^\/v1\.0\/(?:\$|%24)batch\/?$/.test(req.url.pathname);
}

/** Routes one Graph request (a top-level one or an item of a `$batch`). */
export function routeGraph(
  req: SandboxRequest,
  ctx: ServiceContext,
): SandboxResponse | Promise<SandboxResponse> {
  const path = req.url.pathname.replace(/\/+$/, "");
  const found = matchRoute(GRAPH_ROUTES, req.method, path);
  if (found) return found.route.handler({ req, ctx }, found.params);
  return graphError(
    req,
    501,
    "NotImplemented",
    `The sandbox does not emulate Microsoft Graph ${req.method} ${req.url.pathname}.`,
  );
}
