/**
 * OData v4 query parsing and evaluation for the sandbox's services (Graph, Dataverse, F&O).
 *
 * This module only parses and evaluates; each service decides which operators, functions and
 * options it allows and renders its own errors (Graph `Request_UnsupportedQuery`, Dataverse
 * `0x80060888`, F&O `innererror`). Grammar after OData v4.01 URL conventions, §5.1.1
 * (https://docs.oasis-open.org/odata/odata/v4.01/odata-v4.01-part2-url-conventions.html):
 * operator precedence is primary → unary (`not`) → relational/equality → `and` → `or`.
 * The providers have their own escaping; nothing here is shared with them (design.md, principle 8).
 *
 * Layout: lexer.ts (tokens) → parser.ts (expression tree) → evaluator.ts (rows) and options.ts
 * (system query options); this index is the module's public face.
 */

export {
  caseInsensitiveLookup,
  caseSensitiveLookup,
  type EvaluateOptions,
  evaluateFilter,
  evaluateValue,
  ODataEvaluationError,
  type PropertyLookup,
} from "./evaluator.ts";
export { ODataSyntaxError, scanQuotedLiteral } from "./lexer.ts";
export {
  applyOrderBy,
  applySelect,
  type ODataExpand,
  type ODataOrderBy,
  type ODataQueryOptions,
  type ParseQueryOptions,
  parseQueryOptions,
} from "./options.ts";
export {
  comparisonOperatorKind,
  incompatibleOperandsMessage,
  type ODataBinaryOperator,
  type ODataExpression,
  type ODataLiteral,
  parseFilter,
  walkExpression,
} from "./parser.ts";
