/**
 * F&O's use of the shared OData query module: which options, operators and functions it
 * accepts, how it compares values, `cross-company`, and server-driven paging.
 *
 * Behaviour per reference fno-odata.md §2.8 and §8 items 4–5
 * (https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/odata):
 *   - `$filter` with eq/ne/gt/ge/lt/le/and/or/not; `*` inside an `eq` string literal is a wildcard;
 *   - string functions (`contains()`, `startswith()`, ...) are refused with 400, as are `in`/`has`;
 *   - enum properties compare only with qualified literals
 *     (`Microsoft.Dynamics.DataEntities.NoYes'Yes'`) and only with eq/ne;
 *   - property names are case-sensitive everywhere (`$select=UserId` on SystemUsers → 400);
 *   - strings compare case-insensitively (SQL Server collation);
 *   - pages hold at most 10,000 rows, continued by `@odata.nextLink` (which carries `$skip`);
 *   - `cross-company=true` matters only for company-specific sets (the security sets are shared).
 */

import {
  applyOrderBy,
  type EvaluateOptions,
  evaluateFilter,
  incompatibleOperandsMessage,
  type ODataExpression,
  type ODataQueryOptions,
  ODataSyntaxError,
  parseQueryOptions,
  walkExpression,
} from "../core/odata/index.ts";
import {
  edmType,
  FNO_ENUMS,
  FNO_NAMESPACE,
  type FnoEntityRow,
  type FnoEntitySetDef,
  findProperty,
  qualifiedType,
} from "./model.ts";

/** F&O's maximum page size for server-driven paging. */
export const FNO_MAX_PAGE_SIZE = 10_000;

/** A validated F&O query. */
export interface FnoQuery {
  options: ODataQueryOptions;
  /** `cross-company=true` was given. */
  crossCompany: boolean;
}

/** A query the service refuses; `message` becomes `innererror.message` of a 400. */
export class FnoQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FnoQueryError";
  }
}

const EVALUATE: EvaluateOptions = { stringComparison: "caseInsensitive", wildcardInEq: true };

function unknownProperty(def: FnoEntitySetDef, name: string): FnoQueryError {
  return new FnoQueryError(`Could not find a property named '${name}' on type '${qualifiedType(def)}'.`);
}

/** The Edm-ish type of an operand, for compatibility checks ("null" fits anything). */
function operandType(def: FnoEntitySetDef, node: ODataExpression): string | undefined {
  if (node.kind === "property") {
    const p = findProperty(def, node.path[0] as string);
    return p ? edmType(p) : undefined;
  }
  if (node.kind === "literal") {
    switch (node.type) {
      case "string":
        return "Edm.String";
      case "boolean":
        return "Edm.Boolean";
      case "number":
        return Number.isInteger(node.value) ? "Edm.Int32" : "Edm.Decimal";
      case "guid":
        return "Edm.Guid";
      case "datetime":
        return "Edm.DateTimeOffset";
      case "null":
        return "null";
      case "enum":
        return node.enumType;
    }
  }
  return undefined;
}

function compatible(a: string, b: string): boolean {
  if (a === "null" || b === "null" || a === b) return true;
  // A GUID property may be compared with a quoted string and vice versa.
  const stringish = new Set(["Edm.String", "Edm.Guid"]);
  return stringish.has(a) && stringish.has(b);
}

/** Refuses what F&O refuses in a `$filter` (see the module comment). */
function validateFilter(def: FnoEntitySetDef, expression: ODataExpression): void {
  walkExpression(expression, (node) => {
    switch (node.kind) {
      case "call":
        throw new FnoQueryError(
          `The function '${node.name}' is not supported. Use the '*' wildcard in an 'eq' comparison instead.`,
        );
      case "lambda":
        throw new FnoQueryError(`Lambda operators ('any'/'all') are not supported.`);
      case "property": {
        if (node.path.length > 1) throw unknownProperty(def, node.path.join("/"));
        if (!findProperty(def, node.path[0] as string)) throw unknownProperty(def, node.path[0] as string);
        break;
      }
      case "literal": {
        if (node.type === "enum") {
          const dot = node.enumType.lastIndexOf(".");
          const ns = node.enumType.slice(0, dot);
          const name = node.enumType.slice(dot + 1);
          const members = FNO_ENUMS[name];
          if (ns !== FNO_NAMESPACE || !members) {
            throw new FnoQueryError(`The type '${node.enumType}' is not an enum type of this service.`);
          }
          if (!Object.hasOwn(members, node.value)) {
            throw new FnoQueryError(
              `The value '${node.value}' is not a valid member of enum type '${node.enumType}'.`,
            );
          }
        }
        break;
      }
      case "binary": {
        if (node.op === "has" || node.op === "in") {
          throw new FnoQueryError(`The operator '${node.op}' is not supported.`);
        }
        if (node.op === "and" || node.op === "or") break;
        const left = operandType(def, node.left);
        const right = operandType(def, node.right);
        if (left === undefined || right === undefined) break; // nested expressions: checked at their own level
        const isEnum = (t: string) => t.startsWith(`${FNO_NAMESPACE}.`);
        if (!compatible(left, right)) {
          throw new FnoQueryError(incompatibleOperandsMessage(left, right, node.op));
        }
        if ((isEnum(left) || isEnum(right)) && node.op !== "eq" && node.op !== "ne") {
          throw new FnoQueryError(`Enum values can only be compared with 'eq' and 'ne'.`);
        }
        break;
      }
      default:
        break;
    }
  });
}

function checkPropertyList(def: FnoEntitySetDef, names: string[]): void {
  for (const name of names) {
    if (name === "*") continue;
    if (name.includes("/") || !findProperty(def, name)) throw unknownProperty(def, name);
  }
}

/**
 * Parses and validates the query options of a request for `def`.
 * @throws FnoQueryError for anything F&O answers with 400.
 */
export function parseFnoQuery(url: URL, def: FnoEntitySetDef): FnoQuery {
  let options: ODataQueryOptions;
  try {
    options = parseQueryOptions(url.searchParams);
  } catch (err) {
    if (err instanceof ODataSyntaxError) throw new FnoQueryError(err.message);
    throw err;
  }
  const unknown = options.unknown[0];
  if (unknown !== undefined) throw new FnoQueryError(`The query parameter '${unknown}' is not supported.`);
  if (options.search !== undefined)
    throw new FnoQueryError(`The query parameter '$search' is not supported.`);
  if (options.filter) validateFilter(def, options.filter.expression);
  if (options.select) checkPropertyList(def, options.select);
  if (options.orderby)
    checkPropertyList(
      def,
      options.orderby.map((o) => o.path.join("/")),
    );
  const expand = options.expand?.[0];
  // No navigation properties are emulated, so every $expand names an unknown property.
  if (expand) throw unknownProperty(def, expand.path.join("/"));
  const crossCompany = (options.custom["cross-company"] ?? "").toLowerCase() === "true";
  return { options, crossCompany };
}

/** Rows visible to the caller: company-specific sets are limited to the session company unless cross-company. */
export function scopeRows(
  def: FnoEntitySetDef,
  rows: FnoEntityRow[],
  crossCompany: boolean,
  sessionCompany: string,
): FnoEntityRow[] {
  if (!def.companySpecific || crossCompany) return rows;
  const company = sessionCompany.toLowerCase();
  return rows.filter((r) => String(r.values.dataAreaId ?? "").toLowerCase() === company);
}

/** True when `row` matches the query's `$filter` (or there is none). */
export function matchesFilter(row: FnoEntityRow, query: FnoQuery): boolean {
  const filter = query.options.filter;
  return !filter || evaluateFilter(filter.expression, row.values, EVALUATE);
}

/** One page of a collection read. */
export interface FnoPage {
  rows: FnoEntityRow[];
  /** Total matching rows (for `$count=true`). */
  count: number;
  /** `$skip`/`$top` for the next page, when there is one. */
  next?: { skip: number; top?: number };
}

/** Filters, orders and pages `rows` as F&O does (the page never exceeds 10,000 rows). */
export function runQuery(
  def: FnoEntitySetDef,
  rows: FnoEntityRow[],
  query: FnoQuery,
  pageSize = FNO_MAX_PAGE_SIZE,
): FnoPage {
  const matched = rows.filter((r) => matchesFilter(r, query));
  // Enums sort by their numeric value (as stored in SQL), not by member name.
  const enumProps = def.properties.filter((p) => p.type.kind === "enum");
  const sortable = (r: FnoEntityRow): Record<string, unknown> => {
    const values: Record<string, unknown> = { ...r.values, __row: r };
    for (const p of enumProps) {
      if (p.type.kind === "enum")
        values[p.name] = FNO_ENUMS[p.type.enumName]?.[String(r.values[p.name])] ?? null;
    }
    return values;
  };
  const ordered = applyOrderBy(matched.map(sortable), query.options.orderby, EVALUATE).map(
    (o) => o.__row as FnoEntityRow,
  );
  const skip = query.options.skip ?? 0;
  const top = query.options.top;
  const wanted =
    top === undefined ? ordered.length - skip : Math.min(top, Math.max(ordered.length - skip, 0));
  const take = Math.min(wanted, pageSize);
  const page = ordered.slice(skip, skip + Math.max(take, 0));
  const result: FnoPage = { rows: page, count: matched.length };
  if (take < wanted) {
    result.next = { skip: skip + take };
    if (top !== undefined) result.next.top = top - take;
  }
  return result;
}

/** The `@odata.nextLink` for `next`: the request URL with `$skip` (and `$top`) replaced. */
export function nextLink(url: URL, next: { skip: number; top?: number }): string {
  const link = new URL(url.href);
  link.searchParams.delete("$skip");
  link.searchParams.delete("$top");
  if (next.top !== undefined) link.searchParams.set("$top", String(next.top));
  link.searchParams.set("$skip", String(next.skip));
  return link.href;
}
