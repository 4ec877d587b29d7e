/**
 * Microsoft Graph v1.0, the part the tool uses: users (list/get/create/update/delete),
 * assignLicense, licenseDetails, licenseAssignmentStates, subscribedSkus and JSON batching.
 * Behaviour follows reference/graph.md §7 ("what a faithful local emulator must reproduce");
 * Learn pages: https://learn.microsoft.com/graph/api/resources/user,
 * https://learn.microsoft.com/graph/api/user-assignlicense, https://learn.microsoft.com/graph/json-batching.
 */
import { randomUUID } from "node:crypto";
import {
  applySelect,
  caseInsensitiveLookup,
  evaluateFilter,
  ODataEvaluationError,
  type ODataExpression,
  type ODataQueryOptions,
  ODataSyntaxError,
  parseQueryOptions,
  walkExpression,
} from "../core/odata/index.ts";
import { GRAPH_APP_ID } from "../core/tenant.ts";
import type {
  EntraUser,
  SandboxRequest,
  SandboxResponse,
  ServiceContext,
  ServiceModule,
} from "../core/types.ts";
import { consumedUnits, effectiveLicenses, licenseAssignmentStates, sameGuid } from "../entra/licenses.ts";
import {
  graphError,
  graphForbidden,
  graphHeaders,
  graphThrottled,
  graphUnauthorized,
  graphUnavailable,
} from "./errors.ts";

const READ_USERS = ["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"];
const WRITE_USERS = ["User.ReadWrite.All", "Directory.ReadWrite.All"];
const ASSIGN_LICENSES = ["LicenseAssignment.ReadWrite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"];
const READ_SKUS = [
  "Organization.Read.All",
  "Organization.ReadWrite.All",
  "Directory.Read.All",
  "Directory.ReadWrite.All",
  "LicenseAssignment.Read.All",
  "LicenseAssignment.ReadWrite.All",
];
/** The properties a user read returns without `$select` (graph.md §7.14). */
const DEFAULT_USER_PROPERTIES = [
  "businessPhones",
  "displayName",
  "givenName",
  "jobTitle",
  "mail",
  "mobilePhone",
  "officeLocation",
  "preferredLanguage",
  "surname",
  "userPrincipalName",
  "id",
];
/** Properties `$filter` may use on /users (the indexed ones the tool needs). */
const FILTERABLE = new Set(
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
const WRITABLE = new Set([
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
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const PAGE_DEFAULT = 100;
const ODATA_JSON =
  "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

function ok(
  req: SandboxRequest,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): SandboxResponse {
  const response: SandboxResponse = {
    status,
    headers: graphHeaders(req, body === undefined ? headers : { "content-type": ODATA_JSON, ...headers }),
  };
  if (body !== undefined) response.body = body;
  return response;
}

function allowed(req: SandboxRequest, roles: string[]): boolean {
  const granted = req.token.roles ?? [];
  return roles.some((r) => granted.includes(r));
}

function notFound(req: SandboxRequest, key: string): SandboxResponse {
  return graphError(
    req,
    404,
    "Request_ResourceNotFound",
    `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`,
  );
}

function badRequest(req: SandboxRequest, message: string, details?: unknown[]): SandboxResponse {
  return graphError(req, 400, "Request_BadRequest", message, details ? { details } : {});
}

function unsupportedQuery(req: SandboxRequest, message: string): SandboxResponse {
  return graphError(req, 400, "Request_UnsupportedQuery", message);
}

/** Finds a live user by object id or UPN (case-insensitive), as /users/{id | userPrincipalName} does. */
function findUser(ctx: ServiceContext, key: string): EntraUser | undefined {
  const lower = key.toLowerCase();
  return ctx.state.entra.users.find(
    (u) => u.id.toLowerCase() === lower || u.userPrincipalName.toLowerCase() === lower,
  );
}

/** The full user as Graph would return it with every property selected. */
function userResource(ctx: ServiceContext, user: EntraUser): Record<string, unknown> {
  const entra = ctx.state.entra;
  const aggregate = effectiveLicenses(entra, user);
  const assignedPlans = aggregate.flatMap((l) => {
    const sku = entra.skus.find((s) => sameGuid(s.skuId, l.skuId));
    return (sku?.servicePlans ?? [])
      .filter((p) => !l.disabledPlans.some((d) => sameGuid(d, p.servicePlanId)))
      .map((p) => ({
        assignedDateTime: user.createdDateTime,
        capabilityStatus: "Enabled",
        service: p.servicePlanName,
        servicePlanId: p.servicePlanId,
      }));
  });
  return {
    id: user.id,
    businessPhones: user.businessPhones ?? [],
    displayName: user.displayName,
    givenName: user.givenName ?? null,
    jobTitle: user.jobTitle ?? null,
    mail: user.mail,
    mobilePhone: user.mobilePhone ?? null,
    officeLocation: user.officeLocation ?? null,
    preferredLanguage: user.preferredLanguage ?? null,
    surname: user.surname ?? null,
    userPrincipalName: user.userPrincipalName,
    accountEnabled: user.accountEnabled,
    usageLocation: user.usageLocation,
    userType: user.userType,
    mailNickname: user.mailNickname,
    department: user.department ?? null,
    createdDateTime: user.createdDateTime,
    assignedLicenses: aggregate,
    assignedPlans,
    licenseAssignmentStates: licenseAssignmentStates(entra, user),
  };
}

function project(full: Record<string, unknown>, select: string[] | undefined): Record<string, unknown> {
  if (!select) {
    const out: Record<string, unknown> = {};
    for (const p of DEFAULT_USER_PROPERTIES) out[p] = full[p];
    return out;
  }
  return applySelect(full, select, caseInsensitiveLookup);
}

function parseOptions(req: SandboxRequest): ODataQueryOptions | SandboxResponse {
  try {
    // Graph v1.0 accepts system query options with or without `$`, in any case.
    return parseQueryOptions(req.url.searchParams, { caseInsensitiveNames: true, dollarOptional: true });
  } catch (err) {
    if (err instanceof ODataSyntaxError)
      return graphError(req, 400, "BadRequest", `Invalid ${err.option ?? "query"} clause: ${err.message}`);
    throw err;
  }
}

function isAdvanced(req: SandboxRequest, options: ODataQueryOptions): boolean {
  return (
    (req.headers.consistencylevel ?? req.url.searchParams.get("ConsistencyLevel") ?? "").toLowerCase() ===
      "eventual" && options.count === true
  );
}

/** Refuses what /users `$filter` does not support; returns undefined when the filter is fine. */
function checkUserFilter(
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

function encodeSkipToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset, n: randomUUID().slice(0, 8) })).toString("base64url");
}

function decodeSkipToken(token: string): number | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { o?: unknown };
    return typeof parsed.o === "number" && parsed.o >= 0 ? parsed.o : undefined;
  } catch {
    return undefined;
  }
}

function listUsers(req: SandboxRequest, ctx: ServiceContext, countOnly: boolean): SandboxResponse {
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
  let users = ctx.state.entra.users.map((u) => userResource(ctx, u));
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

function getUser(req: SandboxRequest, ctx: ServiceContext, key: string): SandboxResponse {
  if (!allowed(req, READ_USERS)) return graphForbidden(req);
  const user = findUser(ctx, key);
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
function checkUpn(req: SandboxRequest, ctx: ServiceContext, upn: unknown): SandboxResponse | undefined {
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

function conflictUpn(req: SandboxRequest): SandboxResponse {
  return badRequest(
    req,
    "Another object with the same value for property userPrincipalName already exists.",
    [{ target: "userPrincipalName", code: "ObjectConflict" }],
  );
}

/** Password complexity: 8–256 characters and three of four character classes (Entra's policy). */
function weakPassword(password: string): boolean {
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  return password.length < 8 || password.length > 256 || classes < 3;
}

function invalidProperty(req: SandboxRequest, name: string): SandboxResponse {
  return badRequest(req, `Invalid value specified for property '${name}' of resource 'User'.`, [
    { target: name, code: "InvalidValue" },
  ]);
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

function asObject(req: SandboxRequest): { input: Record<string, unknown> } | { error: SandboxResponse } {
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

function createUser(req: SandboxRequest, ctx: ServiceContext): SandboxResponse {
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

function updateUser(req: SandboxRequest, ctx: ServiceContext, key: string): SandboxResponse {
  if (!allowed(req, WRITE_USERS)) return graphForbidden(req);
  const user = findUser(ctx, key);
  if (!user) return notFound(req, key);
  const body = asObject(req);
  if ("error" in body) return body.error;
  const input = body.input;
  const problem =
    (input.userPrincipalName !== undefined ? checkUpn(req, ctx, input.userPrincipalName) : undefined) ??
    checkUserBody(req, input);
  if (problem) return problem;
  // Once set, usageLocation cannot go back to null (graph.md §1.3).
  if (input.usageLocation === null && user.usageLocation !== null)
    return invalidProperty(req, "usageLocation");
  if (typeof input.userPrincipalName === "string") {
    const other = findUser(ctx, input.userPrincipalName);
    if (other && other.id !== user.id) return conflictUpn(req);
  }
  applyWritable(user, input);
  ctx.changed();
  return ok(req, 204);
}

function deleteUser(req: SandboxRequest, ctx: ServiceContext, key: string): SandboxResponse {
  if (!allowed(req, WRITE_USERS)) return graphForbidden(req);
  const user = findUser(ctx, key);
  if (!user) return notFound(req, key);
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

function missingParameter(req: SandboxRequest, name: string): SandboxResponse {
  return badRequest(
    req,
    `One or more parameters of the operation 'assignLicense' are missing from the request payload. The missing parameters are: ${name}.`,
  );
}

function notGuid(req: SandboxRequest): SandboxResponse {
  return badRequest(
    req,
    "Cannot convert a primitive value to the expected type 'Edm.Guid'. See the inner exception for more details.",
  );
}

/**
 * `assignLicense` (graph.md §2.1–2.2, §7.4, §7.13): validates the body, then each added SKU must
 * be the tenant's, the user needs a usage location, a seat must be free for a SKU the user does
 * not hold yet; adding upserts by skuId (replacing `disabledPlans`), removing drops the direct
 * assignment. Idempotent: re-sending the same body changes nothing.
 */
function assignLicense(req: SandboxRequest, ctx: ServiceContext, key: string): SandboxResponse {
  if (!allowed(req, ASSIGN_LICENSES)) return graphForbidden(req);
  const body = asObject(req);
  if ("error" in body) return body.error;
  const input = body.input;
  if (input.addLicenses === undefined) return missingParameter(req, "addLicenses");
  if (input.removeLicenses === undefined) return missingParameter(req, "removeLicenses");
  if (!Array.isArray(input.addLicenses) || !Array.isArray(input.removeLicenses)) {
    return badRequest(req, "Invalid value for the parameters 'addLicenses' or 'removeLicenses'.");
  }
  const adds: { skuId: string; disabledPlans: string[] }[] = [];
  for (const item of input.addLicenses as unknown[]) {
    const skuId = (item as { skuId?: unknown })?.skuId;
    const disabled = (item as { disabledPlans?: unknown })?.disabledPlans ?? [];
    if (typeof skuId !== "string" || !GUID.test(skuId)) return notGuid(req);
    if (!Array.isArray(disabled) || disabled.some((p) => typeof p !== "string" || !GUID.test(p)))
      return notGuid(req);
    adds.push({ skuId, disabledPlans: disabled as string[] });
  }
  const removes: string[] = [];
  for (const skuId of input.removeLicenses as unknown[]) {
    if (typeof skuId !== "string" || !GUID.test(skuId)) return notGuid(req);
    removes.push(skuId);
  }
  if (adds.length === 0 && removes.length === 0) {
    return badRequest(
      req,
      "No license changes provided. At least one license to add or remove must be specified.",
    );
  }
  const user = findUser(ctx, key);
  if (!user) return notFound(req, key);
  const entra = ctx.state.entra;
  for (const skuId of [...adds.map((a) => a.skuId), ...removes]) {
    if (!entra.skus.some((s) => sameGuid(s.skuId, skuId))) {
      return badRequest(req, `License ${skuId} does not correspond to a valid company License.`);
    }
  }
  if (adds.length > 0 && !user.usageLocation) {
    return badRequest(req, "License assignment cannot be done for user with invalid usage location.");
  }
  const held = effectiveLicenses(entra, user);
  for (const add of adds) {
    if (held.some((l) => sameGuid(l.skuId, add.skuId))) continue;
    const sku = entra.skus.find((s) => sameGuid(s.skuId, add.skuId));
    if (sku && consumedUnits(entra, sku.skuId) >= sku.prepaidUnits.enabled) {
      // Exact middle of this message is UNCONFIRMED (graph.md §2.2); clients match the tail.
      return badRequest(
        req,
        `Subscription for license ${sku.skuId} (${sku.skuPartNumber}) does not have any available licenses.`,
      );
    }
  }
  for (const skuId of removes) {
    const direct = user.assignedLicenses.some((l) => sameGuid(l.skuId, skuId));
    if (!direct) {
      const inherited = held.some((l) => sameGuid(l.skuId, skuId));
      // Wording UNCONFIRMED (graph.md §2.1); the refusal itself follows group-based licensing rules.
      return badRequest(
        req,
        inherited
          ? "User license is inherited from a group membership and it cannot be removed directly from the user."
          : `User does not have a corresponding license ${skuId}.`,
      );
    }
  }
  const stamp = new Date(ctx.now()).toISOString();
  user.licenseTimestamps = { ...user.licenseTimestamps };
  for (const add of adds) {
    const canonical = entra.skus.find((s) => sameGuid(s.skuId, add.skuId))?.skuId ?? add.skuId;
    const existing = user.assignedLicenses.find((l) => sameGuid(l.skuId, canonical));
    if (existing) existing.disabledPlans = [...add.disabledPlans];
    else user.assignedLicenses.push({ skuId: canonical, disabledPlans: [...add.disabledPlans] });
    user.licenseTimestamps[canonical.toLowerCase()] = stamp;
  }
  user.assignedLicenses = user.assignedLicenses.filter((l) => !removes.some((r) => sameGuid(r, l.skuId)));
  ctx.changed();
  const full = userResource(ctx, user);
  return ok(req, 200, {
    "@odata.context": `${ctx.endpoints.graphUrl}/v1.0/$metadata#users/$entity`,
    ...project(full, undefined),
    assignedLicenses: full.assignedLicenses,
    assignedPlans: full.assignedPlans,
  });
}

function licenseDetails(req: SandboxRequest, ctx: ServiceContext, key: string): SandboxResponse {
  if (!allowed(req, READ_USERS)) return graphForbidden(req);
  const user = findUser(ctx, key);
  if (!user) return notFound(req, key);
  const options = parseOptions(req);
  if ("status" in options) return options;
  if (options.filter)
    return unsupportedQuery(req, "Query filter expressions aren't supported on licenseDetails.");
  const entra = ctx.state.entra;
  const value = effectiveLicenses(entra, user).map((l) => {
    const sku = entra.skus.find((s) => sameGuid(s.skuId, l.skuId));
    const row = {
      id: Buffer.from(`${user.id}_${l.skuId}`).toString("base64url"),
      skuId: sku?.skuId ?? l.skuId,
      skuPartNumber: sku?.skuPartNumber ?? "",
      servicePlans: (sku?.servicePlans ?? []).map((p) => ({
        servicePlanId: p.servicePlanId,
        servicePlanName: p.servicePlanName,
        provisioningStatus: l.disabledPlans.some((d) => sameGuid(d, p.servicePlanId))
          ? "Disabled"
          : "Success",
        appliesTo: p.appliesTo,
      })),
    };
    return options.select ? applySelect(row, options.select, caseInsensitiveLookup) : row;
  });
  return ok(req, 200, {
    "@odata.context": `${ctx.endpoints.graphUrl}/v1.0/$metadata#users('${user.id}')/licenseDetails`,
    value,
  });
}

function subscribedSkus(req: SandboxRequest, ctx: ServiceContext, id?: string): SandboxResponse {
  if (!allowed(req, READ_SKUS)) return graphForbidden(req);
  const options = parseOptions(req);
  if ("status" in options) return options;
  // subscribedSkus supports only $select (graph.md §1.4, §7.6).
  if (options.filter)
    return unsupportedQuery(req, "Query filter expressions aren't supported on subscribedSkus.");
  const entra = ctx.state.entra;
  const rows = entra.skus.map((s) => ({
    accountId: entra.tenantId,
    accountName: "Contoso (sandbox)",
    appliesTo: "User",
    capabilityStatus: "Enabled",
    consumedUnits: consumedUnits(entra, s.skuId),
    id: `${entra.tenantId}_${s.skuId}`,
    prepaidUnits: { ...s.prepaidUnits },
    servicePlans: s.servicePlans.map((p) => ({ ...p })),
    skuId: s.skuId,
    skuPartNumber: s.skuPartNumber,
    subscriptionIds: [`${s.skuId.slice(0, 8)}-5ub5-4c11-9000-${entra.tenantId.slice(-12)}`],
  }));
  const select = (row: Record<string, unknown>) =>
    options.select ? applySelect(row, options.select, caseInsensitiveLookup) : row;
  if (id !== undefined) {
    const row = rows.find((r) => r.id.toLowerCase() === id.toLowerCase());
    if (!row) return notFound(req, id);
    return ok(req, 200, {
      "@odata.context": `${ctx.endpoints.graphUrl}/v1.0/$metadata#subscribedSkus/$entity`,
      ...select(row),
    });
  }
  return ok(req, 200, {
    "@odata.context": `${ctx.endpoints.graphUrl}/v1.0/$metadata#subscribedSkus`,
    value: rows.map(select),
  });
}

/** Extracts `{key}` from `/users/{key}` or `/users('{key}')` (UPNs starting with `$` need the latter). */
function userKey(segment: string): string {
  const quoted = /^\('(.*)'\)$/.exec(segment);
  const raw = quoted ? (quoted[1] as string).replace(/''/g, "'") : segment;
  return decodeURIComponent(raw);
}

function route(req: SandboxRequest, ctx: ServiceContext): SandboxResponse | Promise<SandboxResponse> {
  const path = req.url.pathname.replace(/\/+$/, "");
  const m = req.method.toUpperCase();
  if (path === "/v1.0/users" || path === "/v1.0/users/$count" || path === "/v1.0/users/%24count") {
    if (path === "/v1.0/users" && m === "GET") return listUsers(req, ctx, false);
    if (path === "/v1.0/users" && m === "POST") return createUser(req, ctx);
    if (path !== "/v1.0/users" && m === "GET") return listUsers(req, ctx, true);
  }
  const userMatch = /^\/v1\.0\/users(?:\/([^/()]+)|(\('(?:[^']|'')*'\)))(?:\/([^/]+))?$/.exec(path);
  if (userMatch) {
    const key = userKey((userMatch[1] ?? userMatch[2]) as string);
    const sub = userMatch[3];
    if (sub === undefined) {
      if (m === "GET") return getUser(req, ctx, key);
      if (m === "PATCH") return updateUser(req, ctx, key);
      if (m === "DELETE") return deleteUser(req, ctx, key);
    } else if (sub === "assignLicense" && m === "POST") return assignLicense(req, ctx, key);
    else if (sub === "licenseDetails" && m === "GET") return licenseDetails(req, ctx, key);
  }
  if (path === "/v1.0/subscribedSkus" && m === "GET") return subscribedSkus(req, ctx);
  const skuMatch = /^\/v1\.0\/subscribedSkus\/([^/]+)$/.exec(path);
  if (skuMatch && m === "GET") return subscribedSkus(req, ctx, decodeURIComponent(skuMatch[1] as string));
  if ((path === "/v1.0/$batch" || path === "/v1.0/%24batch") && m === "POST") return batch(req, ctx);
  return graphError(
    req,
    501,
    "NotImplemented",
    `The sandbox does not emulate Microsoft Graph ${req.method} ${req.url.pathname}.`,
  );
}

/**
 * JSON batching (graph.md §3.2, §7.8): at most 20 requests, unique ids, `dependsOn` honoured (a
 * request depending on a failed one gets 424), relative URLs with or without the leading slash.
 */
async function batch(req: SandboxRequest, ctx: ServiceContext): Promise<SandboxResponse> {
  const body = req.body as { requests?: unknown } | undefined;
  if (!body || !Array.isArray(body.requests))
    return graphError(req, 400, "BadRequest", "Invalid batch payload: a 'requests' array is required.");
  const requests = body.requests as Record<string, unknown>[];
  if (requests.length === 0)
    return graphError(req, 400, "BadRequest", "Invalid batch payload: the batch contains no requests.");
  if (requests.length > 20)
    return graphError(req, 400, "BadRequest", "The number of batch requests exceeds the limit of 20.");
  const ids = new Set<string>();
  for (const item of requests) {
    const id = item?.id;
    if (typeof id !== "string" || id === "")
      return graphError(req, 400, "BadRequest", "Each batch request needs a string 'id'.");
    if (ids.has(id.toLowerCase()))
      return graphError(req, 400, "BadRequest", `Batch request ids must be unique; '${id}' is repeated.`);
    ids.add(id.toLowerCase());
    if (typeof item.method !== "string" || typeof item.url !== "string") {
      return graphError(req, 400, "BadRequest", `Batch request '${id}' needs 'method' and 'url'.`);
    }
    if (
      item.body !== undefined &&
      !Object.keys((item.headers as Record<string, string>) ?? {}).some(
        (h) => h.toLowerCase() === "content-type",
      )
    ) {
      return graphError(
        req,
        400,
        "BadRequest",
        `Batch request '${id}' has a body but no Content-Type header.`,
      );
    }
  }
  const statusById = new Map<string, number>();
  const responses: { id: string; status: number; headers?: Record<string, string>; body?: unknown }[] = [];
  for (const item of requests) {
    const id = item.id as string;
    const depends = Array.isArray(item.dependsOn) ? (item.dependsOn as string[]) : [];
    const failed = depends.find((d) => (statusById.get(d.toLowerCase()) ?? 424) >= 400);
    if (failed !== undefined) {
      statusById.set(id.toLowerCase(), 424);
      responses.push({
        id,
        status: 424,
        body: {
          error: {
            code: "FailedDependency",
            message: `Dependent request '${failed}' failed or did not run.`,
          },
        },
      });
      continue;
    }
    const relative = (item.url as string).replace(/^\/+/, "");
    const innerHeaders: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries((item.headers as Record<string, string>) ?? {}))
      innerHeaders[name.toLowerCase()] = value;
    const rawBody =
      item.body === undefined ? "" : typeof item.body === "string" ? item.body : JSON.stringify(item.body);
    const inner: SandboxRequest = {
      method: (item.method as string).toUpperCase(),
      url: new URL(`/v1.0/${relative}`, `${ctx.endpoints.graphUrl}/`),
      headers: innerHeaders,
      body: typeof item.body === "object" ? item.body : undefined,
      rawBody,
      requestId: randomUUID(),
      token: req.token,
    };
    const result = await route(inner, ctx);
    statusById.set(id.toLowerCase(), result.status);
    const entry: { id: string; status: number; headers?: Record<string, string>; body?: unknown } = {
      id,
      status: result.status,
    };
    const contentType = Object.entries(result.headers ?? {}).find(
      ([h]) => h.toLowerCase() === "content-type",
    )?.[1];
    if (contentType) entry.headers = { "Content-Type": contentType };
    if (result.body !== undefined) entry.body = result.body;
    responses.push(entry);
  }
  return ok(req, 200, { responses });
}

/** The Graph service module. */
export const graphService: ServiceModule = {
  name: "graph",
  // Graph accepts its resource URI and its well-known app id as the audience (graph.md §7.11).
  audiences: (ctx) => [ctx.endpoints.graphUrl, GRAPH_APP_ID],
  appRoles: (app) => app.graphAppRoles,
  unauthorized: graphUnauthorized,
  throttled: graphThrottled,
  unavailable: graphUnavailable,
  handle: route,
};
