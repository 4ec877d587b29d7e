/**
 * The Dataverse Web API and Power Platform admin (BAP) calls of the Dataverse user resource: the
 * only place with their URLs, query options and API versions. One method per remote operation,
 * named by intent; the accepted statuses are stated; "not found" is returned as `undefined`;
 * paging is hidden inside. Wire shapes and conversions live in dto.ts.
 *
 * Web API conventions: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors
 * Associations: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/associate-disassociate-entities-using-web-api
 * Paging: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/page-results
 */
import { ApiError, isApiError } from "../core/errors.ts";
import type { ServiceClient } from "../core/http.ts";
import { filter, odataKey } from "../core/odata.ts";
import {
  type BusinessUnitDto,
  fromObjectIdToAddUser,
  isCompleteExpansion,
  isSoftDeleted,
  type ODataRefDto,
  type RoleDto,
  type SystemUserDto,
  type TeamDto,
  toBusinessUnit,
  toRole,
  toSystemUser,
  type WhoAmIDto,
} from "./dto.ts";
import type { BusinessUnit, Role, SystemUser, TeamRole } from "./model.ts";
import { dataverse, NOT_MEMBER_OF_ORGANIZATION, powerPlatform } from "./service.ts";

/**
 * The Web API root below the environment's origin:
 * https://learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors
 */
export const WEB_API_PATH = "api/data/v9.2";
/**
 * The BAP api-version the Terraform provider uses for `addUser` (`BAP_API_VERSION` in
 * `internal/constants/constants.go` of https://github.com/microsoft/terraform-provider-power-platform).
 */
export const BAP_API_VERSION = "2023-06-01";
/**
 * Dataverse's default and largest page size
 * (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/page-results).
 */
export const MAX_PAGE_SIZE = 5000;

const ODATA_HEADERS = { "OData-MaxVersion": "4.0", "OData-Version": "4.0" };
// Without `If-None-Match: null`, a query expanding a collection-valued navigation property
// (`systemuserroles_association`) may answer from a stale cache right after our own writes
// (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors,
// https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/join-tables).
const FRESH = { "If-None-Match": "null" };
const USER_SELECT =
  "systemuserid,azureactivedirectoryobjectid,domainname,isdisabled,_businessunitid_value,deletedstate";
const ROLE_EXPAND =
  "systemuserroles_association($select=roleid,name,_businessunitid_value,_roletemplateid_value)";
const DUPLICATE_RECORD = "0x80040237";

/** Options of {@link createDataverseClient}. */
export interface DataverseClientOptions {
  /** Logical environment name, for messages. */
  environment: string;
  /** The environment's Dataverse client (base = the environment origin). */
  dataverse: ServiceClient;
  /** The Power Platform admin client; needed only by {@link DataverseClient.forceUserSync}. */
  powerPlatform?: ServiceClient;
  /** The Power Platform environment id (a GUID), needed by `forceUserSync`. */
  powerPlatformEnvironmentId?: string;
  /** `Prefer: odata.maxpagesize` for bulk reads. Default {@link MAX_PAGE_SIZE}. */
  pageSize?: number;
}

/** The caller as `WhoAmI` reports it. */
export interface WhoAmI {
  userId: string;
  businessUnitId: string;
  organizationId: string;
}

/** The Dataverse operations of one environment. */
export interface DataverseClient {
  readonly environment: string;
  /** `GET WhoAmI` → 200. The caller's application user. */
  whoAmI(): Promise<WhoAmI>;
  /**
   * `GET systemusers?$filter=azureactivedirectoryobjectid eq <oid> and applicationid eq null` with
   * direct roles expanded → 200. Undefined when absent or soft-deleted.
   */
  getSystemUserByObjectId(objectId: string): Promise<SystemUser | undefined>;
  /** `GET systemusers(<id>)` with direct roles expanded → 200; undefined on 404. */
  getSystemUser(systemUserId: string): Promise<SystemUser | undefined>;
  /**
   * Every human user (`azureactivedirectoryobjectid ne null and applicationid eq null`) with its
   * direct roles: one request per page of `pageSize` rows (`Prefer: odata.maxpagesize`). The
   * paging-free link Dataverse puts beside every complete expanded list is not truncation; a row
   * whose expanded roles came back paged is re-read alone (never a silently partial list).
   */
  listSystemUsers(): Promise<SystemUser[]>;
  /**
   * The roles every user holds through teams (owner teams, Entra group teams), by lower-case
   * `systemuserid`: `GET teams` with roles and members expanded, one request per page.
   */
  listTeamRoles(): Promise<Map<string, TeamRole[]>>;
  /** Every security role of every business unit (`GET roles`, paged) → 200. */
  listRoles(): Promise<Role[]>;
  /** Every business unit (`GET businessunits`, paged) → 200. */
  listBusinessUnits(): Promise<BusinessUnit[]>;
  /**
   * `POST systemusers(<id>)/systemuserroles_association/$ref` → 204. Set-like, so safe to replay;
   * a duplicate (`0x80040237`, 412) means "already assigned" and counts as success.
   */
  associateRole(systemUserId: string, roleId: string): Promise<void>;
  /**
   * The documented just-in-time path: `POST systemusers(azureactivedirectoryobjectid=<oid>)/
   * systemuserroles_association/$ref` → 204 creates a missing, eligible user and grants the role
   * in one request (https://learn.microsoft.com/power-apps/developer/data-platform/aad-group-team).
   * Returns false when Dataverse does not know the user and would not create it (404: not
   * eligible yet: disabled, unlicensed, outside the environment's security group, or not synced).
   */
  associateRoleByObjectId(objectId: string, roleId: string): Promise<boolean>;
  /**
   * `DELETE systemusers(<id>)/systemuserroles_association(<roleid>)/$ref` → 204. A user or role
   * that no longer exists (404) counts as done.
   */
  disassociateRole(systemUserId: string, roleId: string): Promise<void>;
  /**
   * `PATCH systemusers(<id>)` with `businessunitid@odata.bind` → 204 (Microsoft Learn, "Update
   * and delete table rows using the Web API"). Dataverse removes the user's roles on a move
   * unless `DoNotRemoveRolesOnChangeBusinessUnit` is set
   * (https://learn.microsoft.com/power-platform/admin/create-edit-business-units).
   */
  setBusinessUnit(systemUserId: string, businessUnitId: string): Promise<void>;
  /**
   * Power Platform admin `POST …/environments/{id}/addUser?api-version=2023-06-01` `{objectId}`
   * → 200/202/204: asks Dataverse to sync one Entra user now (the row appears later: the
   * Terraform provider polls for it, `internal/services/authorization/api_user.go` of
   * https://github.com/microsoft/terraform-provider-power-platform).
   * Throws an `Unlicensed` ApiError (`userNotLicensed`) while a new license propagates.
   */
  forceUserSync(objectId: string): Promise<void>;
  /** `GET systemusers(<id>)/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()` → 200: the privilege names it holds. */
  retrieveUserPrivileges(systemUserId: string): Promise<string[]>;
  /** Power Platform admin `GET …/environments/{id}` → 200: whether the app may use the admin API at all. */
  readPowerPlatformEnvironment(): Promise<void>;
}

/** Creates the client of one environment. */
export function createDataverseClient(options: DataverseClientOptions): DataverseClient {
  const { environment, dataverse: dv } = options;
  const pageSize = options.pageSize ?? MAX_PAGE_SIZE;
  const api = (path: string) => `${WEB_API_PATH}/${path}`;
  const roleUrl = (roleId: string) => `${dv.baseUrl}/${api(`roles${odataKey(filter.guid(roleId))}`)}`;
  const userKey = (systemUserId: string) => odataKey(filter.guid(systemUserId));
  const where = `Dataverse environment "${environment}"`;

  async function collect<D, T>(
    path: string,
    query: Record<string, string>,
    convert: (d: D) => T,
  ): Promise<T[]> {
    const out: T[] = [];
    const headers = { ...ODATA_HEADERS, ...FRESH, Prefer: `odata.maxpagesize=${pageSize}` };
    for await (const row of dv.paginate<D>(api(path), { query, headers })) out.push(convert(row));
    return out;
  }

  async function getSystemUser(systemUserId: string): Promise<SystemUser | undefined> {
    try {
      const res = await dv.request<SystemUserDto>({
        path: api(`systemusers${userKey(systemUserId)}`),
        query: { $select: USER_SELECT, $expand: ROLE_EXPAND },
        headers: { ...ODATA_HEADERS, ...FRESH },
        accept: [200],
      });
      return isSoftDeleted(res.body) ? undefined : toSystemUser(res.body);
    } catch (e) {
      if (isApiError(e, "NotFound")) return undefined;
      throw privilegeHint(e, "Read on User (prvReadUser) and Read on Security Role (prvReadRole)");
    }
  }

  /** Rows whose expanded roles were truncated are read again, alone. */
  async function complete(user: SystemUser): Promise<SystemUser> {
    if (user.roles !== undefined) return user;
    const full = await getSystemUser(user.systemUserId);
    if (!full || full.roles === undefined) {
      throw new ApiError({
        system: dataverse.name,
        status: 0,
        kind: "Transient",
        code: "IncompleteRoles",
        message: `${where}: the direct roles of user ${user.systemUserId} could not be read completely`,
      });
    }
    return full;
  }

  return {
    environment,

    async whoAmI() {
      const res = await dv.request<WhoAmIDto>({ path: api("WhoAmI"), headers: ODATA_HEADERS, accept: [200] });
      return {
        userId: res.body.UserId.toLowerCase(),
        businessUnitId: res.body.BusinessUnitId.toLowerCase(),
        organizationId: res.body.OrganizationId.toLowerCase(),
      };
    },

    async getSystemUserByObjectId(objectId) {
      const query = {
        $select: USER_SELECT,
        $expand: ROLE_EXPAND,
        $filter: filter.and(
          filter.eq("azureactivedirectoryobjectid", filter.guid(objectId)),
          filter.eq("applicationid", null),
        ).text,
      };
      try {
        const rows = await collect<SystemUserDto, SystemUserDto>("systemusers", query, (d) => d);
        const live = rows.filter((r) => !isSoftDeleted(r));
        const first = live[0];
        return first ? complete(toSystemUser(first)) : undefined;
      } catch (e) {
        throw privilegeHint(e, "Read on User (prvReadUser) and Read on Security Role (prvReadRole)");
      }
    },

    getSystemUser,

    async listSystemUsers() {
      const query = {
        $select: USER_SELECT,
        $expand: ROLE_EXPAND,
        $filter: filter.and(filter.ne("azureactivedirectoryobjectid", null), filter.eq("applicationid", null))
          .text,
      };
      try {
        const rows = await collect<SystemUserDto, SystemUserDto>("systemusers", query, (d) => d);
        const users: SystemUser[] = [];
        for (const row of rows) if (!isSoftDeleted(row)) users.push(await complete(toSystemUser(row)));
        return users;
      } catch (e) {
        throw privilegeHint(e, "Read on User (prvReadUser) and Read on Security Role (prvReadRole)");
      }
    },

    async listRoles() {
      try {
        return await collect<RoleDto, Role>(
          "roles",
          { $select: "roleid,name,_businessunitid_value,_roletemplateid_value" },
          toRole,
        );
      } catch (e) {
        throw privilegeHint(e, "Read on Security Role (prvReadRole)");
      }
    },

    async listTeamRoles() {
      const query = {
        $select: "teamid,name",
        $expand:
          "teamroles_association($select=roleid,name),teammembership_association($select=systemuserid)",
      };
      try {
        const byUser = new Map<string, TeamRole[]>();
        const teams = await collect<TeamDto, TeamDto>("teams", query, (d) => d);
        for (const team of teams) {
          const whole =
            isCompleteExpansion(team.teamroles_association, team["teamroles_association@odata.nextLink"]) &&
            isCompleteExpansion(
              team.teammembership_association,
              team["teammembership_association@odata.nextLink"],
            );
          if (!whole) {
            throw new ApiError({
              system: dataverse.name,
              status: 0,
              kind: "Transient",
              code: "IncompleteTeam",
              message: `${where}: the roles or members of team ${team.name} came back paged`,
            });
          }
          for (const member of team.teammembership_association ?? []) {
            const key = member.systemuserid.toLowerCase();
            const held = byUser.get(key) ?? [];
            for (const role of team.teamroles_association ?? [])
              held.push({ team: team.name, role: role.name });
            byUser.set(key, held);
          }
        }
        return byUser;
      } catch (e) {
        throw privilegeHint(e, "Read on Team (prvReadTeam)");
      }
    },

    async listBusinessUnits() {
      try {
        return await collect<BusinessUnitDto, BusinessUnit>(
          "businessunits",
          { $select: "businessunitid,name,_parentbusinessunitid_value" },
          toBusinessUnit,
        );
      } catch (e) {
        throw privilegeHint(e, "Read on Business Unit (prvReadBusinessUnit)");
      }
    },

    async associateRole(systemUserId, roleId) {
      const body: ODataRefDto = { "@odata.id": roleUrl(roleId) };
      try {
        await dv.request({
          method: "POST",
          path: api(`systemusers${userKey(systemUserId)}/systemuserroles_association/$ref`),
          body,
          headers: ODATA_HEADERS,
          accept: [204],
          idempotent: true,
        });
      } catch (e) {
        if (isApiError(e, "Conflict") && e.code.toLowerCase() === DUPLICATE_RECORD) return;
        throw privilegeHint(e, "Assign Role (prvAssignRole) and Write on User (prvWriteUser)");
      }
    },

    async associateRoleByObjectId(objectId, roleId) {
      const body: ODataRefDto = { "@odata.id": roleUrl(roleId) };
      const key = odataKey({ azureactivedirectoryobjectid: filter.guid(objectId) });
      try {
        await dv.request({
          method: "POST",
          path: api(`systemusers${key}/systemuserroles_association/$ref`),
          body,
          headers: ODATA_HEADERS,
          accept: [204],
          idempotent: true,
        });
        return true;
      } catch (e) {
        if (isApiError(e, "Conflict") && e.code.toLowerCase() === DUPLICATE_RECORD) return true;
        if (isApiError(e, "NotFound")) return false;
        throw privilegeHint(
          e,
          "Assign Role (prvAssignRole), Write on User (prvWriteUser) and Create on User (prvCreateUser)",
        );
      }
    },

    async disassociateRole(systemUserId, roleId) {
      try {
        await dv.request({
          method: "DELETE",
          path: api(
            `systemusers${userKey(systemUserId)}/systemuserroles_association${odataKey(filter.guid(roleId))}/$ref`,
          ),
          headers: ODATA_HEADERS,
          accept: [204],
        });
      } catch (e) {
        if (isApiError(e, "NotFound")) return;
        throw privilegeHint(e, "Assign Role (prvAssignRole) and Write on User (prvWriteUser)");
      }
    },

    async setBusinessUnit(systemUserId, businessUnitId) {
      try {
        await dv.request({
          method: "PATCH",
          path: api(`systemusers${userKey(systemUserId)}`),
          body: { "businessunitid@odata.bind": `/businessunits${odataKey(filter.guid(businessUnitId))}` },
          headers: ODATA_HEADERS,
          accept: [204],
        });
      } catch (e) {
        throw privilegeHint(e, "Write on User (prvWriteUser) at organization level");
      }
    },

    async forceUserSync(objectId) {
      const pp = options.powerPlatform;
      const envId = options.powerPlatformEnvironmentId;
      if (!pp || !envId) {
        throw new ApiError({
          system: powerPlatform.name,
          status: 0,
          kind: "Invalid",
          code: "NotConfigured",
          message: `${where} has no Power Platform admin URL or powerPlatformEnvironmentId configured, so users cannot be synced on demand`,
          hint: "set powerPlatformUrl and environments[].powerPlatformEnvironmentId in the d365-access stack config",
        });
      }
      await pp.request({
        method: "POST",
        path: `providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/${encodeURIComponent(envId)}/addUser`,
        query: { "api-version": BAP_API_VERSION },
        body: fromObjectIdToAddUser(objectId),
        accept: [200, 202, 204],
        // A sync request for a user is idempotent: asking twice syncs the same row.
        idempotent: true,
      });
    },

    async retrieveUserPrivileges(systemUserId) {
      const path = api(
        `systemusers${odataKey(filter.guid(systemUserId))}/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()`,
      );
      const res = await dv.request<{ RolePrivileges?: { PrivilegeName?: string }[] }>({
        path,
        headers: ODATA_HEADERS,
        accept: [200],
      });
      return (res.body.RolePrivileges ?? []).flatMap((p) => (p.PrivilegeName ? [p.PrivilegeName] : []));
    },

    async readPowerPlatformEnvironment() {
      const pp = options.powerPlatform;
      const envId = options.powerPlatformEnvironmentId;
      if (!pp || !envId) return;
      await pp.request({
        path: `providers/Microsoft.BusinessAppPlatform/scopes/admin/environments/${encodeURIComponent(envId)}`,
        query: { "api-version": BAP_API_VERSION },
        accept: [200],
      });
    },
  };
}

/**
 * Names the Dataverse privilege a 403 is about, unless the caller is not a member of the
 * organization at all (0x80072560), whose generic hint (add an application user) is the right one.
 */
function privilegeHint(e: unknown, privileges: string): unknown {
  if (!isApiError(e, "Forbidden") || e.system !== dataverse.name) return e;
  if (e.code.toLowerCase() === NOT_MEMBER_OF_ORGANIZATION) return e;
  return e.withHint(`give the app's application user a security role with ${privileges}`);
}
