/**
 * System query options (`$filter`, `$select`, `$top`, `$skip`, `$orderby`, `$count`, `$expand`
 * with nested options, `$search`, `$skiptoken`, `$format`): parsing from a URL, and applying
 * `$select` and `$orderby` to rows. Which options a service accepts is the service's decision.
 */
import {
  caseSensitiveLookup,
  compareValues,
  type EvaluateOptions,
  evaluateValue,
  type PropertyLookup,
} from "./evaluator.ts";
import { ODataSyntaxError } from "./lexer.ts";
import { type ODataExpression, parseFilter } from "./parser.ts";

/** One `$orderby` item. */
export interface ODataOrderBy {
  path: string[];
  direction: "asc" | "desc";
}

/** One `$expand` item with its nested options (`nav($select=a,b;$filter=...)`). */
export interface ODataExpand {
  path: string[];
  options: ODataQueryOptions;
}

/** Parsed system query options; absent options are undefined. */
export interface ODataQueryOptions {
  filter?: { text: string; expression: ODataExpression };
  select?: string[];
  top?: number;
  skip?: number;
  orderby?: ODataOrderBy[];
  count?: boolean;
  expand?: ODataExpand[];
  search?: string;
  skiptoken?: string;
  format?: string;
  /** `$`-prefixed option names this module does not know (services decide whether to refuse them). */
  unknown: string[];
  /** Non-`$` parameters (e.g. F&O `cross-company`, Graph `api-version`), as given. */
  custom: Record<string, string>;
}

/** How option names are matched. */
export interface ParseQueryOptions {
  /** Accept `$TOP` for `$top` (Graph does; Dataverse/F&O are case-sensitive). Default false. */
  caseInsensitiveNames?: boolean;
  /** Accept options without the `$` prefix (`top=5`), as Graph v1.0 does. Default false. */
  dollarOptional?: boolean;
}

const KNOWN = [
  "filter",
  "select",
  "top",
  "skip",
  "orderby",
  "count",
  "expand",
  "search",
  "skiptoken",
  "format",
];

function nonNegativeInteger(value: string, option: string): number {
  if (!/^\s*\d+\s*$/.test(value)) {
    throw new ODataSyntaxError(
      `Invalid value '${value}' for ${option}: expected a non-negative integer.`,
      value,
      0,
      option,
    );
  }
  return Number(value.trim());
}

/** Splits on `sep` at parenthesis depth 0 and outside string literals. */
function splitTopLevel(text: string, sep: string): { part: string; start: number }[] {
  const parts: { part: string; start: number }[] = [];
  let depth = 0;
  let inString = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'") inString = !inString;
    else if (!inString && ch === "(") depth++;
    else if (!inString && ch === ")") depth--;
    else if (!inString && depth === 0 && ch === sep) {
      parts.push({ part: text.slice(start, i), start });
      start = i + 1;
    }
  }
  parts.push({ part: text.slice(start), start });
  return parts;
}

function parsePathList(text: string, option: string): string[] {
  return splitTopLevel(text, ",").map(({ part, start }) => {
    const name = part.trim();
    if (!/^(\*|[A-Za-z_@][\w.@]*(\/[A-Za-z_@][\w.@]*)*)$/.test(name)) {
      throw new ODataSyntaxError(
        `Syntax error in ${option} at position ${start}: '${name}' is not a property path.`,
        text,
        start,
        option,
      );
    }
    return name;
  });
}

function parseOrderBy(text: string): ODataOrderBy[] {
  return splitTopLevel(text, ",").map(({ part, start }) => {
    const match = /^\s*([A-Za-z_@][\w.@]*(?:\/[A-Za-z_@][\w.@]*)*)(?:\s+(asc|desc))?\s*$/.exec(part);
    if (!match) {
      throw new ODataSyntaxError(
        `Syntax error in $orderby at position ${start}: '${part.trim()}' is not 'property [asc|desc]'.`,
        text,
        start,
        "$orderby",
      );
    }
    return { path: (match[1] as string).split("/"), direction: (match[2] ?? "asc") as "asc" | "desc" };
  });
}

function parseExpand(text: string, names: ParseQueryOptions): ODataExpand[] {
  return splitTopLevel(text, ",").map(({ part, start }) => {
    const trimmed = part.trim();
    const match = /^([A-Za-z_@][\w.@]*(?:\/[A-Za-z_@][\w.@]*)*)\s*(?:\((.*)\))?$/s.exec(trimmed);
    if (!match) {
      throw new ODataSyntaxError(
        `Syntax error in $expand at position ${start}: '${trimmed}' is not 'navigation[(options)]'.`,
        text,
        start,
        "$expand",
      );
    }
    const params = new Map<string, string>();
    const nested = match[2];
    if (nested !== undefined && nested.trim() !== "") {
      for (const { part: option } of splitTopLevel(nested, ";")) {
        const eq = option.indexOf("=");
        if (eq < 0) {
          throw new ODataSyntaxError(
            `Syntax error in $expand: '${option}' is not 'option=value'.`,
            text,
            start,
            "$expand",
          );
        }
        params.set(option.slice(0, eq).trim(), option.slice(eq + 1).trim());
      }
    }
    return { path: (match[1] as string).split("/"), options: parseOptionMap(params, names) };
  });
}

function parseOptionMap(params: Map<string, string>, names: ParseQueryOptions): ODataQueryOptions {
  const result: ODataQueryOptions = { unknown: [], custom: {} };
  for (const [rawName, value] of params) {
    let name = rawName;
    const dollar = name.startsWith("$");
    if (dollar) name = name.slice(1);
    const key = names.caseInsensitiveNames ? name.toLowerCase() : name;
    if (!KNOWN.includes(key) || (!dollar && !names.dollarOptional)) {
      if (dollar) result.unknown.push(rawName);
      else result.custom[rawName] = value;
      continue;
    }
    const option = `$${key}`;
    switch (key) {
      case "filter":
        result.filter = { text: value, expression: parseFilter(value) };
        break;
      case "select":
        result.select = parsePathList(value, option);
        break;
      case "top":
        result.top = nonNegativeInteger(value, option);
        break;
      case "skip":
        result.skip = nonNegativeInteger(value, option);
        break;
      case "orderby":
        result.orderby = parseOrderBy(value);
        break;
      case "count": {
        const lower = value.trim().toLowerCase();
        if (lower !== "true" && lower !== "false") {
          throw new ODataSyntaxError(
            `Invalid value '${value}' for $count: expected true or false.`,
            value,
            0,
            option,
          );
        }
        result.count = lower === "true";
        break;
      }
      case "expand":
        result.expand = parseExpand(value, names);
        break;
      case "search":
        result.search = value;
        break;
      case "skiptoken":
        result.skiptoken = value;
        break;
      case "format":
        result.format = value;
        break;
    }
  }
  return result;
}

/**
 * Parses the system query options of a request URL (`url.searchParams`, already percent-decoded).
 * A repeated option is a syntax error, as OData requires each system option at most once.
 * @throws ODataSyntaxError naming the option (`err.option`) and the position inside its value.
 */
export function parseQueryOptions(params: URLSearchParams, names: ParseQueryOptions = {}): ODataQueryOptions {
  const map = new Map<string, string>();
  const seen = new Set<string>();
  for (const [name, value] of params) {
    const key = names.caseInsensitiveNames ? name.toLowerCase() : name;
    if (seen.has(key) && name.startsWith("$")) {
      throw new ODataSyntaxError(`Query option '${name}' was specified more than once.`, value, 0, name);
    }
    seen.add(key);
    map.set(name, value);
  }
  return parseOptionMap(map, names);
}

/** Applies `$select` to a row: keeps the named top-level properties (case-sensitively unless a lookup is given). */
export function applySelect(
  row: Record<string, unknown>,
  select: string[] | undefined,
  lookup: PropertyLookup = caseSensitiveLookup,
): Record<string, unknown> {
  if (!select || select.includes("*")) return { ...row };
  const out: Record<string, unknown> = {};
  for (const name of select) {
    const head = name.split("/")[0] as string;
    const found = lookup(row, head);
    if (found) {
      const actual =
        Object.keys(row).find((k) => k === head) ??
        Object.keys(row).find((k) => k.toLowerCase() === head.toLowerCase());
      out[actual ?? head] = found.value;
    }
  }
  return out;
}

/** Sorts rows by `$orderby` (stable; nulls first ascending, as SQL-backed services do). */
export function applyOrderBy<T extends Record<string, unknown>>(
  rows: T[],
  orderby: ODataOrderBy[] | undefined,
  options: EvaluateOptions = {},
): T[] {
  if (!orderby || orderby.length === 0) return rows;
  const keyed = rows.map((row, index) => ({
    row,
    index,
    keys: orderby.map((o) => evaluateValue({ kind: "property", path: o.path }, row, options)),
  }));
  keyed.sort((a, b) => {
    for (let i = 0; i < orderby.length; i++) {
      const x = a.keys[i];
      const y = b.keys[i];
      const dir = orderby[i]?.direction === "desc" ? -1 : 1;
      const xNull = x === null || x === undefined;
      const yNull = y === null || y === undefined;
      if (xNull || yNull) {
        if (xNull && yNull) continue;
        return (xNull ? -1 : 1) * dir;
      }
      const order = compareValues(x, y, options) ?? 0;
      if (order !== 0) return order * dir;
    }
    return a.index - b.index;
  });
  return keyed.map((k) => k.row);
}
