/**
 * Routes and handles requests to one F&O environment's `/data/` service.
 *
 * Order, as F&O applies it: the environment → the calling application must be registered in
 * SysAADClients (else 401, even with a valid token; reference fno-odata.md §4 and §8 item 7) →
 * `$metadata` / service document / entity set → key → query options → read or write.
 */

import type { SandboxRequest, SandboxResponse, ServiceContext } from "../core/types.ts";
import { fnoError, invalidQuery, notFound, ODATA_EXCEPTION_TYPE, ODATA_JSON_HEADERS } from "./errors.ts";
import { type KeyLiteral, type KeyPredicate, KeySyntaxError, parseResourcePath } from "./keys.ts";
import { metadataXml, serviceDocument } from "./metadata.ts";
import {
  FNO_ENUMS,
  FNO_NAMESPACE,
  FNO_SET_BY_NAME,
  type FnoEntityRow,
  type FnoEntitySetDef,
  findProperty,
  qualifiedType,
} from "./model.ts";
import { type FnoQuery, FnoQueryError, nextLink, parseFnoQuery, runQuery, scopeRows } from "./query.ts";
import { SYSADMIN_ROLE } from "./seed.ts";
import type { FnoEnvironmentState, FnoValue, SystemUserRecord } from "./state.ts";
import {
  createEntity,
  deleteEntity,
  deserializeBody,
  findRecord,
  updateEntity,
  WRITABLE_SETS,
} from "./writes.ts";

/** A bare 401 as F&O sends it for a refused caller (empty body). */
export function fnoUnauthorized(): SandboxResponse {
  return { status: 401, headers: { "content-length": "0" } };
}

/** "Not emulated": the contract's loud 501 naming method and path. */
function notImplemented(req: SandboxRequest): SandboxResponse {
  return {
    status: 501,
    headers: { ...ODATA_JSON_HEADERS },
    body: {
      error: {
        code: "NotImplemented",
        message: `The sandbox does not emulate ${req.method} ${req.url.pathname} on F&O.`,
      },
    },
  };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): SandboxResponse {
  return { status, headers: { ...ODATA_JSON_HEADERS, ...headers }, body };
}

/** `W/"<base64 of 'RecVersion,RecId'>"`, the shape F&O ETags have (reference §2.8). */
export function etagOf(row: { recId: number; recVersion: number }): string {
  return `W/"${Buffer.from(`'${row.recVersion},${row.recId}'`).toString("base64")}"`;
}

/** OData literal for a key value in a canonical URL. */
function keyLiteral(def: FnoEntitySetDef, name: string, value: FnoValue): string {
  const prop = findProperty(def, name);
  if (prop?.type.kind === "enum") return `${FNO_NAMESPACE}.${prop.type.enumName}'${String(value)}'`;
  return `'${String(value).replace(/'/g, "''")}'`;
}

/** The canonical entity URL: `Set('x')` for one key, `Set(A='x',B='y')` for composite keys. */
function entityUrl(origin: string, def: FnoEntitySetDef, key: Record<string, FnoValue>): string {
  const parts =
    def.keys.length === 1
      ? keyLiteral(def, def.keys[0] as string, key[def.keys[0] as string] ?? "")
      : def.keys.map((k) => `${k}=${keyLiteral(def, k, key[k] ?? "")}`).join(",");
  return `${origin}/data/${def.set}(${encodeURI(parts).replace(/#/g, "%23").replace(/\?/g, "%3F")})`;
}

function renderRow(row: FnoEntityRow, select: string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { "@odata.etag": etagOf(row) };
  const names = !select || select.includes("*") ? Object.keys(row.values) : select;
  for (const name of names) out[name] = row.values[name];
  return out;
}

function contextUrl(
  origin: string,
  def: FnoEntitySetDef,
  select: string[] | undefined,
  entity: boolean,
): string {
  const projection = select && !select.includes("*") ? `(${select.join(",")})` : "";
  return `${origin}/data/$metadata#${def.set}${projection}${entity ? "/$entity" : ""}`;
}

/**
 * Turns a key predicate into key values, checking names (case-sensitive), count and literal types.
 * Returns a 400 response when the key does not fit the set.
 */
/** The request's query options, or the 400 F&O gives for a query it refuses. */
function readQuery(
  req: SandboxRequest,
  def: FnoEntitySetDef,
): { ok: true; query: FnoQuery } | { ok: false; response: SandboxResponse } {
  try {
    return { ok: true, query: parseFnoQuery(req.url, def) };
  } catch (err) {
    if (err instanceof FnoQueryError) return { ok: false, response: invalidQuery(err.message) };
    throw err;
  }
}

function resolveKey(
  def: FnoEntitySetDef,
  key: KeyPredicate,
): { ok: true; key: Record<string, FnoValue> } | { ok: false; response: SandboxResponse } {
  const bad = (message: string) => ({ ok: false as const, response: invalidQuery(message) });
  let pairs: { name: string; value: KeyLiteral }[];
  if (key.kind === "positional") {
    if (def.keys.length !== 1) {
      // Observed on multi-key sets (reference §8 item 2); the status F&O uses is UNCONFIRMED.
      return {
        ok: false,
        response: fnoError(
          400,
          "No route data was found for this request.",
          "System.InvalidOperationException",
        ),
      };
    }
    pairs = [{ name: def.keys[0] as string, value: key.value }];
  } else pairs = key.pairs;
  if (pairs.length !== def.keys.length) {
    return bad(
      `The number of keys specified in the URI does not match number of key properties for the resource '${qualifiedType(def)}'.`,
    );
  }
  const values: Record<string, FnoValue> = {};
  for (const { name, value } of pairs) {
    if (!def.keys.includes(name)) {
      return bad(`Could not find a key property named '${name}' on type '${qualifiedType(def)}'.`);
    }
    if (Object.hasOwn(values, name)) return bad(`The key property '${name}' was specified more than once.`);
    const prop = findProperty(def, name);
    if (prop?.type.kind === "enum") {
      const expected = `${FNO_NAMESPACE}.${prop.type.enumName}`;
      if (value.type !== "enum" || value.enumType !== expected) {
        return bad(`The key value for '${name}' must be a qualified enum literal of type '${expected}'.`);
      }
      if (!Object.hasOwn(FNO_ENUMS[prop.type.enumName] ?? {}, value.value)) {
        return bad(`The value '${value.value}' is not a valid member of enum type '${expected}'.`);
      }
      values[name] = value.value;
    } else {
      if (value.type !== "string") {
        return bad(`The key value for '${name}' must be a string literal in single quotes.`);
      }
      values[name] = value.value;
    }
  }
  return { ok: true, key: values };
}

function keyText(key: Record<string, FnoValue>): string {
  return Object.entries(key)
    .map(([k, v]) => `${k}='${String(v)}'`)
    .join(",");
}

/** Finds the served row of `def` with `key` (string keys compare case-insensitively, like SQL). */
function findRow(
  rows: FnoEntityRow[],
  def: FnoEntitySetDef,
  key: Record<string, FnoValue>,
): FnoEntityRow | undefined {
  return rows.find((r) =>
    def.keys.every((k) => String(r.values[k] ?? "").toLowerCase() === String(key[k] ?? "").toLowerCase()),
  );
}

/** The caller's F&O user, resolved through SysAADClients by the token's `appid`. */
function sessionUser(env: FnoEnvironmentState, appId: string): SystemUserRecord | undefined {
  const client = env.aadClients.find((c) => c.AADClientId.toLowerCase() === appId.toLowerCase());
  if (!client) return undefined;
  return env.users.find((u) => u.UserID.toLowerCase() === client.UserId.toLowerCase());
}

/** True when `userId` holds an enabled System administrator role. */
function isSystemAdministrator(env: FnoEnvironmentState, userId: string): boolean {
  return env.userRoles.some(
    (r) =>
      r.UserId.toLowerCase() === userId.toLowerCase() &&
      r.SecurityRoleIdentifier === SYSADMIN_ROLE &&
      r.AssignmentStatus === "Enabled",
  );
}

/** Handles one authenticated request for the F&O environment `req.environment`. */
export function handleFnoRequest(req: SandboxRequest, ctx: ServiceContext): SandboxResponse {
  const env = req.environment === undefined ? undefined : ctx.state.fno[req.environment];
  if (!env) return notImplemented(req);

  // Registration is per environment; an unregistered app (or one mapped to a missing or
  // disabled user) is refused with 401 even though its token is valid (reference §4, §8 item 7).
  const user = sessionUser(env, String(req.token.appid ?? ""));
  if (!user?.Enabled) return fnoUnauthorized();

  const origin = req.url.origin;
  const path = req.url.pathname;
  if (path === "/data" || path === "/data/") {
    if (req.method !== "GET") return notImplemented(req);
    return json(200, serviceDocument(origin));
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
    // The application acts with its F&O user's roles (reference §4). Entry-point security of the
    // system administration entities is modelled coarsely: only System administrators pass.
    // Status and text are UNCONFIRMED; a client must surface this as "the app's F&O user lacks a role".
    return fnoError(
      403,
      `Access denied: user '${user.UserID}' has no access to the data entity '${def.axEntity}'.`,
      "System.UnauthorizedAccessException",
    );
  }
  const session = { company: user.Company };
  const isCount = parsed.rest.length === 1 && parsed.rest[0] === "$count";
  if (parsed.rest.length > 0 && !isCount) return notImplemented(req);

  if (!parsed.key) {
    if (req.method === "GET") return readCollection(req, env, def, session.company, isCount);
    if (req.method === "POST" && !isCount) return create(req, ctx, env, def, session);
    return notImplemented(req);
  }
  if (isCount) return notImplemented(req);
  const resolved = resolveKey(def, parsed.key);
  if (!resolved.ok) return resolved.response;
  const key = resolved.key;

  const parsedQuery = readQuery(req, def);
  if (!parsedQuery.ok) return parsedQuery.response;
  const query = parsedQuery.query;
  const visible = scopeRows(def, def.rows(env), query.crossCompany, session.company);
  const row = findRow(visible, def, key);
  if (!row) return notFound(qualifiedType(def), keyText(key));

  switch (req.method) {
    case "GET":
      return json(200, {
        "@odata.context": contextUrl(origin, def, query.options.select, true),
        ...renderRow(row, query.options.select),
      });
    case "PATCH": {
      if (!WRITABLE_SETS.has(def.set)) return notImplemented(req);
      const body = deserializeBody(def, req.rawBody, req.body);
      if (!body.ok) return body.response;
      const record = findRecord(env, def, key);
      if (!record) return notFound(qualifiedType(def), keyText(key));
      const result = updateEntity(env, def, record, body.values);
      if (!result.ok) return result.response;
      ctx.changed();
      return { status: 204, headers: { "odata-version": "4.0" } };
    }
    case "DELETE": {
      if (!WRITABLE_SETS.has(def.set)) return notImplemented(req);
      const record = findRecord(env, def, key);
      if (!record) return notFound(qualifiedType(def), keyText(key));
      deleteEntity(env, def, record);
      ctx.changed();
      return { status: 204, headers: { "odata-version": "4.0" } };
    }
    default:
      return notImplemented(req);
  }
}

function readCollection(
  req: SandboxRequest,
  env: FnoEnvironmentState,
  def: FnoEntitySetDef,
  company: string,
  isCount: boolean,
): SandboxResponse {
  const parsedQuery = readQuery(req, def);
  if (!parsedQuery.ok) return parsedQuery.response;
  const query = parsedQuery.query;
  const rows = scopeRows(def, def.rows(env), query.crossCompany, company);
  const page = runQuery(def, rows, query);
  if (isCount) {
    return {
      status: 200,
      headers: { "content-type": "text/plain", "odata-version": "4.0" },
      body: String(page.count),
    };
  }
  const origin = req.url.origin;
  const body: Record<string, unknown> = {
    "@odata.context": contextUrl(origin, def, query.options.select, false),
  };
  if (query.options.count) body["@odata.count"] = page.count;
  body.value = page.rows.map((r) => renderRow(r, query.options.select));
  if (page.next) body["@odata.nextLink"] = nextLink(req.url, page.next);
  return json(200, body);
}

function create(
  req: SandboxRequest,
  ctx: ServiceContext,
  env: FnoEnvironmentState,
  def: FnoEntitySetDef,
  session: { company: string },
): SandboxResponse {
  if (!WRITABLE_SETS.has(def.set)) return notImplemented(req);
  const body = deserializeBody(def, req.rawBody, req.body);
  if (!body.ok) return body.response;
  const result = createEntity(env, def, body.values, session);
  if (!result.ok) return result.response;
  ctx.changed();
  const row = findRow(def.rows(env), def, result.key);
  if (!row) throw new Error(`created ${def.set} row not found`);
  const location = entityUrl(req.url.origin, def, result.key);
  return json(
    201,
    { "@odata.context": contextUrl(req.url.origin, def, undefined, true), ...renderRow(row, undefined) },
    { location, etag: etagOf(row) },
  );
}
