/**
 * OData v4 query parsing and evaluation for the sandbox's services (Graph, Dataverse, F&O).
 *
 * This module only parses and evaluates; each service decides which operators, functions and
 * options it allows and renders its own errors (Graph `Request_UnsupportedQuery`, Dataverse
 * `0x80060888`, F&O `innererror`). Grammar after OData v4.01 URL conventions, §5.1.1
 * (https://docs.oasis-open.org/odata/odata/v4.01/odata-v4.01-part2-url-conventions.html):
 * operator precedence is primary → unary (`not`) → relational/equality → `and` → `or`.
 * The providers have their own escaping; nothing here is shared with them (design.md, principle 8).
 */

/** A literal value in a `$filter` expression. */
export type ODataLiteral =
  | { kind: "literal"; type: "string"; value: string }
  | { kind: "literal"; type: "number"; value: number; raw: string }
  | { kind: "literal"; type: "boolean"; value: boolean }
  | { kind: "literal"; type: "null"; value: null }
  | { kind: "literal"; type: "guid"; value: string }
  | { kind: "literal"; type: "datetime"; value: string }
  /** A qualified enum literal, e.g. `Microsoft.Dynamics.DataEntities.NoYes'Yes'`: `enumType` is the qualified name. */
  | { kind: "literal"; type: "enum"; value: string; enumType: string };

/** Comparison and logical operators (`in` takes a `list` on its right; `has` is parsed so services can refuse it). */
export type ODataBinaryOperator = "eq" | "ne" | "gt" | "ge" | "lt" | "le" | "and" | "or" | "has" | "in";

/** A parsed `$filter` expression. */
export type ODataExpression =
  | ODataLiteral
  /** A property path such as `manager/displayName` (segments as written; casing preserved). */
  | { kind: "property"; path: string[] }
  | { kind: "binary"; op: ODataBinaryOperator; left: ODataExpression; right: ODataExpression }
  | { kind: "not"; operand: ODataExpression }
  /** A function call; `name` as written (Graph writes `startsWith`, others `startswith`). */
  | { kind: "call"; name: string; args: ODataExpression[] }
  /** `path/any(v: predicate)` or `path/all(v: predicate)`; `any()` without a lambda has no variable. */
  | {
      kind: "lambda";
      quantifier: "any" | "all";
      collection: string[];
      variable?: string;
      predicate?: ODataExpression;
    }
  /** The parenthesised list on the right of `in`. */
  | { kind: "list"; items: ODataExpression[] };

/** A `$filter`/query-option syntax error, with the 0-based position in the option's text. */
export class ODataSyntaxError extends Error {
  /** Position in `text` where parsing failed. */
  readonly position: number;
  /** The text that was being parsed. */
  readonly text: string;
  /** The query option at fault, e.g. `$filter`, when known. */
  option: string | undefined;
  constructor(message: string, text: string, position: number, option?: string) {
    super(message);
    this.name = "ODataSyntaxError";
    this.text = text;
    this.position = position;
    this.option = option;
  }
}

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

// ----------------------------------------------------------------------------------------------
// Tokenizer
// ----------------------------------------------------------------------------------------------

type Token =
  | { t: "ident"; v: string; pos: number }
  | { t: "string"; v: string; pos: number }
  | { t: "number"; v: string; pos: number }
  | { t: "guid"; v: string; pos: number }
  | { t: "datetime"; v: string; pos: number }
  | { t: "typed"; type: string; v: string; pos: number }
  | { t: "punct"; v: "(" | ")" | "," | "/" | ":"; pos: number }
  | { t: "end"; pos: number };

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-])/;
const DATETIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?(?![\w:.-])/;
const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?(?![\w.])/;
const IDENT = /^[A-Za-z_$@][A-Za-z0-9_.]*/;

/**
 * Reads the single-quoted literal whose opening quote is at `start`; `''` inside stands for one
 * quote (ABNF SQUOTE-in-string). `end` is the index after the closing quote; `undefined` means the
 * literal is unterminated (each caller reports that in its own service's terms).
 */
export function scanQuotedLiteral(text: string, start: number): { value: string; end: number } | undefined {
  let i = start + 1;
  let out = "";
  for (;;) {
    const ch = text[i];
    if (ch === undefined) return undefined;
    if (ch === "'") {
      if (text[i + 1] === "'") {
        out += "'";
        i += 2;
        continue;
      }
      return { value: out, end: i + 1 };
    }
    out += ch;
    i++;
  }
}

function readQuoted(text: string, start: number): { value: string; end: number } {
  const literal = scanQuotedLiteral(text, start);
  if (!literal) throw new ODataSyntaxError(`Unterminated string literal at position ${start}.`, text, start);
  return literal;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r") {
      i++;
      continue;
    }
    if (ch === "(" || ch === ")" || ch === "," || ch === "/" || ch === ":") {
      tokens.push({ t: "punct", v: ch, pos: i });
      i++;
      continue;
    }
    if (ch === "'") {
      const { value, end } = readQuoted(text, i);
      tokens.push({ t: "string", v: value, pos: i });
      i = end;
      continue;
    }
    const rest = text.slice(i);
    const guid = GUID.exec(rest);
    if (guid) {
      tokens.push({ t: "guid", v: guid[0], pos: i });
      i += guid[0].length;
      continue;
    }
    const dt = DATETIME.exec(rest);
    if (dt && /[T-]/.test(dt[0].slice(4))) {
      tokens.push({ t: "datetime", v: dt[0], pos: i });
      i += dt[0].length;
      continue;
    }
    const num = NUMBER.exec(rest);
    if (num) {
      tokens.push({ t: "number", v: num[0], pos: i });
      i += num[0].length;
      continue;
    }
    const id = IDENT.exec(rest);
    if (id) {
      const name = id[0];
      if (text[i + name.length] === "'") {
        // A typed literal: qualified enum `Ns.Type'Member'`, or `guid'…'` / `datetime'…'` (v3 forms).
        const { value, end } = readQuoted(text, i + name.length);
        tokens.push({ t: "typed", type: name, v: value, pos: i });
        i = end;
        continue;
      }
      if (name.endsWith(".")) {
        throw new ODataSyntaxError(`Syntax error at position ${i + name.length}: unexpected '.'.`, text, i);
      }
      tokens.push({ t: "ident", v: name, pos: i });
      i += name.length;
      continue;
    }
    throw new ODataSyntaxError(`Syntax error: character '${ch}' is not valid at position ${i}.`, text, i);
  }
  tokens.push({ t: "end", pos: text.length });
  return tokens;
}

// ----------------------------------------------------------------------------------------------
// Parser
// ----------------------------------------------------------------------------------------------

const COMPARISON = new Set(["eq", "ne", "gt", "ge", "lt", "le", "has", "in"]);
/** Arithmetic operators are valid OData but no emulated service needs them: refused precisely. */
const ARITHMETIC = new Set(["add", "sub", "mul", "div", "divby", "mod"]);

class Parser {
  readonly text: string;
  readonly tokens: Token[];
  i = 0;
  constructor(text: string) {
    this.text = text;
    this.tokens = tokenize(text);
  }
  peek(): Token {
    return this.tokens[this.i] as Token;
  }
  next(): Token {
    const tok = this.peek();
    if (tok.t !== "end") this.i++;
    return tok;
  }
  fail(tok: Token, expected: string): never {
    const found = tok.t === "end" ? "end of expression" : `'${this.text.slice(tok.pos, this.endOf(tok))}'`;
    throw new ODataSyntaxError(
      `Syntax error at position ${tok.pos} in '${this.text}': expected ${expected}, found ${found}.`,
      this.text,
      tok.pos,
    );
  }
  endOf(tok: Token): number {
    const following = this.tokens[this.tokens.indexOf(tok) + 1];
    return following ? following.pos : this.text.length;
  }
  isWord(tok: Token, word: string): boolean {
    return tok.t === "ident" && tok.v === word;
  }
  expectPunct(v: string): void {
    const tok = this.next();
    if (tok.t !== "punct" || tok.v !== v) this.fail(tok, `'${v}'`);
  }
  parseAll(): ODataExpression {
    const expr = this.parseOr();
    const tok = this.peek();
    if (tok.t !== "end") {
      if (tok.t === "ident" && ARITHMETIC.has(tok.v)) {
        throw new ODataSyntaxError(
          `Arithmetic operator '${tok.v}' at position ${tok.pos} is not supported.`,
          this.text,
          tok.pos,
        );
      }
      this.fail(tok, "an operator or end of expression");
    }
    return expr;
  }
  parseOr(): ODataExpression {
    let left = this.parseAnd();
    while (this.isWord(this.peek(), "or")) {
      this.next();
      left = { kind: "binary", op: "or", left, right: this.parseAnd() };
    }
    return left;
  }
  parseAnd(): ODataExpression {
    let left = this.parseComparison();
    while (this.isWord(this.peek(), "and")) {
      this.next();
      left = { kind: "binary", op: "and", left, right: this.parseComparison() };
    }
    return left;
  }
  parseComparison(): ODataExpression {
    const left = this.parseUnary();
    const tok = this.peek();
    if (tok.t === "ident" && COMPARISON.has(tok.v)) {
      this.next();
      const op = tok.v as ODataBinaryOperator;
      const right = op === "in" ? this.parseList() : this.parseUnary();
      return { kind: "binary", op, left, right };
    }
    return left;
  }
  parseList(): ODataExpression {
    this.expectPunct("(");
    const items: ODataExpression[] = [];
    if (!(this.peek().t === "punct" && (this.peek() as { v: string }).v === ")")) {
      for (;;) {
        items.push(this.parsePrimary());
        const sep = this.next();
        if (sep.t === "punct" && sep.v === ")") break;
        if (sep.t !== "punct" || sep.v !== ",") this.fail(sep, "',' or ')'");
      }
    } else this.next();
    return { kind: "list", items };
  }
  parseUnary(): ODataExpression {
    if (this.isWord(this.peek(), "not")) {
      const notTok = this.next();
      const after = this.peek();
      if (after.t === "end") this.fail(after, `an operand after 'not' at position ${notTok.pos}`);
      return { kind: "not", operand: this.parseUnary() };
    }
    return this.parsePrimary();
  }
  parsePrimary(): ODataExpression {
    const tok = this.next();
    switch (tok.t) {
      case "string":
        return { kind: "literal", type: "string", value: tok.v };
      case "number": {
        const digits = tok.v.replace(/[mMdDfFlL]$/, "");
        return { kind: "literal", type: "number", value: Number(digits), raw: tok.v };
      }
      case "guid":
        return { kind: "literal", type: "guid", value: tok.v };
      case "datetime":
        return { kind: "literal", type: "datetime", value: tok.v };
      case "typed": {
        const lower = tok.type.toLowerCase();
        if (lower === "guid") return { kind: "literal", type: "guid", value: tok.v };
        if (lower === "datetime" || lower === "datetimeoffset")
          return { kind: "literal", type: "datetime", value: tok.v };
        if (!tok.type.includes(".")) {
          throw new ODataSyntaxError(
            `Syntax error at position ${tok.pos}: '${tok.type}' is not a qualified enum type name.`,
            this.text,
            tok.pos,
          );
        }
        return { kind: "literal", type: "enum", value: tok.v, enumType: tok.type };
      }
      case "punct":
        if (tok.v === "(") {
          const inner = this.parseOr();
          this.expectPunct(")");
          return inner;
        }
        return this.fail(tok, "an expression");
      case "ident":
        return this.parseIdentifier(tok);
      case "end":
        return this.fail(tok, "an expression");
    }
  }
  parseIdentifier(tok: { t: "ident"; v: string; pos: number }): ODataExpression {
    if (tok.v === "true" || tok.v === "false")
      return { kind: "literal", type: "boolean", value: tok.v === "true" };
    if (tok.v === "null") return { kind: "literal", type: "null", value: null };
    if (COMPARISON.has(tok.v) || tok.v === "and" || tok.v === "or") this.fail(tok, "an expression");
    const after = this.peek();
    if (after.t === "punct" && after.v === "(") {
      this.next();
      const args: ODataExpression[] = [];
      const close = this.peek();
      if (close.t === "punct" && close.v === ")") this.next();
      else {
        for (;;) {
          args.push(this.parseOr());
          const sep = this.next();
          if (sep.t === "punct" && sep.v === ")") break;
          if (sep.t !== "punct" || sep.v !== ",") this.fail(sep, `',' or ')' in the arguments of ${tok.v}()`);
        }
      }
      return { kind: "call", name: tok.v, args };
    }
    const path = [tok.v];
    for (;;) {
      const slash = this.peek();
      if (!(slash.t === "punct" && slash.v === "/")) break;
      this.next();
      const seg = this.next();
      if (seg.t !== "ident") this.fail(seg, "a property name after '/'");
      if (seg.v === "any" || seg.v === "all") {
        const open = this.peek();
        if (open.t === "punct" && open.v === "(") return this.parseLambda(path, seg.v);
      }
      path.push(seg.v);
    }
    return { kind: "property", path };
  }
  parseLambda(collection: string[], quantifier: "any" | "all"): ODataExpression {
    this.expectPunct("(");
    const first = this.peek();
    if (first.t === "punct" && first.v === ")") {
      this.next();
      if (quantifier === "all") this.fail(first, "a lambda variable in all()");
      return { kind: "lambda", quantifier, collection };
    }
    const variable = this.next();
    if (variable.t !== "ident") this.fail(variable, "a lambda variable name");
    this.expectPunct(":");
    const predicate = this.parseOr();
    this.expectPunct(")");
    return { kind: "lambda", quantifier, collection, variable: variable.v, predicate };
  }
}

/**
 * Parses a `$filter` expression into an AST.
 * @throws ODataSyntaxError with the position of the first offending token.
 */
export function parseFilter(text: string): ODataExpression {
  if (text.trim() === "") throw new ODataSyntaxError("The $filter expression is empty.", text, 0, "$filter");
  try {
    return new Parser(text).parseAll();
  } catch (err) {
    if (err instanceof ODataSyntaxError) err.option = "$filter";
    throw err;
  }
}

const COMPARISON_KIND: Partial<Record<ODataBinaryOperator, string>> = {
  eq: "Equal",
  ne: "NotEqual",
  gt: "GreaterThan",
  ge: "GreaterThanOrEqual",
  lt: "LessThan",
  le: "LessThanOrEqual",
};

/**
 * The operator kind name Microsoft's OData library uses for a comparison in its error messages
 * (`Equal`, `GreaterThan`, ...); `undefined` for `and`/`or`/`has`/`in`.
 */
export function comparisonOperatorKind(op: ODataBinaryOperator): string | undefined {
  return COMPARISON_KIND[op];
}

/**
 * The message Dataverse and F&O (both on Microsoft's OData library) give for a comparison whose
 * operand types do not match; each service wraps it in its own error shape.
 */
export function incompatibleOperandsMessage(left: string, right: string, op: ODataBinaryOperator): string {
  return `A binary operator with incompatible types was detected. Found operand types '${left}' and '${right}' for operator kind '${comparisonOperatorKind(op) ?? op}'.`;
}

/** Visits every node of an expression, depth first (for services validating what they allow). */
export function walkExpression(node: ODataExpression, visit: (node: ODataExpression) => void): void {
  visit(node);
  switch (node.kind) {
    case "binary":
      walkExpression(node.left, visit);
      walkExpression(node.right, visit);
      break;
    case "not":
      walkExpression(node.operand, visit);
      break;
    case "call":
      for (const arg of node.args) walkExpression(arg, visit);
      break;
    case "lambda":
      if (node.predicate) walkExpression(node.predicate, visit);
      break;
    case "list":
      for (const item of node.items) walkExpression(item, visit);
      break;
    default:
      break;
  }
}

// ----------------------------------------------------------------------------------------------
// Evaluator
// ----------------------------------------------------------------------------------------------

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

function compareValues(a: unknown, b: unknown, options: EvaluateOptions): number | undefined {
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

// ----------------------------------------------------------------------------------------------
// System query options
// ----------------------------------------------------------------------------------------------

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
