/**
 * The OData `$filter` evaluator: runs an expression tree against one row, with the property-name
 * policy (exact or case-insensitive), string comparison and F&O's `*` wildcard a service chooses.
 */
import { DATETIME } from "./lexer.ts";
import type { ODataExpression } from "./parser.ts";

/** An evaluation failure a service should render as a 400 (unknown property, bad function arity, ...). */
export class ODataEvaluationError extends Error {
  /** `unknownProperty` names the property in `detail`; `unknownFunction` the function. */
  readonly reason: "unknownProperty" | "unknownFunction" | "badArguments" | "notACollection";
  readonly detail: string;
  constructor(reason: ODataEvaluationError["reason"], detail: string, message: string) {
    super(message);
    this.name = "ODataEvaluationError";
    this.reason = reason;
    this.detail = detail;
  }
}

/** Finds a property on a row; returns `undefined` when the row has no such property (not when it is null). */
export type PropertyLookup = (row: Record<string, unknown>, name: string) => { value: unknown } | undefined;

/** Exact-case property names (F&O: a wrongly cased name is an error). */
export const caseSensitiveLookup: PropertyLookup = (row, name) =>
  Object.hasOwn(row, name) ? { value: row[name] } : undefined;

/** Case-insensitive property names (Graph accepts `userprincipalname` for `userPrincipalName`). */
export const caseInsensitiveLookup: PropertyLookup = (row, name) => {
  if (Object.hasOwn(row, name)) return { value: row[name] };
  const lower = name.toLowerCase();
  for (const key of Object.keys(row)) if (key.toLowerCase() === lower) return { value: row[key] };
  return undefined;
};

/** How the evaluator treats properties and strings. */
export interface EvaluateOptions {
  /** Property-name policy; default case-sensitive. */
  lookup?: PropertyLookup;
  /**
   * String comparison; default case-insensitive, as Entra, Dataverse (SQL collation) and F&O
   * compare strings in filters. GUIDs always compare case-insensitively.
   */
  stringComparison?: "ordinal" | "caseInsensitive";
  /** F&O: `*` inside a string literal compared with `eq` is a wildcard (fno-odata.md §8 item 4). */
  wildcardInEq?: boolean;
  /** What a property the row lacks evaluates to: `error` (default) throws `ODataEvaluationError`, `null` treats it as null. */
  unknownProperty?: "error" | "null";
}

type Scope = Map<string, unknown>;

function resolvePath(
  path: string[],
  row: Record<string, unknown>,
  scope: Scope,
  options: EvaluateOptions,
): unknown {
  const lookup = options.lookup ?? caseSensitiveLookup;
  let current: unknown;
  let segments = path;
  const head = path[0] as string;
  if (scope.has(head)) {
    current = scope.get(head);
    segments = path.slice(1);
  } else current = row;
  for (const seg of segments) {
    if (current === null || current === undefined) return null;
    if (typeof current !== "object" || Array.isArray(current)) {
      throw new ODataEvaluationError("unknownProperty", seg, `Could not find a property named '${seg}'.`);
    }
    const found = lookup(current as Record<string, unknown>, seg);
    if (!found) {
      if (options.unknownProperty === "null") return null;
      throw new ODataEvaluationError("unknownProperty", seg, `Could not find a property named '${seg}'.`);
    }
    current = found.value;
  }
  return current;
}

const GUID_FULL = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function normString(value: string, options: EvaluateOptions): string {
  if (GUID_FULL.test(value)) return value.toLowerCase();
  return (options.stringComparison ?? "caseInsensitive") === "caseInsensitive" ? value.toLowerCase() : value;
}

/** Orders two values (`undefined` when they do not compare), as `$filter` and `$orderby` do. */
export function compareValues(a: unknown, b: unknown, options: EvaluateOptions): number | undefined {
  if (a === null || a === undefined || b === null || b === undefined) return undefined;
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  if (typeof a === "string" && typeof b === "string") {
    const da = DATETIME.test(a) && a.length >= 10 ? Date.parse(a) : Number.NaN;
    const db = DATETIME.test(b) && b.length >= 10 ? Date.parse(b) : Number.NaN;
    if (!Number.isNaN(da) && !Number.isNaN(db)) return da - db;
    const x = normString(a, options);
    const y = normString(b, options);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === "number" && typeof b === "string" && b.trim() !== "" && !Number.isNaN(Number(b))) {
    return a - Number(b);
  }
  if (typeof a === "string" && typeof b === "number" && a.trim() !== "" && !Number.isNaN(Number(a))) {
    return Number(a) - b;
  }
  return undefined;
}

function isEqual(a: unknown, b: unknown, options: EvaluateOptions): boolean {
  const aNull = a === null || a === undefined;
  const bNull = b === null || b === undefined;
  if (aNull || bNull) return aNull && bNull;
  return compareValues(a, b, options) === 0;
}

function wildcardMatch(value: unknown, pattern: string, options: EvaluateOptions): boolean {
  if (typeof value !== "string") return false;
  const flags = (options.stringComparison ?? "caseInsensitive") === "caseInsensitive" ? "i" : "";
  const source = pattern
    .split("*")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`, flags).test(value);
}

function asString(value: unknown, fn: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "string") {
    throw new ODataEvaluationError("badArguments", fn, `The function '${fn}' expects string arguments.`);
  }
  return value;
}

function callFunction(name: string, args: unknown[], options: EvaluateOptions): unknown {
  const fn = name.toLowerCase();
  const ci = (options.stringComparison ?? "caseInsensitive") === "caseInsensitive";
  const fold = (s: string) => (ci ? s.toLowerCase() : s);
  const arity = (n: number) => {
    if (args.length !== n) {
      throw new ODataEvaluationError("badArguments", name, `The function '${name}' takes ${n} argument(s).`);
    }
  };
  switch (fn) {
    case "startswith":
    case "endswith":
    case "contains": {
      arity(2);
      const s = asString(args[0], name);
      const p = asString(args[1], name);
      if (s === null || p === null) return false;
      if (fn === "startswith") return fold(s).startsWith(fold(p));
      if (fn === "endswith") return fold(s).endsWith(fold(p));
      return fold(s).includes(fold(p));
    }
    case "tolower":
    case "toupper":
    case "trim":
    case "length": {
      arity(1);
      const s = asString(args[0], name);
      if (s === null) return null;
      if (fn === "tolower") return s.toLowerCase();
      if (fn === "toupper") return s.toUpperCase();
      if (fn === "trim") return s.trim();
      return s.length;
    }
    case "indexof": {
      arity(2);
      const s = asString(args[0], name);
      const p = asString(args[1], name);
      if (s === null || p === null) return null;
      return fold(s).indexOf(fold(p));
    }
    case "concat": {
      arity(2);
      const a = asString(args[0], name);
      const b = asString(args[1], name);
      return a === null || b === null ? null : a + b;
    }
    case "substring": {
      if (args.length !== 2 && args.length !== 3) {
        throw new ODataEvaluationError(
          "badArguments",
          name,
          `The function '${name}' takes 2 or 3 arguments.`,
        );
      }
      const s = asString(args[0], name);
      if (s === null) return null;
      const start = Number(args[1]);
      return args.length === 3 ? s.substr(start, Number(args[2])) : s.slice(start);
    }
    default:
      throw new ODataEvaluationError("unknownFunction", name, `Unknown function '${name}'.`);
  }
}

function evaluateIn(
  node: ODataExpression,
  row: Record<string, unknown>,
  scope: Scope,
  options: EvaluateOptions,
): unknown {
  switch (node.kind) {
    case "literal":
      return node.value;
    case "property":
      return resolvePath(node.path, row, scope, options);
    case "list":
      return node.items.map((item) => evaluateIn(item, row, scope, options));
    case "not": {
      const v = evaluateIn(node.operand, row, scope, options);
      return v === null || v === undefined ? null : !v;
    }
    case "call":
      return callFunction(
        node.name,
        node.args.map((arg) => evaluateIn(arg, row, scope, options)),
        options,
      );
    case "lambda": {
      const items = resolvePath(node.collection, row, scope, options);
      if (items === null || items === undefined) return node.quantifier === "all";
      if (!Array.isArray(items)) {
        const name = node.collection.join("/");
        throw new ODataEvaluationError("notACollection", name, `The property '${name}' is not a collection.`);
      }
      if (!node.predicate || !node.variable) return items.length > 0;
      const variable = node.variable;
      const predicate = node.predicate;
      const test = (item: unknown) => {
        const inner: Scope = new Map(scope);
        inner.set(variable, item);
        return evaluateIn(predicate, row, inner, options) === true;
      };
      return node.quantifier === "any" ? items.some(test) : items.every(test);
    }
    case "binary": {
      if (node.op === "and") {
        return (
          evaluateIn(node.left, row, scope, options) === true &&
          evaluateIn(node.right, row, scope, options) === true
        );
      }
      if (node.op === "or") {
        return (
          evaluateIn(node.left, row, scope, options) === true ||
          evaluateIn(node.right, row, scope, options) === true
        );
      }
      const left = evaluateIn(node.left, row, scope, options);
      const right = evaluateIn(node.right, row, scope, options);
      switch (node.op) {
        case "eq":
        case "ne": {
          let equal: boolean;
          if (
            options.wildcardInEq &&
            node.right.kind === "literal" &&
            node.right.type === "string" &&
            node.right.value.includes("*")
          ) {
            equal = wildcardMatch(left, node.right.value, options);
          } else equal = isEqual(left, right, options);
          return node.op === "eq" ? equal : !equal;
        }
        case "in":
          return Array.isArray(right) && right.some((candidate) => isEqual(left, candidate, options));
        case "has":
          // Flags enums: the members the literal names must all be set ("A,B" string form).
          if (typeof left !== "string" || typeof right !== "string") return false;
          return right
            .split(",")
            .every((flag) =>
              left.split(",").some((have) => have.trim().toLowerCase() === flag.trim().toLowerCase()),
            );
        default: {
          const order = compareValues(left, right, options);
          if (order === undefined) return false;
          if (node.op === "gt") return order > 0;
          if (node.op === "ge") return order >= 0;
          if (node.op === "lt") return order < 0;
          return order <= 0;
        }
      }
    }
  }
}

/**
 * Evaluates a parsed `$filter` against one row; true only when the expression is `true`
 * (a null result excludes the row, as OData specifies).
 * @throws ODataEvaluationError for unknown properties (per `options.unknownProperty`) or functions.
 */
export function evaluateFilter(
  expression: ODataExpression,
  row: Record<string, unknown>,
  options: EvaluateOptions = {},
): boolean {
  return evaluateIn(expression, row, new Map(), options) === true;
}

/** Returns the value of a single expression for a row (e.g. an `$orderby` property path). */
export function evaluateValue(
  expression: ODataExpression,
  row: Record<string, unknown>,
  options: EvaluateOptions = {},
): unknown {
  return evaluateIn(expression, row, new Map(), options);
}
