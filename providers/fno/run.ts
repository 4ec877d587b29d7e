/**
 * The run-wide state of `fno:User` in the provider process: one client per environment, the
 * bulk reads shared by every resource (role catalog, users, a snapshot of users and their rows,
 * the F&O user our app acts as), the users written in this process, and a user's rows read
 * fresh.
 */

import type { Change } from "../core/describe.ts";
import { isApiError } from "../core/errors.ts";
import { errorLine, warning } from "../core/provider.ts";
import { provenanceOf } from "../core/removal.ts";
import type { Runtime } from "../core/runtime.ts";
import { settled } from "../core/runtime.ts";
import {
  type DescribeRequest,
  type ExportContext,
  type ExportedPart,
  type ExportedSystem,
  environmentsOf,
  type PreflightInput,
  type PreflightProblem,
  type PreflightResult,
} from "../core/system.ts";
import { USER_DEFAULTS } from "../core/user.ts";
import {
  guestProblem,
  isPreconfiguredAccount,
  isSystemUserRole,
  matchUser,
  normalizeLegalEntities,
  protectedIdentityProblems,
  resolveRoles,
} from "./check.ts";
import { createFnoClient, type FnoClient } from "./client.ts";
import { checkedInputs, describeRemoval, describeUser } from "./describe.ts";
import {
  type FnoLiveState,
  type FnoPerson,
  type FnoRole,
  type FnoUserOutputs,
  type FnoUserRecord,
  LEGAL_ENTITY_ORGANIZATION_TYPE,
} from "./model.ts";
import { diff, isOwnedAssignment } from "./plan.ts";
import { fno } from "./service.ts";

export function clientFor(r: Runtime, environment: string): FnoClient {
  return createFnoClient({
    environment,
    fno: r.client(fno, environment),
    appId: r.settings.credential.clientId,
  });
}

/** The environment's role catalog: one bulk read per run. */
export function loadRoles(r: Runtime, client: FnoClient): Promise<FnoRole[]> {
  return r.cached(`fno:${client.environment}:roles`, () => client.listRoles());
}

/** Every user of the environment: one bulk paged read per run (checks in preview use it). */
export function loadUsers(r: Runtime, client: FnoClient): Promise<FnoUserRecord[]> {
  return r.cached(`fno:${client.environment}:users`, () => client.listUsers());
}

/**
 * The UserID of the F&O user our app acts as (`SysAADClients`), which d365-access never changes:
 * one request per environment and run. Undefined when F&O does not say: the app is registered
 * under another id, or its user may not read SysAADClients (then a warning says that the check
 * could not be made).
 */
export function loadAppUser(r: Runtime, client: FnoClient): Promise<string | undefined> {
  const appId = r.settings.credential.clientId;
  return r.cached(`fno:${client.environment}:app-user`, async () => {
    if (appId === undefined) return undefined;
    try {
      return (await client.getAadClient(appId))?.userId || undefined;
    } catch (e) {
      if (!isApiError(e, "Forbidden")) throw e;
      warning(
        "fno:User",
        { environment: client.environment },
        `cannot read SysAADClients (${e.message}), so d365-access cannot check that users.yaml leaves alone the F&O user app ${appId} acts as; give that user the System administrator role`,
      );
      return undefined;
    }
  });
}

/**
 * Every user, role row and organization row of the environment: three bulk paged reads per run,
 * indexed by UserID (lower-case) so each `read` looks at its own rows only.
 */
export function loadSnapshot(r: Runtime, client: FnoClient): Promise<Map<string, FnoLiveState>> {
  return r.cached(`fno:${client.environment}:snapshot`, async () => {
    const [users, assignments, organizations] = await settled([
      loadUsers(r, client),
      client.listUserRoles(),
      client.listUserRoleOrganizations(),
    ]);
    const byUser = new Map<string, { [K in keyof FnoLiveState]: FnoLiveState[K][number][] }>();
    const slot = (userId: string) => {
      const key = userId.toLowerCase();
      let entry = byUser.get(key);
      if (!entry) {
        entry = { users: [], assignments: [], organizations: [] };
        byUser.set(key, entry);
      }
      return entry;
    };
    for (const u of users) slot(u.userId).users.push(u);
    for (const a of assignments) slot(a.userId).assignments.push(a);
    for (const o of organizations) slot(o.userId).organizations.push(o);
    return byUser as Map<string, FnoLiveState>;
  });
}

/** UserIDs (lower-case, per environment) written in this process: the snapshot is stale for them. */
export function written(r: Runtime): Promise<Set<string>> {
  return r.cached("fno:written", async () => new Set<string>());
}

export const writtenKey = (environment: string, userId: string): string =>
  `${environment}\n${userId.toLowerCase()}`;

/**
 * One user's record and rows, read fresh: the records holding the Alias or the UserID (the one
 * the resource manages, or the declared one), then the rows of the one it maps to.
 */
export async function readUser(
  client: FnoClient,
  upn: string,
  userId: string,
  managed?: string,
): Promise<FnoLiveState> {
  const users = await client.findUserByAlias(upn, managed ?? userId);
  const record =
    matchUser({ upn, userId }, users, { managed }).record ??
    users.find((u) => u.userId.toLowerCase() === (managed ?? userId).toLowerCase());
  if (!record) return { users, assignments: [], organizations: [] };
  const [assignments, organizations] = await settled([
    client.listUserRoles(record.userId),
    client.listUserRoleOrganizations(record.userId),
  ]);
  return { users, assignments, organizations };
}

/**
 * The rows of the records with these UserIDs and of the records holding this Alias, from the
 * snapshot: what planUser needs to match and plan one declaration.
 */
function liveOf(
  snapshot: Map<string, FnoLiveState>,
  users: readonly FnoUserRecord[],
  alias: string,
  ids: string[],
) {
  const wanted = new Set(ids.filter((id) => id !== "").map((id) => id.toLowerCase()));
  for (const u of users)
    if (u.alias.toLowerCase() === alias.toLowerCase()) wanted.add(u.userId.toLowerCase());
  const rows = [...wanted].map((id) => snapshot.get(id)).filter((r): r is FnoLiveState => r !== undefined);
  return {
    users: rows.flatMap((r) => r.users),
    assignments: rows.flatMap((r) => r.assignments),
    organizations: rows.flatMap((r) => r.organizations),
  };
}

/**
 * What `up` will do to each F&O user of the request (core/system.ts `Describer`): per
 * environment the bulk reads the run shares (roles, users and their rows, the app's user), then
 * the pure descriptions of describe.ts. A declared user with a last deployment changes when the
 * engine will update it: after a refresh whenever the plan against the live rows changes
 * something; without, when users.yaml changed it. A declaration the plan refuses (an unknown
 * role, a protected account) is left to the provider's check, which reports it.
 */
export async function describeChanges(
  r: Runtime,
  request: DescribeRequest<FnoPerson>,
): Promise<Map<string, Change>> {
  const out = new Map<string, Change>();
  for (const environment of environmentsOf(request)) {
    const client = clientFor(r, environment);
    const [catalog, users, snapshot, appUserId] = await settled([
      loadRoles(r, client),
      loadUsers(r, client),
      loadSnapshot(r, client),
      loadAppUser(r, client),
    ]);
    for (const item of request.declared.filter((d) => d.environment === environment)) {
      const inputs = checkedInputs(item.user, environment, item.objectId);
      if (!inputs) continue;
      const last = item.last as FnoUserOutputs | undefined;
      const live = liveOf(snapshot, users, inputs.upn, [inputs.userId, item.lastId ?? ""]);
      let change: Change;
      try {
        change = describeUser(inputs, live, catalog, {
          verb: last ? "updates" : "adopts",
          options: { appUserId, managed: item.lastId },
        });
      } catch {
        continue;
      }
      if (last && !(diff(last, inputs).changes || (request.refresh && change.changes.length > 0))) continue;
      out.set(item.name, change);
    }
    for (const item of request.removed.filter((x) => x.outputs.environment === environment)) {
      const outputs = item.outputs as unknown as FnoUserOutputs;
      const removal = {
        provenance: provenanceOf(outputs.adopted),
        onRemove: outputs.onRemove ?? USER_DEFAULTS.onRemove,
      };
      const live = liveOf(snapshot, [], "", [item.id]);
      try {
        out.set(item.name, describeRemoval(item.id, outputs, live, catalog, removal, { appUserId }));
      } catch {
        // a protected account: the provider's delete refuses it, with the reason
      }
    }
  }
  return out;
}

/** The environment's legal-entity codes, upper case: one bulk read per run. */
export function loadLegalEntities(r: Runtime, client: FnoClient): Promise<Set<string>> {
  return r.cached(
    `fno:${client.environment}:legal-entities`,
    async () => new Set((await client.listLegalEntities()).map((e) => e.toUpperCase())),
  );
}

/**
 * The pre-flight of one environment (core/system.ts): the token and the app's registration
 * (a 401 on the bulk reads), its F&O user's role (a 403), every declared role resolved in the
 * catalogue (identifier, else label), every legal entity known to the environment, every UPN F&O
 * accepts and no identity d365-access never manages. Bulk reads only; nothing is written.
 */
export async function preflight(
  r: Runtime,
  input: PreflightInput<FnoPerson>,
  environment: string,
): Promise<PreflightResult<FnoPerson>> {
  const client = clientFor(r, environment);
  const label = `F&O environment "${environment}"`;
  const reads = await Promise.allSettled([
    loadRoles(r, client),
    loadUsers(r, client),
    loadLegalEntities(r, client),
  ]);
  const failed = reads.find((x) => x.status === "rejected");
  // One line per environment: a refused token or a missing role fails every read alike.
  if (failed) return { problems: [{ message: `${label}: ${errorLine(failed.reason)}` }] };
  const [catalog, users, entities] = reads.map((x) => (x as PromiseFulfilledResult<unknown>).value) as [
    FnoRole[],
    FnoUserRecord[],
    Set<string>,
  ];
  const appUserId = await loadAppUser(r, client);
  const problems: PreflightProblem[] = [];
  const seen = new Set<string>();
  const once = (key: string, problem: PreflightProblem) => {
    if (seen.has(key)) return;
    seen.add(key);
    problems.push(problem);
  };
  for (const user of input.users) {
    const access = user.fno.find((f) => f.environment === environment);
    if (!access) continue;
    const guest = guestProblem(user.upn);
    if (guest) once(`upn|${user.upn}`, { message: `${label}: ${user.upn}: ${guest}`, at: [input.at(user)] });
    for (const reason of protectedIdentityProblems({ upn: user.upn, userId: access.userId }, users, {
      appUserId,
    }))
      once(`protected|${user.upn}`, { message: `${label}: ${reason}`, at: [input.at(user)] });
    for (const role of access.roles) {
      for (const reason of resolveRoles([{ role: role.role, legalEntities: [] }], catalog).problems)
        once(`role|${role.role.toLowerCase()}`, {
          message: `${label}: ${reason}`,
          at: input.where("fno-role", role.role, environment),
        });
      for (const entity of role.legalEntities) unknownEntity(entity);
    }
    unknownEntity(access.company);
  }
  function unknownEntity(code: string): void {
    if (entities.has(code.toUpperCase())) return;
    once(`entity|${code.toUpperCase()}`, {
      message: `${label}: legal entity "${code}" is unknown in LegalEntities (known: ${[...entities].sort().join(", ")})`,
      at: input.where("legal-entity", code, environment),
    });
  }
  return {
    problems,
    roleKey: (role) => resolveRoles([{ role, legalEntities: [] }], catalog).roles[0]?.roleId.toLowerCase(),
  };
}

/**
 * The Entra guest whose F&O user this is: F&O signs a B2B guest in by its home address
 * (`grady@fabrikam.example`), Entra names it `grady_fabrikam.example#EXT#@<tenant domain>`
 * (https://learn.microsoft.com/entra/external-id/user-properties). That F&O keeps the home
 * address as Alias is UNCONFIRMED (observed in imported guests, and how the sandbox seeds them);
 * the safe side either way: such a user is only noted on the guest, never declared.
 */
function guestsByHomeAddress(context: ExportContext): Map<string, string> {
  const guests = new Map<string, string>();
  for (const [upn, objectId] of context.upns) {
    const marker = upn.indexOf("#ext#@");
    const local = upn.slice(0, marker);
    const at = local.lastIndexOf("_");
    if (marker > 0 && at > 0) guests.set(`${local.slice(0, at)}@${local.slice(at + 1)}`, objectId);
  }
  return guests;
}

/** Whether users.yaml can leave `userId` out: the id it derives from the UPN is the user's. */
function derivable(userId: string, upn: string): boolean {
  const alias = upn.split("@")[0] ?? "";
  return userId === alias.toLowerCase() && /^[a-z0-9](?:[a-z0-9._-]{0,18}[a-z0-9])?$/.test(userId);
}

/**
 * `export`: every F&O user whose Alias is an Entra UPN, with its company and its Manual, Enabled
 * roles and their legal entities (what d365-access owns); rule-based rows and exclusions are
 * notes. Microsoft's preconfigured accounts and the user our app acts as are left out. Bulk
 * reads: users, roles, role rows, organization rows, and the app's SysAADClients entry.
 */
export async function exportAccess(
  r: Runtime,
  context: ExportContext,
  environment: string,
): Promise<ExportedSystem> {
  const client = clientFor(r, environment);
  const [snapshot, catalog, appUser] = await settled([
    loadSnapshot(r, client),
    loadRoles(r, client),
    loadAppUser(r, client),
  ]);
  const roleById = new Map(catalog.map((role) => [role.identifier.toLowerCase(), role]));
  const skipped: string[] = [];
  const found: { objectId: string; record: FnoUserRecord; live: FnoLiveState }[] = [];
  const guests = new Map<string, FnoUserRecord>();
  const homeAddresses = guestsByHomeAddress(context);
  for (const live of snapshot.values()) {
    for (const record of live.users) {
      const objectId = context.upns.get(record.alias.toLowerCase());
      if (isPreconfiguredAccount(record.userId))
        skipped.push(`user ${record.userId}: one of Microsoft's preconfigured accounts`);
      else if (appUser !== undefined && appUser.toLowerCase() === record.userId.toLowerCase())
        skipped.push(`user ${record.userId}: the user d365-access's own app acts as (SysAADClients)`);
      else if (objectId) found.push({ objectId, record, live });
      else {
        const guest = homeAddresses.get(record.alias.toLowerCase());
        if (guest) guests.set(guest, record);
        else
          skipped.push(`user ${record.userId}: no Entra user has its Alias ${JSON.stringify(record.alias)}`);
      }
    }
  }
  // The most common company becomes the environment's default; users elsewhere name theirs.
  const companies = new Map<string, number>();
  for (const { record } of found) {
    const c = record.company.toUpperCase();
    companies.set(c, (companies.get(c) ?? 0) + 1);
  }
  const defaultCompany = [...companies].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
  const parts = new Map<string, ExportedPart>();
  for (const { objectId, record, live } of found) {
    const upn = context.objectIds.get(objectId) ?? record.alias;
    const notes: string[] = [];
    const grants: unknown[] = [];
    const labels: string[] = [];
    const rows = live.assignments.filter((a) => !isSystemUserRole(a.roleId));
    for (const a of [...rows].sort((x, y) => x.roleId.localeCompare(y.roleId))) {
      const role = roleById.get(a.roleId.toLowerCase());
      const id = role?.identifier ?? a.roleId;
      if (!isOwnedAssignment(a)) {
        notes.push(
          a.mode.toLowerCase() === "automatic"
            ? `${id} from an automatic role assignment rule (${a.status}): the rule's, not declared`
            : `${id}: a ${a.mode} row that is ${a.status} (an exclusion from a rule): not declared`,
        );
        continue;
      }
      if (!role) {
        notes.push(`${a.roleId}: a role the environment's catalog does not list, not declared`);
        continue;
      }
      const legalEntities = normalizeLegalEntities(
        live.organizations
          .filter(
            (o) =>
              o.roleId.toLowerCase() === a.roleId.toLowerCase() &&
              o.organizationType === LEGAL_ENTITY_ORGANIZATION_TYPE,
          )
          .map((o) => o.organizationId),
      );
      grants.push(legalEntities.length ? { role: id, legalEntities } : id);
      labels.push(role?.name || a.roleName || id);
    }
    const company = record.company.toUpperCase();
    parts.set(objectId, {
      fields: {
        ...(derivable(record.userId, upn) ? {} : { userId: record.userId }),
        ...(company === defaultCompany ? {} : { company }),
      },
      grants,
      labels,
      shared: { displayName: record.userName, enabled: record.enabled },
      notes,
      declare: true,
      footprint: true,
      attributes: { company },
    });
  }
  for (const [objectId, record] of guests) {
    parts.set(objectId, {
      fields: {},
      grants: [],
      labels: [],
      shared: {},
      notes: [
        `user ${record.userId} (Alias ${record.alias}) is this guest's: d365-access does not manage guests in F&O, not declared`,
      ],
      declare: false,
      footprint: true,
      attributes: { company: record.company.toUpperCase() },
    });
  }
  return {
    parts,
    skipped: skipped.sort(),
    environment: { fno: true, ...(defaultCompany ? { defaultCompany } : {}) },
  };
}
