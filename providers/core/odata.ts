/**
 * OData literal, key and `$filter` construction, used by every `$filter` and key of the three
 * APIs (OData v4 ABNF: string literals are single-quoted, a quote inside is doubled;
 * https://docs.oasis-open.org/odata/odata/v4.01/odata-v4.01-part2-url-conventions.html §5.1.1.6).
 *
 * Two layers, kept apart so nothing is escaped twice or not at all:
 * - literals and `$filter` text are OData syntax, not yet URL-encoded: pass them in
 *   `RequestOptions.query`, which percent-encodes every value (so `&`, `#`, `%`, `+` are safe);
 * - {@link odataKey} returns a path segment that is already percent-encoded, to splice into
 *   `RequestOptions.path`.
 */

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Property paths such as `_businessunitid_value` or `SecurityRole/Name`.
const PROPERTY_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\/[A-Za-z_][A-Za-z0-9_]*)*$/;
const QUALIFIED = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** Whether `value` is a GUID in its canonical 8-4-4-4-12 form. */
export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/** An OData string literal: `'O''Brien'`. Any string is accepted; quotes are doubled. */
export function odataString(value: string): string {
  if (typeof value !== "string") throw new TypeError(`odataString: expected a string, got ${typeof value}`);
  return `'${value.replace(/'/g, "''")}'`;
}

/** An OData GUID literal (unquoted in OData v4, lower-cased). Throws on anything but a GUID. */
export function odataGuid(value: string): string {
  if (!isGuid(value)) throw new TypeError(`odataGuid: "${value}" is not a GUID`);
  return value.toLowerCase();
}

/**
 * An OData enum literal: `Microsoft.Dynamics.DataEntities.NoYes'Yes'`, the qualified form F&O
 * documents (https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/odata).
 * F&O rejects plain ints or strings for enum properties (a community report; Microsoft documents
 * no other form).
 */
export function odataEnum(namespace: string, type: string, value: string): string {
  if (!QUALIFIED.test(namespace)) throw new TypeError(`odataEnum: invalid namespace "${namespace}"`);
  if (!IDENTIFIER.test(type)) throw new TypeError(`odataEnum: invalid type "${type}"`);
  if (!IDENTIFIER.test(value)) throw new TypeError(`odataEnum: invalid member "${value}"`);
  return `${namespace}.${type}'${value}'`;
}

/** A literal already in OData syntax (from {@link filter.guid} or {@link filter.enumValue}). */
export class ODataLiteral {
  /** The literal text, e.g. `3f2504e0-4f89-11d3-9a0c-0305e82c3301`. */
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toString(): string {
    return this.text;
  }
}

/** A value a filter comparison or key accepts: strings become quoted literals. */
export type ODataValue = string | number | boolean | null | ODataLiteral;

/** Renders a value as an OData literal. */
export function odataLiteral(value: ODataValue): string {
  if (value === null) return "null";
  if (value instanceof ODataLiteral) return value.text;
  if (typeof value === "string") return odataString(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`odataLiteral: ${value} is not a finite number`);
    return String(value);
  }
  throw new TypeError(`odataLiteral: unsupported value of type ${typeof value}`);
}

function property(name: string): string {
  if (!PROPERTY_PATH.test(name)) throw new TypeError(`odata: invalid property name "${name}"`);
  return name;
}

/** A `$filter` expression; only the builders below make one, so no raw text slips in. */
export class FilterExpression {
  /** The expression in OData syntax (not URL-encoded). */
  readonly text: string;
  /** Whether the expression is a single comparison or already parenthesized. */
  readonly atomic: boolean;
  constructor(text: string, atomic: boolean) {
    this.text = text;
    this.atomic = atomic;
  }
  toString(): string {
    return this.text;
  }
}

function compare(op: string) {
  return (name: string, value: ODataValue): FilterExpression =>
    new FilterExpression(`${property(name)} ${op} ${odataLiteral(value)}`, true);
}

function combine(op: "and" | "or", clauses: FilterExpression[]): FilterExpression {
  if (clauses.length === 0) throw new TypeError(`filter.${op}: needs at least one clause`);
  for (const c of clauses)
    if (!(c instanceof FilterExpression))
      throw new TypeError(`filter.${op}: clauses must be filter expressions`);
  if (clauses.length === 1) return clauses[0] as FilterExpression;
  return new FilterExpression(clauses.map((c) => (c.atomic ? c.text : `(${c.text})`)).join(` ${op} `), false);
}

/**
 * The `$filter` builder. Property names are checked, values rendered as literals:
 * `filter.and(filter.eq("Alias", upn), filter.eq("Enabled", true)).text`.
 */
export const filter = {
  eq: compare("eq"),
  ne: compare("ne"),
  gt: compare("gt"),
  ge: compare("ge"),
  lt: compare("lt"),
  le: compare("le"),
  /** All clauses must hold. */
  and: (...clauses: FilterExpression[]): FilterExpression => combine("and", clauses),
  /** Any clause holds. */
  or: (...clauses: FilterExpression[]): FilterExpression => combine("or", clauses),
  /**
   * Negation (Graph needs advanced-query headers for it:
   * https://learn.microsoft.com/graph/aad-advanced-queries).
   */
  not: (clause: FilterExpression): FilterExpression => new FilterExpression(`not (${clause.text})`, true),
  /**
   * `name eq v1 or name eq v2 …`, for services without `in`
   * (F&O: https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/odata).
   */
  anyOf: (name: string, values: ODataValue[]): FilterExpression =>
    combine(
      "or",
      values.map((v) => compare("eq")(name, v)),
    ),
  /** A GUID value (unquoted). */
  guid: (value: string): ODataLiteral => new ODataLiteral(odataGuid(value)),
  /** An enum value (F&O). */
  enumValue: (namespace: string, type: string, value: string): ODataLiteral =>
    new ODataLiteral(odataEnum(namespace, type, value)),
};

/**
 * Percent-encodes an OData literal for a URL path segment. Keeps `'`, `(`, `)` readable (they are
 * legal in a path segment); encodes `/`, `?`, `#`, `%`, `&`, spaces, control and non-ASCII
 * characters. Whether every host accepts `%2F` inside a key is UNCONFIRMED (IIS may refuse
 * encoded slashes): prefer a `$filter` lookup for values that may contain `/`.
 */
function encodeSegment(text: string): string {
  return encodeURIComponent(text);
}

/**
 * A key predicate as an encoded path segment: `odataKey("a'b")` → `('a''b')`,
 * `odataKey({ UserId: "x", SecurityRoleIdentifier: "y" })` → `(UserId='x',SecurityRoleIdentifier='y')`,
 * `odataKey(filter.guid(id))` → `(3f25…)`. Named parts keep the caller's order.
 */
export function odataKey(key: ODataValue | Record<string, ODataValue>): string {
  if (key !== null && typeof key === "object" && !(key instanceof ODataLiteral)) {
    const parts = Object.entries(key);
    if (parts.length === 0) throw new TypeError("odataKey: empty composite key");
    return `(${parts.map(([name, value]) => `${property(name)}=${encodeSegment(odataLiteral(value))}`).join(",")})`;
  }
  return `(${encodeSegment(odataLiteral(key))})`;
}

/**
 * Percent-encodes one query component (key or value). `$` stays literal in keys for readable
 * URLs (`$filter`); everything else that is not unreserved is encoded, so OData literals with
 * `&`, `#`, `+`, `%` or `=` survive.
 */
export function encodeQueryComponent(text: string, isKey = false): string {
  const encoded = encodeURIComponent(text);
  return isKey ? encoded.replace(/%24/g, "$") : encoded;
}

/** Builds `?a=b&c=d` from a record (empty string when there is nothing). */
export function buildQuery(query: Record<string, string> | undefined): string {
  if (!query) return "";
  const entries = Object.entries(query).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return "";
  return `?${entries.map(([k, v]) => `${encodeQueryComponent(k, true)}=${encodeQueryComponent(v)}`).join("&")}`;
}
