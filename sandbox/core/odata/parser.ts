/**
 * The OData `$filter` parser: tokens to an expression tree, with operator precedence primary →
 * unary (`not`) → relational/equality → `and` → `or` (OData v4.01 URL conventions, §5.1.1,
 * https://docs.oasis-open.org/odata/odata/v4.01/odata-v4.01-part2-url-conventions.html), plus
 * the helpers services use to inspect a tree and word Microsoft's OData library's type errors.
 */
import { ODataSyntaxError, type Token, tokenize } from "./lexer.ts";

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
