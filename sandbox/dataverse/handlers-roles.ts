/**
 * Handlers of role association (N:N `systemuserroles_association`): list a user's roles,
 * associate with `$ref`, disassociate in both documented URL forms.
 * https://learn.microsoft.com/power-apps/developer/data-platform/webapi/associate-disassociate-entities-using-web-api
 */

import { isGuid } from "../core/ids.ts";
import type { SandboxResponse } from "../core/types.ts";
import { badQuery, dataverseNoContent, notFound } from "./errors.ts";
import { bump, type Call, collection } from "./handlers.ts";
import { ROLE, roleNavigations, rolesOf, TEAM, teamNavigations, teamToWire } from "./rows.ts";
import { checkNoElevation, checkRoleAssignment, requirePrivilege, resolveSystemUser } from "./rules.ts";

/** `GET systemusers(<key>)/systemuserroles_association`. */
export function listUserRoles(call: Call, userKey: string): SandboxResponse {
  requirePrivilege(call, "prvReadRole", ROLE);
  const user = resolveSystemUser(call, userKey, false);
  return collection(call, ROLE, rolesOf(call.env, user), roleNavigations(call.env));
}

/** Extracts the role id from an `@odata.id` (absolute or relative `roles(<guid>)`). */
export function roleIdFromReference(reference: unknown): string {
  if (typeof reference !== "string" || reference.trim() === "") {
    throw badQuery("The payload must contain '@odata.id' with the URL of the related record.");
  }
  let path = reference.trim();
  if (/^https?:\/\//i.test(path)) {
    let url: URL;
    try {
      url = new URL(path);
    } catch {
      throw badQuery(`The URI '${reference}' is not valid.`);
    }
    path = decodeURIComponent(url.pathname).replace(/^\/api\/data\/v9\.\d\//, "");
  }
  const m = /^\/?roles\((.*)\)$/.exec(path);
  if (!m || !isGuid(m[1] as string)) {
    // TF maps 0x80060888 carrying the role id to "role with id X is not valid" (reference §3).
    throw badQuery(
      `The URI '${reference}' does not address a record of roles: invalid role id '${m?.[1] ?? path}'.`,
    );
  }
  return (m[1] as string).toLowerCase();
}

/** `GET systemusers(<key>)/teammembership_association`: the teams the user is a member of. */
export function listUserTeams(call: Call, userKey: string): SandboxResponse {
  requirePrivilege(call, "prvReadTeam", TEAM);
  const user = resolveSystemUser(call, userKey, false);
  const teams = (call.env.teams ?? []).filter((t) => t.memberids.includes(user.systemuserid));
  return collection(
    call,
    TEAM,
    teams.map((t) => teamToWire(call.env, t)),
    teamNavigations(call.env),
  );
}

/** `POST systemusers(<key>)/systemuserroles_association/$ref` (the key may be the alternate key: JIT). */
export function associateRole(call: Call, userKey: string): SandboxResponse {
  requirePrivilege(call, "prvAssignRole", ROLE);
  const body = call.req.body as Record<string, unknown> | undefined;
  const roleid = roleIdFromReference(body?.["@odata.id"]);
  const role = call.env.roles.find((r) => r.roleid === roleid);
  if (!role) throw notFound("role", roleid);
  // Checked before the user is resolved: a refused assignment must not create the user (JIT).
  checkNoElevation(call.env, call.caller, role);
  const user = resolveSystemUser(call, userKey, true);
  checkRoleAssignment(call.env, user, role);
  user.roleids.push(roleid);
  bump(call, user);
  return dataverseNoContent(call.req);
}

/** `DELETE …/systemuserroles_association(<roleid>)/$ref` and `…/$ref?$id=<role URL>`. */
export function disassociateRole(call: Call, userKey: string, roleid: string): SandboxResponse {
  requirePrivilege(call, "prvAssignRole", ROLE);
  const user = resolveSystemUser(call, userKey, false);
  if (!call.env.roles.some((r) => r.roleid === roleid)) throw notFound("role", roleid);
  // Removing a role the user lacks: the real answer is UNCONFIRMED (TF accepts 204/403/404);
  // the sandbox treats disassociation as idempotent and answers 204.
  if (user.roleids.includes(roleid)) {
    user.roleids = user.roleids.filter((id) => id !== roleid);
    bump(call, user);
  }
  return dataverseNoContent(call.req);
}
