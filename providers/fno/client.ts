/**
 * The F&O OData calls of the F&O user resource: the only place with their URLs and query options.
 * One method per remote operation, named by intent; accepted statuses stated; "not found"
 * returned as `undefined` (or `false` for removals); paging hidden inside. Every key and
 * `$filter` goes through the core's OData helpers, never string concatenation. Wire shapes and
 * conversions live in dto.ts.
 *
 * Service facts (unless noted,
 * https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/odata):
 *  - root `/data/`; pages of at most 10,000 rows continued by `@odata.nextLink`;
 *  - the security entities are shared (no company): `cross-company=true` changes nothing, but is
 *    sent on bulk reads so a version that scopes them to the caller's company cannot hand us a
 *    partial list
 *    (https://learn.microsoft.com/dynamics365/fin-ops-core/dev-itpro/data-entities/cross-company-behavior);
 *  - no `in`/`contains()`: several values become `eq … or eq …`; a `*` inside an `eq`
 *    literal is a wildcard, so every lookup result is re-checked exactly by the planner;
 *  - enum literals in keys and filters are qualified: `Microsoft.Dynamics.DataEntities.<Enum>'<Member>'`;
 *  - "absent" is only a 404 whose body is an OData error: while an environment is serviced or
 *    recycled every request may answer 404 or 503 without one, which is a transient failure
 *    (service.ts), never "the user is gone";
 *  - a 2xx on a role write is not proof that it took effect (one community report of a role
 *    entity answering 204 and changing nothing): every role grant and revoke is read back (one
 *    query per user and entity, `confirmWrites`), and one that did not take effect fails naming
 *    the entity.
 */
import { ApiError, isApiError } from "../core/errors.ts";
import type { ServiceClient } from "../core/http.ts";
import { type FilterExpression, filter, odataKey } from "../core/odata.ts";
import { settled } from "../core/runtime.ts";
import {
  fromFnoUserChanges,
  fromLegalEntityRestriction,
  fromNewFnoUser,
  fromRoleAssignment,
  fromRoleEnable,
  type SecurityRoleDto,
  type SecurityUserRoleDto,
  type SecurityUserRoleOrganizationDto,
  type SysAadClientDto,
  type SystemUserDto,
  toFnoRole,
  toFnoRoleAssignment,
  toFnoRoleOrganization,
  toFnoUser,
} from "./dto.ts";
import {
  type FnoRole,
  type FnoRoleAssignment,
  type FnoRoleOrganization,
  type FnoUserChanges,
  type FnoUserRecord,
  LEGAL_ENTITY_ORGANIZATION_TYPE,
  type NewFnoUser,
} from "./model.ts";

/** Path of the OData root below the environment origin. */
export const DATA_PATH = "data";
/** Namespace of F&O's enum types in `$metadata`. */
export const ENUM_NAMESPACE = "Microsoft.Dynamics.DataEntities";
/**
 * F&O's largest page (see the service facts above). Paging is server-driven: we never send
 * `$top` (it would cap the whole result, not the page) and follow `@odata.nextLink` until it is
 * absent.
 */
export const MAX_PAGE_SIZE = 10_000;

const SETS = {
  users: `${DATA_PATH}/SystemUsers`,
  roles: `${DATA_PATH}/SecurityRoles`,
  userRoles: `${DATA_PATH}/SecurityUserRoles`,
  userRoleOrganizations: `${DATA_PATH}/SecurityUserRoleOrganizations`,
  aadClients: `${DATA_PATH}/SysAADClients`,
  legalEntities: `${DATA_PATH}/LegalEntities`,
} as const;

// Only what we read: smaller pages and no dependence on properties other versions may lack.
const USER_SELECT = "UserID,UserName,Alias,Email,NetworkDomain,AccountType,Company,Enabled";
const ROLE_SELECT = "SecurityRoleIdentifier,SecurityRoleName";
const USER_ROLE_SELECT = "UserId,SecurityRoleIdentifier,SecurityRoleName,AssignmentStatus,AssignmentMode";
const USER_ROLE_ORG_SELECT = "UserId,SecurityRoleIdentifier,OrganizationType,OrganizationId";
const CROSS_COMPANY = { "cross-company": "true" };

const SECURITY_ADMIN_HINT =
  "give the F&O user that the app acts as (System administration > Setup > Microsoft Entra applications) the Security administrator or System administrator role";

/**
 * A role write to read back: a role row (`legalEntity` undefined) left `Enabled`/`Disabled`
 * (Manual) or absent, or a legal-entity row left present or absent.
 */
export interface RoleWrite {
  method: "POST" | "PATCH" | "DELETE";
  roleId: string;
  legalEntity?: string;
  expect: "Enabled" | "Disabled" | "present" | "absent";
}

/** Options of {@link createFnoClient}. */
export interface FnoClientOptions {
  /** Logical environment name, for messages. */
  environment: string;
  /** The environment's F&O client (base = the environment origin, scope `<origin>/.default`). */
  fno: ServiceClient;
  /** The app (client) id we sign in as; named in the hint when F&O refuses the token. */
  appId?: string;
}

/** The F&O user and security operations of one environment. */
export interface FnoClient {
  readonly environment: string;
  /** `GET SystemUsers(UserID='…')` → 200; undefined on an OData 404. */
  getUser(userId: string): Promise<FnoUserRecord | undefined>;
  /**
   * `GET SystemUsers?$filter=Alias eq '…'` → 200 (F&O compares strings case-insensitively, SQL
   * collation). With `orUserId`, also the record holding that UserID, in the same request.
   */
  findUserByAlias(upn: string, orUserId?: string): Promise<FnoUserRecord[]>;
  /** Every user (bulk, paged, cross-company) → 200 per page. */
  listUsers(): Promise<FnoUserRecord[]>;
  /** Every security role → 200 per page. */
  listRoles(): Promise<FnoRole[]>;
  /** The legal entities' codes (`LegalEntities`, key LegalEntityId) → 200 per page. */
  listLegalEntities(): Promise<string[]>;
  /** Every user-role row, or one user's (`$filter=UserId eq …`) → 200 per page. */
  listUserRoles(userId?: string): Promise<FnoRoleAssignment[]>;
  /** Every role-organization row, or one user's → 200 per page. */
  listUserRoleOrganizations(userId?: string): Promise<FnoRoleOrganization[]>;
  /**
   * `POST SystemUsers` → 201. Never replayed blindly: after an ambiguous failure the user is
   * looked up by UserID first; it is sent once more only when absent.
   */
  createUser(user: NewFnoUser): Promise<void>;
  /** `PATCH SystemUsers(UserID='…')` with only the changed fields → 204 (or 200). */
  updateUser(userId: string, changes: FnoUserChanges): Promise<void>;
  /** `DELETE SystemUsers(UserID='…')` → 204; false when already gone (OData 404). */
  deleteUser(userId: string): Promise<boolean>;
  /**
   * `POST SecurityUserRoles` (manual; enabled unless `enabled` is false) → 201; a row that already
   * exists counts as done. Confirmed by {@link FnoClient.confirmWrites}.
   */
  assignRole(userId: string, roleId: string, roleName: string, enabled?: boolean): Promise<void>;
  /**
   * `PATCH SecurityUserRoles(UserId=…,SecurityRoleIdentifier=…)` `{AssignmentStatus: Enabled,
   * AssignmentMode: Manual}` → 204: the row grants the role and is ours (an exclusion or a
   * disabled rule row becomes a manual assignment). Confirmed by {@link FnoClient.confirmWrites}.
   */
  enableRole(userId: string, roleId: string): Promise<void>;
  /** `DELETE SecurityUserRoles(UserId=…,SecurityRoleIdentifier=…)` → 204; false when already gone. */
  removeRole(userId: string, roleId: string): Promise<boolean>;
  /** `POST SecurityUserRoleOrganizations` (a legal entity) → 201; an existing row counts as done. */
  addRoleOrganization(userId: string, roleId: string, legalEntity: string): Promise<void>;
  /** `DELETE SecurityUserRoleOrganizations(<4-part key>)` → 204; false when already gone. */
  removeRoleOrganization(userId: string, roleId: string, legalEntity: string): Promise<boolean>;
  /**
   * Reads one user's role writes back: one `SecurityUserRoles?$filter=UserId eq …` request when
   * `writes` holds a role write, one `SecurityUserRoleOrganizations` request when it holds an
   * organization write (not one per row). The first write that did not take effect fails,
   * naming the entity and key.
   */
  confirmWrites(userId: string, writes: readonly RoleWrite[]): Promise<void>;
  /** `GET SysAADClients(AADClientId='…')` → 200; undefined on an OData 404. The F&O user an app acts as. */
  getAadClient(appId: string): Promise<{ appId: string; name: string; userId: string } | undefined>;
}

/** Creates the {@link FnoClient} of one environment. */
export function createFnoClient(options: FnoClientOptions): FnoClient {
  const { environment, fno, appId } = options;

  /** Adds the environment and an actionable hint to an ApiError. */
  const explain = (e: unknown): unknown => {
    if (!isApiError(e)) return e;
    if (e.kind === "Unauthorized") {
      // An app missing from SysAADClients gets 401 on every call even with a valid token (a community
      // report, https://github.com/microsoft/Dynamics-AX-Integration/issues/8; not stated by Microsoft).
      const app = appId ? `app ${appId}` : "the app";
      return e.withHint(
        `F&O environment "${environment}" refused the token: register ${app} under System administration > Setup > Microsoft Entra applications (SysAADClients) with a dedicated F&O user holding the Security administrator role, and check the environment URL is the token audience`,
      );
    }
    if (e.kind === "Forbidden" && !e.hint) return e.withHint(SECURITY_ADMIN_HINT);
    return e;
  };

  async function call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      throw explain(e);
    }
  }

  async function collect<D, M>(
    path: string,
    query: Record<string, string>,
    convert: (d: D) => M,
  ): Promise<M[]> {
    return call(async () => {
      const out: M[] = [];
      for await (const row of fno.paginate<D>(path, { query })) out.push(convert(row));
      return out;
    });
  }

  /** GET one entity by key: 200 → value; an OData 404 (service.ts: nothing else is NotFound) → undefined. */
  async function getOne<D>(path: string, query?: Record<string, string>): Promise<D | undefined> {
    return call(async () => {
      try {
        return (await fno.request<D>({ path, query, accept: [200] })).body;
      } catch (e) {
        if (isApiError(e, "NotFound")) return undefined;
        throw e;
      }
    });
  }

  /** DELETE by key: 204/200 → true, an OData 404 → false (already gone: idempotent). */
  async function remove(path: string): Promise<boolean> {
    return call(async () => {
      try {
        await fno.request({ method: "DELETE", path, accept: [200, 204], forbiddenHint: SECURITY_ADMIN_HINT });
        return true;
      } catch (e) {
        if (isApiError(e, "NotFound")) return false;
        throw e;
      }
    });
  }

  const userPath = (userId: string): string => `${SETS.users}${odataKey({ UserID: userId })}`;
  const userRolePath = (userId: string, roleId: string): string =>
    `${SETS.userRoles}${odataKey({ UserId: userId, SecurityRoleIdentifier: roleId })}`;
  const legalEntityType = filter.enumValue(
    ENUM_NAMESPACE,
    "OmInternalOrganizationType",
    LEGAL_ENTITY_ORGANIZATION_TYPE,
  );
  const userRoleOrgPath = (userId: string, roleId: string, legalEntity: string): string =>
    `${SETS.userRoleOrganizations}${odataKey({
      UserId: userId,
      SecurityRoleIdentifier: roleId,
      OrganizationType: legalEntityType,
      OrganizationId: legalEntity,
    })}`;
  const userFilter = (userId: string | undefined): Record<string, string> =>
    userId === undefined ? {} : { $filter: filter.eq("UserId", userId).text };

  /** Whether a row already exists after a failed create of a set-like row (duplicate or ambiguous). */
  async function confirmAfterFailure(error: unknown, exists: () => Promise<boolean>): Promise<void> {
    if (!isApiError(error) || !["Invalid", "Conflict", "Transient"].includes(error.kind))
      throw explain(error);
    let present = false;
    try {
      present = await exists();
    } catch {
      throw explain(error);
    }
    if (!present) throw explain(error);
  }

  const client: FnoClient = {
    environment,

    async getUser(userId) {
      const dto = await getOne<SystemUserDto>(userPath(userId), { $select: USER_SELECT });
      return dto ? toFnoUser(dto) : undefined;
    },

    async findUserByAlias(upn, orUserId) {
      const clauses: FilterExpression[] = [filter.eq("Alias", upn)];
      if (orUserId) clauses.push(filter.eq("UserID", orUserId));
      return collect<SystemUserDto, FnoUserRecord>(
        SETS.users,
        { $filter: filter.or(...clauses).text, $select: USER_SELECT, ...CROSS_COMPANY },
        toFnoUser,
      );
    },

    listUsers() {
      return collect<SystemUserDto, FnoUserRecord>(
        SETS.users,
        { $select: USER_SELECT, ...CROSS_COMPANY },
        toFnoUser,
      );
    },

    listRoles() {
      return collect<SecurityRoleDto, FnoRole>(SETS.roles, { $select: ROLE_SELECT }, toFnoRole);
    },

    listLegalEntities() {
      return collect<{ LegalEntityId: string }, string>(
        SETS.legalEntities,
        { $select: "LegalEntityId" },
        (d) => d.LegalEntityId,
      );
    },

    listUserRoles(userId) {
      return collect<SecurityUserRoleDto, FnoRoleAssignment>(
        SETS.userRoles,
        { ...userFilter(userId), $select: USER_ROLE_SELECT, ...CROSS_COMPANY },
        toFnoRoleAssignment,
      );
    },

    listUserRoleOrganizations(userId) {
      return collect<SecurityUserRoleOrganizationDto, FnoRoleOrganization>(
        SETS.userRoleOrganizations,
        { ...userFilter(userId), $select: USER_ROLE_ORG_SELECT, ...CROSS_COMPANY },
        toFnoRoleOrganization,
      );
    },

    async createUser(user) {
      const send = () =>
        fno.request({
          method: "POST",
          path: SETS.users,
          body: fromNewFnoUser(user),
          accept: [200, 201, 204],
          idempotent: false,
          forbiddenHint: SECURITY_ADMIN_HINT,
        });
      try {
        await send();
        return;
      } catch (e) {
        // Only an ambiguous failure (no answer, 5xx) may have created the user; anything else
        // is a definite refusal and is reported as is.
        if (!isApiError(e, "Transient")) throw explain(e);
        const existing = await client.getUser(user.userId);
        if (existing) {
          if (existing.alias.toLowerCase() === user.alias.toLowerCase()) return; // our create went through
          throw explain(e);
        }
      }
      await call(send);
    },

    async updateUser(userId, changes) {
      const body = fromFnoUserChanges(changes);
      if (Object.keys(body).length === 0) return;
      await call(() =>
        fno.request({
          method: "PATCH",
          path: userPath(userId),
          body,
          accept: [200, 204],
          forbiddenHint: SECURITY_ADMIN_HINT,
        }),
      );
    },

    deleteUser(userId) {
      return remove(userPath(userId));
    },

    async assignRole(userId, roleId, roleName, enabled = true) {
      try {
        await fno.request({
          method: "POST",
          path: SETS.userRoles,
          body: fromRoleAssignment(userId, roleId, roleName, enabled),
          accept: [200, 201, 204],
          // Set-like: a replay after a lost answer meets the row it created and is confirmed below.
          idempotent: true,
          forbiddenHint: SECURITY_ADMIN_HINT,
        });
      } catch (e) {
        await confirmAfterFailure(e, async () => (await getOne(userRolePath(userId, roleId))) !== undefined);
      }
    },

    async enableRole(userId, roleId) {
      await call(() =>
        fno.request({
          method: "PATCH",
          path: userRolePath(userId, roleId),
          body: fromRoleEnable(),
          accept: [200, 204],
          forbiddenHint: SECURITY_ADMIN_HINT,
        }),
      );
    },

    removeRole(userId, roleId) {
      return remove(userRolePath(userId, roleId));
    },

    async addRoleOrganization(userId, roleId, legalEntity) {
      try {
        await fno.request({
          method: "POST",
          path: SETS.userRoleOrganizations,
          body: fromLegalEntityRestriction(userId, roleId, legalEntity),
          accept: [200, 201, 204],
          idempotent: true, // set-like, confirmed below like assignRole
          forbiddenHint: SECURITY_ADMIN_HINT,
        });
      } catch (e) {
        await confirmAfterFailure(
          e,
          async () => (await getOne(userRoleOrgPath(userId, roleId, legalEntity))) !== undefined,
        );
      }
    },

    removeRoleOrganization(userId, roleId, legalEntity) {
      return remove(userRoleOrgPath(userId, roleId, legalEntity));
    },

    async confirmWrites(userId, writes) {
      const roleWrites = writes.filter((w) => w.legalEntity === undefined);
      const orgWrites = writes.filter((w) => w.legalEntity !== undefined);
      const [roles, organizations] = await settled([
        roleWrites.length ? client.listUserRoles(userId) : Promise.resolve([]),
        orgWrites.length ? client.listUserRoleOrganizations(userId) : Promise.resolve([]),
      ]);
      const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
      for (const w of writes) {
        const path =
          w.legalEntity === undefined
            ? userRolePath(userId, w.roleId)
            : userRoleOrgPath(userId, w.roleId, w.legalEntity);
        let found: { status?: string; mode?: string } | undefined;
        if (w.legalEntity === undefined) {
          found = roles.find((r) => same(r.roleId, w.roleId));
        } else {
          const le = w.legalEntity;
          const row = organizations.find(
            (o) =>
              same(o.roleId, w.roleId) &&
              same(o.organizationType, LEGAL_ENTITY_ORGANIZATION_TYPE) &&
              same(o.organizationId, le),
          );
          found = row && {};
        }
        const holds =
          w.expect === "absent"
            ? found === undefined
            : w.expect === "present"
              ? found !== undefined
              : found !== undefined && found.mode === "Manual" && found.status === w.expect;
        if (holds) continue;
        const expected =
          w.expect === "absent" ? "no row" : w.expect === "present" ? "the row" : `a Manual, ${w.expect} row`;
        throw new ApiError({
          system: fno.system,
          status: 0,
          kind: "Invalid",
          code: "WriteNotApplied",
          message: `F&O environment "${environment}" accepted ${w.method} ${path.slice(DATA_PATH.length + 1)} but the row ${found === undefined ? "is absent" : "is unchanged"}: the write did not take effect (expected ${expected})`,
          hint: "some F&O versions answer success to role writes they do not carry out; check the user in System administration > Users and report the environment's version",
        });
      }
    },

    async getAadClient(id) {
      const dto = await getOne<SysAadClientDto>(`${SETS.aadClients}${odataKey({ AADClientId: id })}`);
      return dto ? { appId: dto.AADClientId, name: dto.Name ?? "", userId: dto.UserId ?? "" } : undefined;
    },
  };
  return client;
}
