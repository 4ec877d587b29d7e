/**
 * Admin routes of F&O (`/fno/<env>/...` on the admin origin), to set up a case without editing
 * the state file:
 *
 *   PUT    /fno/<env>/apps/<appId> {userId, name?}   → 200: the app registered (SysAADClients) as userId
 *   DELETE /fno/<env>/apps/<appId>                   → 204: the app no longer registered
 *   POST   /fno/<env>/users {UserID, UserName?, Alias, Company?, Enabled?, roles?: [grant],
 *                            referencedBy?}           → 201 (grant: {role, mode?, status?, legalEntities?})
 *   POST   /fno/<env>/users/<UserID>/roles {role, mode?, status?, legalEntities?} → 201
 *   POST   /fno/<env>/role-rules {role, company, name?}  → 201: an automatic role assignment rule
 *   POST   /fno/<env>/automatic-role-assignment       → 200 {changed}: "Run automatic role assignment"
 *   PUT    /fno/<env>/ineffective-writes/<set> {methods?: [POST|PATCH|DELETE]}
 *                                                     → 200: writes to the set answer success and change nothing
 *   DELETE /fno/<env>/ineffective-writes             → 204: every set writes for real again
 */
import { AdminInputError, adminJson, flag, records, text, texts } from "../core/admin-input.ts";
import type { Route } from "../core/routes.ts";
import type { AdminCall, ServiceContext } from "../core/types.ts";
import { WRITABLE_SETS } from "./rules.ts";
import { runAutomaticRoleAssignment } from "./rules-roles.ts";
import { ENTRA_PROVIDER, grantRole, newSystemUserRecord } from "./seed.ts";
import { allocateRecId, type FnoEnvironmentState } from "./state.ts";

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

function environment(ctx: ServiceContext, name: string): FnoEnvironmentState {
  const env = ctx.state.fno[name];
  if (!env) throw new AdminInputError(`no F&O environment '${name}'`);
  return env;
}

function register({ ctx, body }: AdminCall, envName: string, appId: string) {
  const env = environment(ctx, envName);
  const userId = text(body, "userId");
  const user = env.users.find((u) => same(u.UserID, userId));
  if (!user) throw new AdminInputError(`no F&O user '${userId}'`);
  let client = env.aadClients.find((c) => same(c.AADClientId, appId));
  if (!client) {
    client = { RecId: allocateRecId(env), RecVersion: 1, AADClientId: appId, Name: "", UserId: user.UserID };
    env.aadClients.push(client);
  }
  client.UserId = user.UserID;
  client.Name = text(body, "name", true) ?? client.Name;
  ctx.changed();
  return adminJson(200, client);
}

function unregister({ ctx }: AdminCall, envName: string, appId: string) {
  const env = environment(ctx, envName);
  env.aadClients = env.aadClients.filter((c) => !same(c.AADClientId, appId));
  ctx.changed();
  return adminJson(204);
}

function grant(env: FnoEnvironmentState, userId: string, g: Record<string, unknown>): void {
  const role = text(g, "role");
  if (!env.roles.some((r) => r.SecurityRoleIdentifier === role))
    throw new AdminInputError(`no role '${role}'`);
  const mode = text(g, "mode", true) ?? "Manual";
  const status = text(g, "status", true) ?? "Enabled";
  if (!["Manual", "Automatic"].includes(mode))
    throw new AdminInputError("'mode' must be Manual or Automatic");
  if (!["Enabled", "Disabled"].includes(status))
    throw new AdminInputError("'status' must be Enabled or Disabled");
  if (env.userRoles.some((r) => same(r.UserId, userId) && r.SecurityRoleIdentifier === role))
    throw new AdminInputError(`${userId} holds ${role} already`);
  const legalEntities = texts(g, "legalEntities").map((le) => {
    if (!env.legalEntities.some((l) => same(l.LegalEntityId, le)))
      throw new AdminInputError(`no legal entity '${le}'`);
    return le.toUpperCase();
  });
  grantRole(env, userId, role, {
    mode: mode as "Manual" | "Automatic",
    status: status as "Enabled" | "Disabled",
    legalEntities,
  });
}

function addUser({ ctx, body }: AdminCall, envName: string) {
  const env = environment(ctx, envName);
  const userId = text(body, "UserID");
  if (userId.length > 20) throw new AdminInputError("'UserID' holds at most 20 characters");
  if (env.users.some((u) => same(u.UserID, userId)))
    throw new AdminInputError(`an F&O user '${userId}' exists`);
  const alias = text(body, "Alias");
  env.users.push(
    newSystemUserRecord(allocateRecId(env), {
      UserID: userId,
      UserName: text(body, "UserName", true) ?? userId,
      Alias: alias,
      Email: alias,
      NetworkDomain: text(body, "NetworkDomain", true) ?? ENTRA_PROVIDER,
      Enabled: flag(body, "Enabled") ?? true,
      Company: text(body, "Company", true) ?? "USMF",
      UserInfo_language: "en-us",
      Helplanguage: "en-us",
      Language: "en-us",
      AccountType: "ClaimsUser",
    }),
  );
  for (const g of records(body, "roles")) grant(env, userId, g);
  const referencedBy = text(body, "referencedBy", true);
  if (referencedBy)
    env.userReferences = [...(env.userReferences ?? []), { UserId: userId, Table: referencedBy }];
  ctx.changed();
  return adminJson(201, { UserID: userId });
}

function addGrant({ ctx, body }: AdminCall, envName: string, userId: string) {
  const env = environment(ctx, envName);
  const user = env.users.find((u) => same(u.UserID, userId));
  if (!user) throw new AdminInputError(`no F&O user '${userId}'`);
  grant(env, user.UserID, body);
  ctx.changed();
  return adminJson(201);
}

function addRule({ ctx, body }: AdminCall, envName: string) {
  const env = environment(ctx, envName);
  const role = text(body, "role");
  if (!env.roles.some((r) => r.SecurityRoleIdentifier === role))
    throw new AdminInputError(`no role '${role}'`);
  const company = text(body, "company");
  env.roleRules = [
    ...(env.roleRules ?? []),
    {
      RecId: allocateRecId(env),
      RecVersion: 1,
      SecurityRoleIdentifier: role,
      Company: company,
      Name: text(body, "name", true) ?? `${company} ${role}`,
    },
  ];
  ctx.changed();
  return adminJson(201);
}

function runRules({ ctx }: AdminCall, envName: string) {
  const changed = runAutomaticRoleAssignment(environment(ctx, envName));
  if (changed) ctx.changed();
  return adminJson(200, { changed });
}

const WRITE_METHODS = ["POST", "PATCH", "DELETE"];

/** Makes writes to `set` answer as usual while changing nothing (the community's 204-and-nothing report). */
function ineffective({ ctx, body }: AdminCall, envName: string, set: string) {
  const env = environment(ctx, envName);
  if (!WRITABLE_SETS.has(set)) throw new AdminInputError(`'${set}' is not a writable F&O entity set`);
  const methods = texts(body, "methods").map((m) => m.toUpperCase());
  for (const m of methods)
    if (!WRITE_METHODS.includes(m))
      throw new AdminInputError(`'methods' holds ${m}: use POST, PATCH or DELETE`);
  const entry = { set, methods: methods.length > 0 ? methods : [...WRITE_METHODS] };
  env.ineffectiveWrites = [...(env.ineffectiveWrites ?? []).filter((w) => w.set !== set), entry];
  ctx.changed();
  return adminJson(200, entry);
}

function effective({ ctx }: AdminCall, envName: string) {
  const env = environment(ctx, envName);
  delete env.ineffectiveWrites;
  ctx.changed();
  return adminJson(204);
}

const decode = (s: string | undefined) => decodeURIComponent(s ?? "");

export const FNO_ADMIN_ROUTES: Route<AdminCall>[] = [
  {
    method: "PUT",
    path: /^\/([^/]+)\/apps\/([^/]+)$/,
    handler: (c, [e, a]) => register(c, decode(e), decode(a)),
  },
  {
    method: "DELETE",
    path: /^\/([^/]+)\/apps\/([^/]+)$/,
    handler: (c, [e, a]) => unregister(c, decode(e), decode(a)),
  },
  { method: "POST", path: /^\/([^/]+)\/users$/, handler: (c, [e]) => addUser(c, decode(e)) },
  {
    method: "POST",
    path: /^\/([^/]+)\/users\/([^/]+)\/roles$/,
    handler: (c, [e, u]) => addGrant(c, decode(e), decode(u)),
  },
  { method: "POST", path: /^\/([^/]+)\/role-rules$/, handler: (c, [e]) => addRule(c, decode(e)) },
  {
    method: "POST",
    path: /^\/([^/]+)\/automatic-role-assignment$/,
    handler: (c, [e]) => runRules(c, decode(e)),
  },
  {
    method: "PUT",
    path: /^\/([^/]+)\/ineffective-writes\/([^/]+)$/,
    handler: (c, [e, s]) => ineffective(c, decode(e), decode(s)),
  },
  { method: "DELETE", path: /^\/([^/]+)\/ineffective-writes$/, handler: (c, [e]) => effective(c, decode(e)) },
];
