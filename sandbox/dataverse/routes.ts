/**
 * The route table of the Dataverse Web API below `/api/data/v9.x/`. A path is parsed into
 * segments (`name`, `name(<key>)`), and matched as a template in which every key reads `(*)`;
 * the keys are the handler's parameters. A known path with another method answers 405, a
 * table Dataverse has but the sandbox does not emulate 501, anything else Dataverse's own 404.
 */
import { matchRoute, type Route } from "../core/routes.ts";
import type { SandboxRequest, SandboxResponse, ServiceContext } from "../core/types.ts";
import { badQuery } from "./errors.ts";
import { type Call, methodNotAllowed, readRolesOrUnits, readTeams, unrouted, whoAmI } from "./handlers.ts";
import {
  associateRole,
  disassociateRole,
  listUserRoles,
  listUserTeams,
  roleIdFromReference,
} from "./handlers-roles.ts";
import {
  createSystemUser,
  deleteSystemUser,
  getSystemUser,
  listSystemUsers,
  retrieveUserPrivileges,
  updateSystemUser,
} from "./handlers-users.ts";
import { ROLE } from "./rows.ts";
import { identifyCaller, parseKeyGuid } from "./rules.ts";
import type { DataverseEnvironmentState } from "./state.ts";

/** Entity sets that exist in real Dataverse but that the sandbox does not emulate: a loud 501. */
const KNOWN_UNEMULATED = new Set([
  "$batch",
  "$metadata",
  "accounts",
  "contacts",
  "organizations",
  "RetrieveAadUserRoles",
  "RetrieveAadUserPrivileges",
  "EntityDefinitions",
]);

/** The sets this table routes; other shapes below them are not emulated (501). */
const ROUTED_SETS = new Set(["systemusers", "roles", "businessunits", "teams"]);

/** One parsed path segment: `name`, `name(<guid>)` or `name(key=value,...)`. */
interface Segment {
  name: string;
  /** Raw text between the parentheses, if any. */
  key?: string;
}

function parseSegment(raw: string): Segment {
  const text = decodeURIComponent(raw);
  const m = /^([^()]+)(?:\((.*)\))?$/s.exec(text);
  if (!m) throw badQuery(`Resource not found for the segment '${text}'.`, 404);
  return m[2] === undefined ? { name: m[1] as string } : { name: m[1] as string, key: m[2] };
}

const USER = String.raw`systemusers\(\*\)`;
const ROLES = `${USER}/systemuserroles_association`;
const ROLE_REFS = String.raw`${ROLES}/\$ref`;
const ROLE_REF = String.raw`${ROLES}\(\*\)/\$ref`;

/** `DELETE …/systemuserroles_association/$ref?$id=<role URL>`. */
function disassociateById(call: Call, userKey: string): SandboxResponse {
  const id = call.req.url.searchParams.get("$id");
  if (id === null)
    throw badQuery("The $id query option is required to delete a reference from a collection.");
  return disassociateRole(call, userKey, roleIdFromReference(id));
}

const keyed = (template: string) => new RegExp(`^${template}$`);

/** Handlers get the path's keys in order (`systemusers(<key>)/…(<roleid>)/$ref` → [key, roleid]). */
export const DATAVERSE_ROUTES: readonly Route<Call>[] = [
  { method: "GET", path: /^WhoAmI(?:\(\*\))?$/, handler: whoAmI },
  { method: "*", path: /^WhoAmI(?:\(\*\))?$/, handler: methodNotAllowed },
  { method: "GET", path: /^systemusers$/, handler: listSystemUsers },
  { method: "POST", path: /^systemusers$/, handler: createSystemUser },
  { method: "*", path: /^systemusers$/, handler: methodNotAllowed },
  { method: "GET", path: keyed(USER), handler: (call, [key]) => getSystemUser(call, key as string) },
  { method: "PATCH", path: keyed(USER), handler: (call, [key]) => updateSystemUser(call, key as string) },
  { method: "DELETE", path: keyed(USER), handler: (call, [key]) => deleteSystemUser(call, key as string) },
  { method: "*", path: keyed(USER), handler: methodNotAllowed },
  { method: "GET", path: keyed(ROLES), handler: (call, [key]) => listUserRoles(call, key as string) },
  {
    method: "GET",
    path: keyed(String.raw`${USER}/Microsoft\.Dynamics\.CRM\.RetrieveUserPrivileges(?:\(\*\))?`),
    handler: (call, [key]) => retrieveUserPrivileges(call, key as string),
  },
  {
    method: "GET",
    path: keyed(`${USER}/teammembership_association`),
    handler: (call, [key]) => listUserTeams(call, key as string),
  },
  { method: "*", path: keyed(ROLES), handler: methodNotAllowed },
  { method: "POST", path: keyed(ROLE_REFS), handler: (call, [key]) => associateRole(call, key as string) },
  {
    method: "DELETE",
    path: keyed(ROLE_REFS),
    handler: (call, [key]) => disassociateById(call, key as string),
  },
  { method: "*", path: keyed(ROLE_REFS), handler: methodNotAllowed },
  {
    method: "DELETE",
    path: keyed(ROLE_REF),
    handler: (call, [key, role]) => disassociateRole(call, key as string, parseKeyGuid(ROLE, role as string)),
  },
  { method: "*", path: keyed(ROLE_REF), handler: methodNotAllowed },
  { method: "GET", path: /^roles$/, handler: (call) => readRolesOrUnits(call, "roles") },
  { method: "GET", path: /^roles\(\*\)$/, handler: (call, [key]) => readRolesOrUnits(call, "roles", key) },
  { method: "GET", path: /^businessunits$/, handler: (call) => readRolesOrUnits(call, "businessunits") },
  {
    method: "GET",
    path: /^businessunits\(\*\)$/,
    handler: (call, [key]) => readRolesOrUnits(call, "businessunits", key),
  },
  { method: "GET", path: /^teams$/, handler: (call) => readTeams(call) },
  { method: "GET", path: /^teams\(\*\)$/, handler: (call, [key]) => readTeams(call, key) },
  {
    method: "GET",
    path: /^teams\(\*\)\/teamroles_association$/,
    handler: (call, [key]) => readTeams(call, key, "teamroles_association"),
  },
  {
    method: "GET",
    path: /^teams\(\*\)\/teammembership_association$/,
    handler: (call, [key]) => readTeams(call, key, "teammembership_association"),
  },
];

/** Routes one request below `/api/data/v9.x/` (`rest` = the path segments after it). */
export function routeDataverse(
  req: SandboxRequest,
  ctx: ServiceContext,
  env: DataverseEnvironmentState,
  rest: string[],
  apiBase: string,
): SandboxResponse | Promise<SandboxResponse> {
  const caller = identifyCaller(env, req);
  const call: Call = { req, ctx, env, caller, apiBase };
  const segments = rest.map(parseSegment);
  const first = segments[0];
  if (!first) return unrouted(req);
  // Keys become `(*)` in the template and are passed to the handler in order.
  const template = segments.map((s) => (s.key === undefined ? s.name : `${s.name}(*)`)).join("/");
  const keys = segments.flatMap((s) => (s.key === undefined ? [] : [s.key]));
  if (first.name === "WhoAmI" && first.key !== undefined && first.key !== "") {
    throw badQuery(`Resource not found for the segment '${first.name}'.`, 404);
  }
  const found = matchRoute(DATAVERSE_ROUTES, req.method, template);
  if (found) return found.route.handler(call, keys);
  if (KNOWN_UNEMULATED.has(first.name) || ROUTED_SETS.has(first.name)) return unrouted(req);
  // Not a Dataverse entity set or function: the service's own 404.
  throw badQuery(`Resource not found for the segment '${first.name}'.`, 404);
}
