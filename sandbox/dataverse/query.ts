/**
 * Query options for the emulated Dataverse sets: `$filter` (eq/ne/gt/ge/lt/le/and/or/not,
 * `contains`/`startswith`/`endswith`, lambda over `systemuserroles_association`), `$select`,
 * `$orderby`, `$top`, `$count`, `$expand` (one level, nested `$select/$filter/$orderby`), and
 * server-driven paging with `Prefer: odata.maxpagesize` and an opaque `$skiptoken`.
 * `$skip`, `$search`, `$format` and unknown `$` options are refused, as Dataverse does.
 *
 * Reference dataverse.md §4 and §13 items 7d, 10
 * (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/page-results,
 * https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/overview).
 */
import {
  applyOrderBy,
  caseSensitiveLookup,
  comparisonOperatorKind,
  type EvaluateOptions,
  evaluateFilter,
  incompatibleOperandsMessage,
  ODataEvaluationError,
  type ODataExpression,
  type ODataQueryOptions,
  ODataSyntaxError,
  type PropertyLookup,
  parseQueryOptions,
  walkExpression,
} from "../core/odata/index.ts";
import type { SandboxRequest } from "../core/types.ts";
import { badQuery } from "./errors.ts";
import type { EntityInfo } from "./rows.ts";

/** Default and maximum page size of standard tables. */
export const MAX_PAGE_SIZE = 5000;

/** Functions Dataverse's Web API accepts in `$filter` (standard query functions). */
const FUNCTIONS = ["contains", "startswith", "endswith"];

/** A navigation property an entity can expand. */
export interface Navigation {
  /** The target entity's metadata (for errors and nested options). */
  target: EntityInfo;
  /** Collection-valued (N:N) or single-valued. */
  collection: boolean;
  /** The related wire rows of one parent wire row. */
  related(parent: Record<string, unknown>): Record<string, unknown>[];
}

/** Parses and checks a request's query options; throws DataverseHttpError (400 0x80060888). */
export function parseDataverseQuery(req: SandboxRequest): ODataQueryOptions {
  let options: ODataQueryOptions;
  try {
    options = parseQueryOptions(req.url.searchParams);
  } catch (e) {
    if (e instanceof ODataSyntaxError) {
      throw badQuery(
        e.message.startsWith("Syntax error")
          ? e.message
          : `Syntax error at position ${e.position} in '${e.text}': ${e.message}`,
      );
    }
    throw e;
  }
  for (const unsupported of ["skip", "search", "format"] as const) {
    if (options[unsupported] !== undefined)
      throw badQuery(`The query parameter $${unsupported} is not supported`);
  }
  const unknown = options.unknown[0];
  if (unknown !== undefined) throw badQuery(`The query parameter ${unknown} is not supported`);
  return options;
}

function propertyNotFound(entity: EntityInfo, name: string) {
  return badQuery(
    `Could not find a property named '${name}' on type 'Microsoft.Dynamics.CRM.${entity.logicalName}'.`,
  );
}

/** The property lookup for `$filter`: exact names, plus lookup names standing for `_x_value`. */
function lookupFor(entity: EntityInfo): PropertyLookup {
  return (row, name) => {
    const own = caseSensitiveLookup(row, name);
    if (own) return own;
    if (entity.lookups.includes(name)) return { value: row[`_${name}_value`] ?? null };
    return undefined;
  };
}

function checkFilter(entity: EntityInfo, expression: ODataExpression): void {
  walkExpression(expression, (node) => {
    if (node.kind === "call" && !FUNCTIONS.includes(node.name)) {
      throw badQuery(`'${node.name}' is an unknown function or is not supported in $filter.`);
    }
    if (node.kind === "binary" && comparisonOperatorKind(node.op)) {
      // Dataverse types its columns: comparing a GUID column with a quoted string is refused.
      const pairs: [ODataExpression, ODataExpression][] = [
        [node.left, node.right],
        [node.right, node.left],
      ];
      for (const [a, b] of pairs) {
        if (a.kind !== "property" || b.kind !== "literal" || b.type !== "string") continue;
        const last = a.path[a.path.length - 1] as string;
        if (entity.guidColumns.includes(last) || entity.lookups.includes(last)) {
          throw badQuery(incompatibleOperandsMessage("Edm.Guid", "Edm.String", node.op));
        }
      }
    }
  });
}

function filterRows(
  entity: EntityInfo,
  rows: Record<string, unknown>[],
  options: ODataQueryOptions,
  navigations: Record<string, Navigation>,
): Record<string, unknown>[] {
  const evaluate: EvaluateOptions = { lookup: lookupFor(entity) };
  let result = rows;
  if (options.filter) {
    checkFilter(entity, options.filter.expression);
    const usesNav = Object.keys(navigations).filter((n) => options.filter?.text.includes(n));
    try {
      result = result.filter((row) => {
        let view = row;
        if (usesNav.length > 0) {
          view = { ...row };
          for (const n of usesNav) {
            const nav = navigations[n] as Navigation;
            view[n] = nav.collection ? nav.related(row) : (nav.related(row)[0] ?? null);
          }
        }
        return evaluateFilter(options.filter?.expression as ODataExpression, view, evaluate);
      });
    } catch (e) {
      if (e instanceof ODataEvaluationError && e.reason === "unknownProperty")
        throw propertyNotFound(entity, e.detail);
      if (e instanceof ODataEvaluationError) throw badQuery(e.message);
      throw e;
    }
  }
  if (options.orderby) {
    for (const o of options.orderby) {
      const head = o.path[0] as string;
      if (!(head in (rows[0] ?? {})) && rows.length > 0) throw propertyNotFound(entity, head);
    }
    result = applyOrderBy(result, options.orderby, evaluate);
  }
  return result;
}

/** Applies `$select` (the primary key and `@odata.etag` always stay, as Dataverse returns them). */
function selectColumns(entity: EntityInfo, row: Record<string, unknown>, select: string[] | undefined) {
  if (!select || select.includes("*")) return { ...row };
  const out: Record<string, unknown> = { "@odata.etag": row["@odata.etag"] };
  for (const name of select) {
    if (!(name in row)) throw propertyNotFound(entity, name);
    out[name] = row[name];
  }
  out[entity.primaryKey] = row[entity.primaryKey];
  return out;
}

function contextSelect(options: ODataQueryOptions): string {
  const parts = [...(options.select ?? [])];
  for (const e of options.expand ?? []) {
    parts.push(`${e.path.join("/")}(${(e.options.select ?? []).join(",")})`);
  }
  return parts.length > 0 ? `(${parts.join(",")})` : "";
}

/** Shapes one row: `$select` then `$expand`. */
export function shapeRow(
  entity: EntityInfo,
  row: Record<string, unknown>,
  options: ODataQueryOptions,
  navigations: Record<string, Navigation>,
  apiBase?: string,
): Record<string, unknown> {
  const out = selectColumns(entity, row, options.select);
  for (const e of options.expand ?? []) {
    const name = e.path.join("/");
    const nav = navigations[name];
    if (!nav) throw propertyNotFound(entity, name);
    if (e.options.expand) {
      // Reference §13 item 7d: no nested $expand inside an N:N expansion.
      throw badQuery(
        `Nested $expand is not supported on the collection-valued navigation property '${name}'.`,
      );
    }
    for (const o of ["skip", "search", "format", "count"] as const) {
      if (e.options[o] !== undefined)
        throw badQuery(`The query option $${o} is not supported inside $expand.`);
    }
    const related = filterRows(nav.target, nav.related(row), e.options, {});
    const limited = e.options.top !== undefined ? related.slice(0, e.options.top) : related;
    const shaped = limited.map((r) => selectColumns(nav.target, r, e.options.select));
    out[name] = nav.collection ? shaped : (shaped[0] ?? null);
    // In a collection query, every row carries a paging-free link to its expanded collection;
    // the list beside it is complete (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/join-tables,
    // "Single $expand on collection-valued navigation properties"). A single-row GET has none.
    if (nav.collection && apiBase !== undefined) {
      out[`${name}@odata.nextLink`] =
        `${apiBase}/${entity.setName}(${String(row[entity.primaryKey])})/${name}${nestedQuery(e.options)}`;
    }
  }
  return out;
}

/** The nested options of an expansion as a query string (`?$select=a,b&$filter=…`). */
function nestedQuery(options: ODataQueryOptions): string {
  const parts: string[] = [];
  if (options.select) parts.push(`$select=${options.select.join(",")}`);
  if (options.filter) parts.push(`$filter=${encodeURIComponent(options.filter.text)}`);
  if (options.orderby)
    parts.push(
      `$orderby=${encodeURIComponent(options.orderby.map((o) => `${o.path.join("/")} ${o.direction}`).join(","))}`,
    );
  if (options.top !== undefined) parts.push(`$top=${options.top}`);
  return parts.length > 0 ? `?${parts.join("&")}` : "";
}

/** Parses `Prefer: odata.maxpagesize=N`. */
function maxPageSize(req: SandboxRequest): number | undefined {
  const m = /odata\.maxpagesize\s*=\s*"?(\d+)/i.exec(req.headers.prefer ?? "");
  return m ? Number(m[1]) : undefined;
}

function encodeSkiptoken(page: number, offset: number): string {
  const cookie = encodeURIComponent(encodeURIComponent(`<cookie page="${page - 1}" offset="${offset}" />`));
  return `<cookie pagenumber="${page}" pagingcookie="${cookie}" istracking="False" />`;
}

function decodeSkiptoken(token: string): { page: number; offset: number } {
  const page = /pagenumber="(\d+)"/.exec(token);
  const cookie = /pagingcookie="([^"]*)"/.exec(token);
  if (page && cookie) {
    try {
      const inner = decodeURIComponent(decodeURIComponent(cookie[1] as string));
      const offset = /offset="(\d+)"/.exec(inner);
      if (offset) return { page: Number(page[1]), offset: Number(offset[1]) };
    } catch {
      // fall through to the error below
    }
  }
  throw badQuery("The $skiptoken value is not valid.");
}

/** Renders a collection response (filter, order, count, paging, select, expand). */
export function collectionResponse(
  req: SandboxRequest,
  entity: EntityInfo,
  rows: Record<string, unknown>[],
  navigations: Record<string, Navigation>,
  apiBase: string,
  expandNextLinks = false,
): { body: Record<string, unknown>; headers: Record<string, string> } {
  const options = parseDataverseQuery(req);
  const matched = filterRows(entity, rows, options, navigations);
  const preferred = maxPageSize(req);
  const headers: Record<string, string> = {};
  let pageSize: number;
  if (preferred !== undefined && preferred > 0) {
    pageSize = Math.min(preferred, MAX_PAGE_SIZE);
    headers["Preference-Applied"] = `odata.maxpagesize=${pageSize}`;
  } else pageSize = MAX_PAGE_SIZE;
  // $top applies only without maxpagesize (reference §4: "$top is ignored when combined with maxpagesize").
  const candidates =
    preferred === undefined && options.top !== undefined ? matched.slice(0, options.top) : matched;
  const { page, offset } = options.skiptoken ? decodeSkiptoken(options.skiptoken) : { page: 1, offset: 0 };
  const slice = candidates.slice(offset, offset + pageSize);
  const body: Record<string, unknown> = {
    "@odata.context": `${apiBase}/$metadata#${entity.setName}${contextSelect(options)}`,
  };
  if (options.count) body["@odata.count"] = Math.min(candidates.length, MAX_PAGE_SIZE);
  body.value = slice.map((r) =>
    shapeRow(entity, r, options, navigations, expandNextLinks ? apiBase : undefined),
  );
  if (offset + pageSize < candidates.length) {
    const next = new URL(req.url.href);
    next.searchParams.set("$skiptoken", encodeSkiptoken(page + 1, offset + pageSize));
    body["@odata.nextLink"] = next.href;
  }
  return { body, headers };
}

/** Renders a single-entity response (`$select`/`$expand` only). */
export function entityResponse(
  req: SandboxRequest,
  entity: EntityInfo,
  row: Record<string, unknown>,
  navigations: Record<string, Navigation>,
  apiBase: string,
): Record<string, unknown> {
  const options = parseDataverseQuery(req);
  for (const o of ["filter", "top", "orderby", "count", "skiptoken"] as const) {
    if (options[o] !== undefined)
      throw badQuery(`The query parameter $${o} is not supported on a single entity.`);
  }
  return {
    "@odata.context": `${apiBase}/$metadata#${entity.setName}${contextSelect(options)}/$entity`,
    ...shapeRow(entity, row, options, navigations),
  };
}
