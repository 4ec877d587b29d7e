/**
 * F&O read handlers and what every handler shares: JSON answers with OData headers, ETags,
 * canonical entity URLs, `@odata.context`, key resolution against the model and row rendering.
 * Writes are in handlers-writes.ts; the route table is routes.ts.
 */
import type { SandboxRequest, SandboxResponse } from "../core/types.ts";
import { fnoError, invalidQuery, ODATA_JSON_HEADERS } from "./errors.ts";
import type { KeyLiteral, KeyPredicate } from "./keys.ts";
import {
  FNO_ENUMS,
  FNO_NAMESPACE,
  type FnoEntityRow,
  type FnoEntitySetDef,
  findProperty,
  qualifiedType,
} from "./model.ts";
import { type FnoQuery, FnoQueryError, nextLink, parseFnoQuery, runQuery, scopeRows } from "./query.ts";
import type { FnoEnvironmentState, FnoValue } from "./state.ts";

/** A bare 401 as F&O sends it for a refused caller (empty body). */
export function fnoUnauthorized(): SandboxResponse {
  return { status: 401, headers: { "content-length": "0" } };
}

/** "Not emulated": the contract's loud 501 naming method and path. */
export function notImplemented(req: SandboxRequest): SandboxResponse {
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

export function json(status: number, body: unknown, headers: Record<string, string> = {}): SandboxResponse {
  return { status, headers: { ...ODATA_JSON_HEADERS, ...headers }, body };
}

/** `W/"<base64 of 'RecVersion,RecId'>"`, the shape F&O ETags have (reference §2.8). */
export function etagOf(row: { recId: number; recVersion: number }): string {
  return `W/"${Buffer.from(`'${row.recVersion},${row.recId}'`).toString("base64")}"`;
}

/** OData literal for a key value in a canonical URL. */
export function keyLiteral(def: FnoEntitySetDef, name: string, value: FnoValue): string {
  const prop = findProperty(def, name);
  if (prop?.type.kind === "enum") return `${FNO_NAMESPACE}.${prop.type.enumName}'${String(value)}'`;
  return `'${String(value).replace(/'/g, "''")}'`;
}

/** The canonical entity URL: `Set('x')` for one key, `Set(A='x',B='y')` for composite keys. */
export function entityUrl(origin: string, def: FnoEntitySetDef, key: Record<string, FnoValue>): string {
  const parts =
    def.keys.length === 1
      ? keyLiteral(def, def.keys[0] as string, key[def.keys[0] as string] ?? "")
      : def.keys.map((k) => `${k}=${keyLiteral(def, k, key[k] ?? "")}`).join(",");
  return `${origin}/data/${def.set}(${encodeURI(parts).replace(/#/g, "%23").replace(/\?/g, "%3F")})`;
}

export function renderRow(row: FnoEntityRow, select: string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { "@odata.etag": etagOf(row) };
  const names = !select || select.includes("*") ? Object.keys(row.values) : select;
  for (const name of names) out[name] = row.values[name];
  return out;
}

export function contextUrl(
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
export function readQuery(
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

export function resolveKey(
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

export function keyText(key: Record<string, FnoValue>): string {
  return Object.entries(key)
    .map(([k, v]) => `${k}='${String(v)}'`)
    .join(",");
}

/** Finds the served row of `def` with `key` (string keys compare case-insensitively, like SQL). */
export function findRow(
  rows: FnoEntityRow[],
  def: FnoEntitySetDef,
  key: Record<string, FnoValue>,
): FnoEntityRow | undefined {
  return rows.find((r) =>
    def.keys.every((k) => String(r.values[k] ?? "").toLowerCase() === String(key[k] ?? "").toLowerCase()),
  );
}

export function readCollection(
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
