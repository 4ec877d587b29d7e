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
  const { body, headers } = collectionResponse(call.req, entity, rows, navs, call.apiBase);
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
