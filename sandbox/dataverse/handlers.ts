/**
 * What every Dataverse handler shares: the call context, rendering a collection or a single
 * row through the query layer, reading a JSON body, and the reads of `roles`, `businessunits`
 * and `WhoAmI`. Users are in handlers-users.ts, role association in handlers-roles.ts.
 */
import type { SandboxRequest, SandboxResponse, ServiceContext } from "../core/types.ts";
import { badQuery, dataverseJson, notEmulated, notFound } from "./errors.ts";
import { collectionResponse, entityResponse, type Navigation } from "./query.ts";
import {
  BUSINESSUNIT,
  businessUnitToWire,
  type EntityInfo,
  ROLE,
  roleNavigations,
  roleToWire,
  SYSTEMUSER,
  systemUserNavigations,
  TEAM,
  teamNavigations,
  teamToWire,
} from "./rows.ts";
import { parseKeyGuid, requirePrivilege } from "./rules.ts";
import type { DataverseEnvironmentState, SystemUserRow } from "./state.ts";

/** Everything a route needs. */
export interface Call {
  req: SandboxRequest;
  ctx: ServiceContext;
  env: DataverseEnvironmentState;
  caller: SystemUserRow;
  /** `<origin>/api/data/v9.2` as the client addressed it. */
  apiBase: string;
}

export function collection(
  call: Call,
  entity: EntityInfo,
  rows: Record<string, unknown>[],
  navs: Record<string, Navigation>,
): SandboxResponse {
  const { body, headers } = collectionResponse(
    call.req,
    entity,
    rows,
    navs,
    call.apiBase,
    call.ctx.faults.fidelity.expandNextLinks,
  );
  return dataverseJson(call.req, 200, body, headers);
}

export function single(
  call: Call,
  entity: EntityInfo,
  row: Record<string, unknown>,
  navs: Record<string, Navigation>,
): SandboxResponse {
  return dataverseJson(call.req, 200, entityResponse(call.req, entity, row, navs, call.apiBase));
}

export function bodyObject(req: SandboxRequest): Record<string, unknown> {
  if (req.body === null || typeof req.body !== "object" || Array.isArray(req.body)) {
    throw badQuery("The request body must be a JSON object.");
  }
  return req.body as Record<string, unknown>;
}

export function bump(call: Call, user: SystemUserRow): void {
  user.versionnumber = call.env.nextVersion++;
  user.modifiedon = new Date(call.ctx.now()).toISOString();
  call.ctx.changed();
}

export function whoAmI(call: Call): SandboxResponse {
  return dataverseJson(call.req, 200, {
    "@odata.context": `${call.apiBase}/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`,
    BusinessUnitId: call.caller.businessunitid,
    UserId: call.caller.systemuserid,
    OrganizationId: call.env.organizationId,
  });
}

export function methodNotAllowed(call: Call): SandboxResponse {
  throw badQuery(`The requested resource does not support http method '${call.req.method}'.`, 405);
}

export function unrouted(req: SandboxRequest): SandboxResponse {
  return notEmulated(`The sandbox does not emulate ${req.method} ${req.url.pathname} (Dataverse Web API).`);
}

/** `GET roles`, `GET roles(<id>)`, `GET businessunits`, `GET businessunits(<id>)`. */
export function readRolesOrUnits(call: Call, set: "roles" | "businessunits", key?: string): SandboxResponse {
  const env = call.env;
  const isRole = set === "roles";
  const entity = isRole ? ROLE : BUSINESSUNIT;
  requirePrivilege(call, isRole ? "prvReadRole" : "prvReadBusinessUnit", entity);
  const navs = isRole ? roleNavigations(env) : {};
  if (key === undefined) {
    const rows = isRole
      ? env.roles.map((r) => roleToWire(env, r))
      : env.businessUnits.map((b) => businessUnitToWire(env, b));
    return collection(call, entity, rows, navs);
  }
  const id = parseKeyGuid(entity, key);
  if (isRole) {
    const role = env.roles.find((r) => r.roleid === id);
    if (!role) throw notFound(entity.logicalName, id);
    return single(call, entity, roleToWire(env, role), navs);
  }
  const unit = env.businessUnits.find((b) => b.businessunitid === id);
  if (!unit) throw notFound(entity.logicalName, id);
  return single(call, entity, businessUnitToWire(env, unit), navs);
}

/** `GET teams`, `GET teams(<id>)` and a team's `teamroles_association` / `teammembership_association`. */
export function readTeams(
  call: Call,
  key?: string,
  navigation?: "teamroles_association" | "teammembership_association",
): SandboxResponse {
  const env = call.env;
  requirePrivilege(call, "prvReadTeam", TEAM);
  const teams = env.teams ?? [];
  const navs = teamNavigations(env);
  if (key === undefined)
    return collection(
      call,
      TEAM,
      teams.map((t) => teamToWire(env, t)),
      navs,
    );
  const id = parseKeyGuid(TEAM, key);
  const team = teams.find((t) => t.teamid === id);
  if (!team) throw notFound(TEAM.logicalName, id);
  if (navigation === undefined) return single(call, TEAM, teamToWire(env, team), navs);
  const nav = navs[navigation] as Navigation;
  const rows = nav.related(teamToWire(env, team));
  return navigation === "teamroles_association"
    ? collection(call, ROLE, rows, roleNavigations(env))
    : collection(call, SYSTEMUSER, rows, systemUserNavigations(env));
}
