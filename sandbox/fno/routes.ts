/**
 * The route table of one F&O environment's `/data/` service, in the order F&O applies its
 * checks: the calling application must be registered in SysAADClients (else 401, even with a
 * valid token) → the service document, `$metadata` → the entity set (names are case-sensitive)
 * → the session user's access → key → query options → read or write.
 */
import { matchRoute, type Route } from "../core/routes.ts";
import type { SandboxRequest, SandboxResponse, ServiceContext } from "../core/types.ts";
import { fnoError, invalidQuery, notFound, ODATA_EXCEPTION_TYPE } from "./errors.ts";
import {
  contextUrl,
  findRow,
  fnoUnauthorized,
  json,
  keyText,
  notImplemented,
  readCollection,
  readQuery,
  renderRow,
  resolveKey,
} from "./handlers.ts";
import { create, patchEntity, removeEntity } from "./handlers-writes.ts";
import { type KeyPredicate, KeySyntaxError, parseResourcePath } from "./keys.ts";
import { metadataXml, serviceDocument } from "./metadata.ts";
import { FNO_SET_BY_NAME, type FnoEntitySetDef, qualifiedType } from "./model.ts";
import { scopeRows } from "./query.ts";
import { isSystemAdministrator, sessionUser } from "./rules.ts";
import type { FnoEnvironmentState } from "./state.ts";

/** A request for one entity set, after registration, set and access checks. */
export interface FnoCall {
  req: SandboxRequest;
  ctx: ServiceContext;
  env: FnoEnvironmentState;
  def: FnoEntitySetDef;
  /** The default company of the session (the mapped user's Company). */
  company: string;
  key?: KeyPredicate;
}

/** `Set(<key>)`: resolve the key, read the row the caller can see (404), then act by method. */
function keyed(call: FnoCall): SandboxResponse {
  const { req, ctx, env, def } = call;
  const resolved = resolveKey(def, call.key as KeyPredicate);
  if (!resolved.ok) return resolved.response;
  const key = resolved.key;
  const parsedQuery = readQuery(req, def);
  if (!parsedQuery.ok) return parsedQuery.response;
  const query = parsedQuery.query;
  const row = findRow(scopeRows(def, def.rows(env), query.crossCompany, call.company), def, key);
  if (!row) return notFound(qualifiedType(def), keyText(key));
  switch (req.method) {
    case "GET":
      return json(200, {
        "@odata.context": contextUrl(req.url.origin, def, query.options.select, true),
        ...renderRow(row, query.options.select),
      });
    case "PATCH":
      return patchEntity(req, ctx, env, def, key);
    case "DELETE":
      return removeEntity(req, ctx, env, def, key);
    default:
      return notImplemented(req);
  }
}

/** Routes below `/data/<Set>`, matched on the path with the set written `Set` and a key as `(*)`. */
export const FNO_ENTITY_ROUTES: readonly Route<FnoCall>[] = [
  { method: "GET", path: /^Set$/, handler: (c) => readCollection(c.req, c.env, c.def, c.company, false) },
  {
    method: "POST",
    path: /^Set$/,
    handler: (c) => create(c.req, c.ctx, c.env, c.def, { company: c.company }),
  },
  {
    method: "GET",
    path: /^Set\/\$count$/,
    handler: (c) => readCollection(c.req, c.env, c.def, c.company, true),
  },
  { method: "*", path: /^Set\(\*\)$/, handler: keyed },
];

/** Handles one authenticated request for the F&O environment `req.environment`. */
export function routeFno(req: SandboxRequest, ctx: ServiceContext): SandboxResponse {
  const env = req.environment === undefined ? undefined : ctx.state.fno[req.environment];
  if (!env) return notImplemented(req);

  // Registration is per environment; an unregistered app (or one mapped to a missing or
  // disabled user) is refused with 401 even though its token is valid.
  const user = sessionUser(env, String(req.token.appid ?? ""));
  if (!user?.Enabled) return fnoUnauthorized();

  const path = req.url.pathname;
  if (path === "/data" || path === "/data/") {
    return req.method === "GET" ? json(200, serviceDocument(req.url.origin)) : notImplemented(req);
  }
  if (!path.startsWith("/data/")) return notImplemented(req);
  const below = path.slice("/data/".length);
  if (below === "$metadata") {
    if (req.method !== "GET") return notImplemented(req);
    return {
      status: 200,
      headers: { "content-type": "application/xml", "odata-version": "4.0" },
      body: metadataXml(),
    };
  }
  if (below === "$batch") return notImplemented(req);

  let parsed: ReturnType<typeof parseResourcePath>;
  try {
    parsed = parseResourcePath(below);
  } catch (err) {
    if (err instanceof KeySyntaxError) return invalidQuery(err.message);
    throw err;
  }
  const def = FNO_SET_BY_NAME.get(parsed.set);
  if (!def) {
    const differentCase = [...FNO_SET_BY_NAME.keys()].some(
      (s) => s.toLowerCase() === parsed.set.toLowerCase(),
    );
    // Entity set names are case-sensitive; other (real) sets are simply not emulated here.
    if (differentCase) {
      return fnoError(
        404,
        `No HTTP resource was found that matches the request URI '${req.url.href}'.`,
        ODATA_EXCEPTION_TYPE,
      );
    }
    return notImplemented(req);
  }
  if (
    def.set !== "LegalEntities" &&
    def.set !== "CustomerGroups" &&
    !isSystemAdministrator(env, user.UserID)
  ) {
    // The application acts with its F&O user's roles. Entry-point security of the system
    // administration entities is modelled coarsely: only System administrators pass.
    // Status and text are UNCONFIRMED; a client must surface this as "the app's F&O user lacks a role".
    return fnoError(
      403,
      `Access denied: user '${user.UserID}' has no access to the data entity '${def.axEntity}'.`,
      "System.UnauthorizedAccessException",
    );
  }
  const template = ["Set", parsed.key ? "(*)" : "", ...parsed.rest.map((r) => `/${r}`)].join("");
  const call: FnoCall = { req, ctx, env, def, company: user.Company };
  if (parsed.key) call.key = parsed.key;
  const found = matchRoute(FNO_ENTITY_ROUTES, req.method, template);
  return found ? (found.route.handler(call, found.params) as SandboxResponse) : notImplemented(req);
}
