/**
 * Graph's query options on directory objects: `$`-optional, case-insensitive option names, the
 * indexed properties `$filter` may use on /users, the operators that need an advanced query
 * (`ConsistencyLevel: eventual` and `$count=true`), and opaque `$skiptoken` paging
 * (https://learn.microsoft.com/graph/aad-advanced-queries, https://learn.microsoft.com/graph/paging).
 */
import { randomUUID } from "node:crypto";
import {
  type ODataExpression,
  type ODataQueryOptions,
  ODataSyntaxError,
  parseQueryOptions,
  walkExpression,
} from "../core/odata/index.ts";
import type { SandboxRequest, SandboxResponse } from "../core/types.ts";
import { graphError, unsupportedQuery } from "./errors.ts";

/** Properties `$filter` may use on /users (the indexed ones the tool needs). */
export const FILTERABLE = new Set(
  [
    "id",
    "userPrincipalName",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "mailNickname",
    "accountEnabled",
    "usageLocation",
    "userType",
    "jobTitle",
    "assignedLicenses",
    "createdDateTime",
  ].map((p) => p.toLowerCase()),
);

export const PAGE_DEFAULT = 100;

/**
 * The request's query options, or Graph's 400 `BadRequest` for one it cannot parse: "Invalid
 * filter clause" (the wording Graph gives, e.g. microsoftgraph/msgraph-sdk-dotnet#1190) followed
 * by the parser's detail.
 */
export function parseOptions(req: SandboxRequest): ODataQueryOptions | SandboxResponse {
  try {
    // Graph v1.0 accepts system query options with or without `$`, in any case.
    return parseQueryOptions(req.url.searchParams, { caseInsensitiveNames: true, dollarOptional: true });
  } catch (err) {
    if (err instanceof ODataSyntaxError) {
      const option = (err.option ?? "query").replace(/^\$/, "").toLowerCase();
      return graphError(req, 400, "BadRequest", `Invalid ${option} clause: ${err.message}`);
    }
    throw err;
  }
}

/** Boolean properties of /users: comparing one with a quoted string is an invalid filter clause. */
const BOOLEAN_PROPERTIES = new Set(["accountenabled"]);

export function isAdvanced(req: SandboxRequest, options: ODataQueryOptions): boolean {
  return (
    (req.headers.consistencylevel ?? req.url.searchParams.get("ConsistencyLevel") ?? "").toLowerCase() ===
      "eventual" && options.count === true
  );
}

/** Refuses what /users `$filter` does not support; returns undefined when the filter is fine. */
export function checkUserFilter(
  req: SandboxRequest,
  expression: ODataExpression,
  advanced: boolean,
): SandboxResponse | undefined {
  let problem: SandboxResponse | undefined;
  const advancedOnly = (what: string) =>
    unsupportedQuery(
      req,
      `Operator '${what}' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information`,
    );
  walkExpression(expression, (node) => {
    if (problem) return;
    if (node.kind === "binary" && (node.op === "eq" || node.op === "ne")) {
      // `accountEnabled eq 'true'` is refused (microsoftgraph/microsoft-graph-docs#3044).
      const sides = [
        [node.left, node.right],
        [node.right, node.left],
      ] as const;
      for (const [a, b] of sides) {
        if (
          a.kind === "property" &&
          a.path.length === 1 &&
          BOOLEAN_PROPERTIES.has((a.path[0] ?? "").toLowerCase()) &&
          b.kind === "literal" &&
          b.type === "string"
        ) {
          problem = graphError(req, 400, "BadRequest", "Invalid filter clause");
          return;
        }
      }
    }
    if (node.kind === "property") {
      const head = (node.path[0] ?? "").toLowerCase();
      // Lambda variables (e.g. `x/skuId` inside any()) are checked by evaluation.
      if (node.path.length === 1 && !FILTERABLE.has(head)) {
        problem = unsupportedQuery(
          req,
          `Unsupported or invalid query filter clause specified for property '${node.path[0]}' of resource 'User'.`,
        );
      }
    } else if (node.kind === "binary" && node.op === "ne" && !advanced) problem = advancedOnly("ne");
    else if (node.kind === "not" && !advanced) problem = advancedOnly("not");
    else if (node.kind === "binary" && node.op === "has")
      problem = unsupportedQuery(req, "Unsupported query operator 'has'.");
    else if (node.kind === "call") {
      const name = node.name.toLowerCase();
      if (name === "endswith" && !advanced) problem = advancedOnly("endsWith");
      else if (name !== "startswith" && name !== "endswith")
        problem = unsupportedQuery(req, `Unsupported Query. The function '${node.name}' is not supported.`);
    }
  });
  return problem;
}

export function encodeSkipToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset, n: randomUUID().slice(0, 8) })).toString("base64url");
}

export function decodeSkipToken(token: string): number | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { o?: unknown };
    return typeof parsed.o === "number" && parsed.o >= 0 ? parsed.o : undefined;
  } catch {
    return undefined;
  }
}
