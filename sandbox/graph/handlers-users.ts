/**
 * Handlers of `/users`: list (filter, search, order, count, paging), get, create, update, delete.
 * https://learn.microsoft.com/graph/api/resources/user
 */
import { randomUUID } from "node:crypto";
import { caseInsensitiveLookup, evaluateFilter, ODataEvaluationError } from "../core/odata/index.ts";
import type { SandboxRequest, SandboxResponse, ServiceContext } from "../core/types.ts";
import {
  badRequest,
  conflictUpn,
  graphError,
  graphForbidden,
  graphHeaders,
  invalidProperty,
  notFound,
  unsupportedQuery,
} from "./errors.ts";
import {
  checkUserFilter,
  decodeSkipToken,
  encodeSkipToken,
  isAdvanced,
  PAGE_DEFAULT,
  parseOptions,
} from "./query.ts";
import {
  findVisibleUser,
  findWritableUser,
  recordChange,
  recordCreated,
  visibleUsers,
} from "./replication.ts";
import {
  allowed,
  canManagePrivilegedUsers,
  findUser,
  isPrivileged,
  ON_PREMISES_MASTERED,
  READ_USERS,
  SENSITIVE_PROPERTIES,
  WRITE_USERS,
} from "./rules.ts";
import type { EntraUser } from "./state.ts";
import { ok, project, userResource } from "./views.ts";

export const WRITABLE = new Set([
  "accountEnabled",
  "displayName",
  "mailNickname",
  "passwordProfile",
  "userPrincipalName",
  "givenName",
  "surname",
  "jobTitle",
  "department",
  "mobilePhone",
  "officeLocation",
  "preferredLanguage",
  "businessPhones",
  "usageLocation",
  "mail",
  "userType",
]);

export function listUsers(req: SandboxRequest, ctx: ServiceContext, countOnly: boolean): SandboxResponse {
  if (!allowed(req, READ_USERS)) return graphForbidden(req);
  const options = parseOptions(req);
  if ("status" in options) return options;
  const advanced = isAdvanced(req, options);
  const eventual =
    (req.headers.consistencylevel ?? req.url.searchParams.get("ConsistencyLevel") ?? "").toLowerCase() ===
    "eventual";
  if (countOnly && !eventual) return badRequest(req, "$count is not currently supported.");
  if (options.search !== undefined && !eventual) {
    return unsupportedQuery(
      req,
      "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
    );
  }
  if (options.skip !== undefined) return badRequest(req, "'$skip' is not supported by the service.");
  if (options.top !== undefined && (options.top < 1 || options.top > 999)) {
    return badRequest(
      req,
      `Invalid page size specified: '${options.top}'. Must be between 1 and 999 inclusive.`,
    );
  }
  let users = visibleUsers(ctx).map((u) => userResource(ctx, u));
  if (options.filter) {
    const problem = checkUserFilter(req, options.filter.expression, advanced);
    if (problem) return problem;
    try {
      const expression = options.filter.expression;
      users = users.filter((u) =>
        evaluateFilter(expression, u, { lookup: caseInsensitiveLookup, stringComparison: "caseInsensitive" }),
      );
    } catch (err) {
      if (err instanceof ODataEvaluationError) return unsupportedQuery(req, err.message);
      throw err;
    }
  }
  if (options.search !== undefined) {
    // `"property:text"` clauses, tokenized prefix match (https://learn.microsoft.com/graph/search-query-parameter).
    const clauses = [...options.search.matchAll(/"([^":]+):([^"]*)"/g)];
    if (clauses.length === 0) return badRequest(req, 'Invalid $search query. Use "property:value" clauses.');
    users = users.filter((u) =>
      clauses.some(([, prop, text]) => {
        const value = caseInsensitiveLookup(u, prop ?? "")?.value;
        return (
          typeof value === "string" &&
          value
            .toLowerCase()
            .split(/[\s.@_-]+/)
            .some((w) => w.startsWith((text ?? "").toLowerCase()))
        );
      }),
    );
  }
  if (options.orderby) {
    const allowedOrder = new Set(["displayname", "userprincipalname"]);
    const bad = options.orderby.find((o) => !allowedOrder.has((o.path[0] ?? "").toLowerCase()));
    if (bad) return unsupportedQuery(req, `Unsupported sort property '${bad.path.join("/")}' for 'User'.`);
    const [first] = options.orderby;
    if (first) {
      const key = (first.path[0] ?? "").toLowerCase() === "displayname" ? "displayName" : "userPrincipalName";
      const dir = first.direction === "desc" ? -1 : 1;
      users = [...users].sort((a, b) => String(a[key]).localeCompare(String(b[key])) * dir);
    }
  }
  if (countOnly)
    return {
      status: 200,
      headers: graphHeaders(req, { "content-type": "text/plain" }),
      body: String(users.length),
    };
  const offset = options.skiptoken !== undefined ? decodeSkipToken(options.skiptoken) : 0;
  if (offset === undefined) return badRequest(req, "The specified $skiptoken is invalid.");
  const size = options.top ?? PAGE_DEFAULT;
  const page = users.slice(offset, offset + size);
  const contextSuffix = options.select ? `users(${options.select.join(",")})` : "users";
  const body: Record<string, unknown> = {
    "@odata.context": `${ctx.endpoints.graphUrl}/v1.0/$metadata#${contextSuffix}`,
  };
  // `@odata.count` on the first page only, and only for an advanced query (graph.md §1.4).
  if (advanced && options.skiptoken === undefined) body["@odata.count"] = users.length;
  if (offset + size < users.length) {
    const next = new URL(`${ctx.endpoints.graphUrl}/v1.0/users`);
    for (const [name, value] of req.url.searchParams)
      if (name.toLowerCase().replace(/^\$/, "") !== "skiptoken") next.searchParams.append(name, value);
    next.searchParams.set("$skiptoken", encodeSkipToken(offset + size));
    body["@odata.nextLink"] = next.toString();
  }
  body.value = page.map((u) => project(u, options.select));
  return ok(req, 200, body);
}

export function getUser(req: SandboxRequest, ctx: ServiceContext, key: string): SandboxResponse {
  if (!allowed(req, READ_USERS)) return graphForbidden(req);
  const user = findVisibleUser(ctx, key);
  if (!user) return notFound(req, key);
  const options = parseOptions(req);
  if ("status" in options) return options;
  const body = project(userResource(ctx, user), options.select);
  const contextSuffix = options.select ? `users(${options.select.join(",")})/$entity` : "users/$entity";
  return ok(req, 200, {
    "@odata.context": `${ctx.endpoints.graphUrl}/v1.0/$metadata#${contextSuffix}`,
    ...body,
  });
}

/** Validates a UPN: allowed characters and a verified domain (graph.md §1.2). */
export function checkUpn(
  req: SandboxRequest,
  ctx: ServiceContext,
  upn: unknown,
): SandboxResponse | undefined {
  const invalid = badRequest(
    req,
    "Invalid value specified for property 'userPrincipalName' of resource 'User'.",
    [{ target: "userPrincipalName", code: "InvalidValue" }],
  );
  if (typeof upn !== "string") return invalid;
  const at = upn.lastIndexOf("@");
  if (at <= 0) return invalid;
  const local = upn.slice(0, at);
  const domain = upn.slice(at + 1);
  if (!/^[A-Za-z0-9'.\-_!#^~]+$/.test(local) || local.startsWith(".") || local.endsWith(".")) return invalid;
  if (!ctx.state.entra.verifiedDomains.some((d) => d.toLowerCase() === domain.toLowerCase())) {
    return badRequest(
      req,
      "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.",
      [{ target: "userPrincipalName", code: "InvalidValue" }],
    );
  }
  return undefined;
}

/** Password complexity: 8–256 characters and three of four character classes (Entra's policy). */
function weakPassword(password: string): boolean {
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  return password.length < 8 || password.length > 256 || classes < 3;
}

/** Checks the writable properties of a create or update body; returns an error or undefined. */
function checkUserBody(req: SandboxRequest, body: Record<string, unknown>): SandboxResponse | undefined {
  for (const [name, value] of Object.entries(body)) {
    if (name.startsWith("@odata.")) continue;
    if (!WRITABLE.has(name)) {
      return graphError(
        req,
        400,
        "Request_BadRequest",
        `Property '${name}' is read-only or does not exist on type 'microsoft.graph.user'.`,
      );
    }
    if (name === "accountEnabled" && typeof value !== "boolean") return invalidProperty(req, name);
    if (["displayName", "mailNickname"].includes(name) && (typeof value !== "string" || value.trim() === ""))
      return invalidProperty(req, name);
    if (name === "mailNickname" && typeof value === "string" && !/^[A-Za-z0-9'.\-_!#^~]{1,64}$/.test(value))
      return invalidProperty(req, name);
    if (
      name === "usageLocation" &&
      value !== null &&
      (typeof value !== "string" || !/^[A-Z]{2}$/.test(value))
    )
      return invalidProperty(req, name);
    if (name === "passwordProfile") {
      if (typeof value !== "object" || value === null) return invalidProperty(req, name);
      const password = (value as { password?: unknown }).password;
      if (password !== undefined && (typeof password !== "string" || weakPassword(password))) {
        return badRequest(
          req,
          "The specified password does not comply with password complexity requirements. Please provide a different password.",
        );
      }
    }
  }
  return undefined;
}

export function asObject(
  req: SandboxRequest,
): { input: Record<string, unknown> } | { error: SandboxResponse } {
  if (req.rawBody.trim() === "")
    return { error: graphError(req, 400, "BadRequest", "Empty Payload. JSON content expected.") };
  if (typeof req.body !== "object" || req.body === null || Array.isArray(req.body)) {
    return {
      error: graphError(
        req,
        400,
        "BadRequest",
        "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
      ),
    };
  }
  return { input: req.body as Record<string, unknown> };
}

function applyWritable(user: EntraUser, body: Record<string, unknown>): void {
  const target = user as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(body)) {
    if (name.startsWith("@odata.")) continue;
    if (name === "passwordProfile") {
      // The password itself is never stored: only whether a change is forced.
      const profile = value as { forceChangePasswordNextSignIn?: unknown };
      user.passwordProfile = {
        forceChangePasswordNextSignIn: profile.forceChangePasswordNextSignIn !== false,
      };
    } else target[name] = value;
  }
}

export function createUser(req: SandboxRequest, ctx: ServiceContext): SandboxResponse {
  if (!allowed(req, WRITE_USERS)) return graphForbidden(req);
  const body = asObject(req);
  if ("error" in body) return body.error;
  const input = body.input;
  for (const required of [
    "accountEnabled",
    "displayName",
    "mailNickname",
    "passwordProfile",
    "userPrincipalName",
  ]) {
    if (input[required] === undefined || input[required] === null) return invalidProperty(req, required);
  }
  const password = (input.passwordProfile as { password?: unknown } | null)?.password;
  if (typeof password !== "string" || password === "") return invalidProperty(req, "passwordProfile");
  const problem = checkUpn(req, ctx, input.userPrincipalName) ?? checkUserBody(req, input);
  if (problem) return problem;
  if (findUser(ctx, input.userPrincipalName as string)) return conflictUpn(req);
  const upn = input.userPrincipalName as string;
  const user: EntraUser = {
    id: randomUUID(),
    userPrincipalName: upn,
    displayName: input.displayName as string,
    // A cloud user's mail follows the UPN once Exchange provisions it (graph.md §1.2, UNCONFIRMED timing).
    mail: typeof input.mail === "string" ? input.mail : upn,
    mailNickname: input.mailNickname as string,
    accountEnabled: input.accountEnabled as boolean,
    usageLocation: null,
    userType: "Member",
    createdDateTime: new Date(ctx.now()).toISOString().replace(/\.\d+Z$/, "Z"),
    assignedLicenses: [],
    memberOf: [],
    businessPhones: [],
  };
  applyWritable(user, input);
  ctx.state.entra.users.push(user);
  recordCreated(ctx, user);
  ctx.changed();
  return ok(
    req,
    201,
    {
      "@odata.context": `${ctx.endpoints.graphUrl}/v1.0/$metadata#users/$entity`,
      ...project(userResource(ctx, user), undefined),
    },
    { location: `${ctx.endpoints.graphUrl}/v1.0/users/${user.id}` },
  );
}

export function updateUser(req: SandboxRequest, ctx: ServiceContext, key: string): SandboxResponse {
  if (!allowed(req, WRITE_USERS)) return graphForbidden(req);
  const user = findWritableUser(ctx, key);
  if (!user) return notFound(req, key);
  const body = asObject(req);
  if ("error" in body) return body.error;
  const input = body.input;
  const problem =
    (input.userPrincipalName !== undefined ? checkUpn(req, ctx, input.userPrincipalName) : undefined) ??
    checkUserBody(req, input);
  if (problem) return problem;
  const changed = Object.keys(input).filter((name) => !name.startsWith("@odata."));
  if (user.onPremisesSyncEnabled && changed.some((name) => ON_PREMISES_MASTERED.has(name))) {
    return badRequest(
      req,
      "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.",
    );
  }
  if (
    isPrivileged(user) &&
    changed.some((name) => SENSITIVE_PROPERTIES.has(name)) &&
    !canManagePrivilegedUsers(ctx, req.token.appid)
  ) {
    return graphForbidden(req);
  }
  // Once set, usageLocation cannot go back to null (terraform-provider-azuread docs, `usage_location`).
  if (input.usageLocation === null && user.usageLocation !== null)
    return invalidProperty(req, "usageLocation");
  if (typeof input.userPrincipalName === "string") {
    const other = findUser(ctx, input.userPrincipalName);
    if (other && other.id !== user.id) return conflictUpn(req);
  }
  recordChange(ctx, user);
  applyWritable(user, input);
  ctx.changed();
  return ok(req, 204);
}

export function deleteUser(req: SandboxRequest, ctx: ServiceContext, key: string): SandboxResponse {
  if (!allowed(req, WRITE_USERS)) return graphForbidden(req);
  const user = findWritableUser(ctx, key);
  if (!user) return notFound(req, key);
  if (isPrivileged(user) && !canManagePrivilegedUsers(ctx, req.token.appid)) return graphForbidden(req);
  const entra = ctx.state.entra;
  entra.users = entra.users.filter((u) => u !== user);
  // Soft delete: restorable for 30 days from directory/deletedItems; it holds no seat meanwhile.
  entra.deletedUsers = [
    ...(entra.deletedUsers ?? []),
    { ...user, deletedDateTime: new Date(ctx.now()).toISOString() },
  ];
  ctx.changed();
  return ok(req, 204);
}
