/**
 * Microsoft Graph v1.0 calls for Entra users and licenses: the only file with Graph paths,
 * query options and the API version. "Not found" is `undefined`.
 * Sources: https://learn.microsoft.com/graph/api/resources/user,
 * https://learn.microsoft.com/graph/api/user-assignlicense,
 * https://learn.microsoft.com/graph/api/subscribedsku-list.
 */
import { isApiError } from "../core/errors.ts";
import type { ServiceClient } from "../core/http.ts";
import { odataString } from "../core/odata.ts";
import type { AssignLicenseDto, CreateUserDto, SubscribedSkuDto, UpdateUserDto, UserDto } from "./dto.ts";
import { USER_SELECT } from "./dto.ts";

const V = "v1.0";

// What the app needs per operation (application permissions, admin-consented).
const READ_USERS =
  "grant the app the Microsoft Graph application permission User.ReadWrite.All (User.Read.All suffices for `report`), with admin consent";
const WRITE_USERS =
  "grant the app the Microsoft Graph application permission User.ReadWrite.All, with admin consent";
const ASSIGN_LICENSES =
  "grant the app the Microsoft Graph application permission LicenseAssignment.ReadWrite.All (or User.ReadWrite.All), with admin consent";
const READ_SKUS =
  "grant the app the Microsoft Graph application permission LicenseAssignment.Read.All (or Organization.Read.All), with admin consent";

/**
 * The path segment addressing a user by object id or UPN. UPNs starting with `$` must use the
 * key form `users('$x@y')`, and `#` (guest UPNs) must be percent-encoded, e.g.
 * `users/AdeleVance_adatum.com%23EXT%23@contoso.example` (https://learn.microsoft.com/graph/api/user-get).
 */
export function userPath(idOrUpn: string): string {
  if (idOrUpn.startsWith("$")) return `${V}/users(${encodeURIComponent(odataString(idOrUpn))})`;
  // encodeURIComponent leaves ' ( ) ! * as they are; OData reads ( ) and ' as key syntax, so
  // they are percent-encoded too: a UPN is always one path segment, never a key expression.
  const segment = encodeURIComponent(idOrUpn).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${V}/users/${segment.replace(/%40/g, "@")}`;
}

/** Graph operations on users and licenses. */
export interface EntraClient {
  /** The user by UPN (case-insensitive in Graph), or undefined. */
  getUserByUpn(upn: string): Promise<UserDto | undefined>;
  /** The user by object id, or undefined. */
  getUserById(objectId: string): Promise<UserDto | undefined>;
  /** Every user of the tenant, 999 per page (one request per page); `extra`: more properties to `$select`. */
  listUsers(extra?: readonly string[]): Promise<UserDto[]>;
  /** The tenant's SKUs with seats and service plans. */
  listSubscribedSkus(): Promise<SubscribedSkuDto[]>;
  /** Creates a user (201). Not idempotent: callers look the UPN up before retrying. */
  createUser(body: CreateUserDto): Promise<UserDto>;
  /** Patches properties (204). */
  updateUser(objectId: string, patch: UpdateUserDto): Promise<void>;
  /**
   * Adds and removes direct licenses in one call (200). Set-like, so replaying it is harmless:
   * re-adding a SKU replaces its disabled plans, removing an absent one is refused before any change.
   */
  assignLicense(objectId: string, body: AssignLicenseDto): Promise<UserDto>;
  /** Deletes (soft delete, 30-day restore); returns false when the user was already gone. */
  deleteUser(objectId: string): Promise<boolean>;
}

/** Builds the Entra client over a service client whose base URL is the Graph origin. */
export function createEntraClient(http: ServiceClient): EntraClient {
  async function getUser(idOrUpn: string): Promise<UserDto | undefined> {
    const res = await http.request<UserDto>({
      path: userPath(idOrUpn),
      query: { $select: USER_SELECT },
      accept: [200, 404],
      forbiddenHint: READ_USERS,
    });
    return res.status === 404 ? undefined : res.body;
  }
  return {
    getUserByUpn: getUser,
    getUserById: getUser,
    async listUsers(extra = []) {
      const users: UserDto[] = [];
      for await (const u of http.paginate<UserDto>(`${V}/users`, {
        query: { $select: [USER_SELECT, ...extra].join(","), $top: "999" },
        forbiddenHint: READ_USERS,
      })) {
        users.push(u);
      }
      return users;
    },
    async listSubscribedSkus() {
      try {
        const skus: SubscribedSkuDto[] = [];
        for await (const s of http.paginate<SubscribedSkuDto>(`${V}/subscribedSkus`)) skus.push(s);
        return skus;
      } catch (e) {
        throw isApiError(e, "Forbidden") ? e.withHint(READ_SKUS) : e;
      }
    },
    async createUser(body) {
      const res = await http.request<UserDto>({
        method: "POST",
        path: `${V}/users`,
        body,
        accept: [201],
        forbiddenHint: WRITE_USERS,
      });
      return res.body;
    },
    async updateUser(objectId, patch) {
      await http.request({
        method: "PATCH",
        path: userPath(objectId),
        body: patch,
        accept: [200, 204],
        forbiddenHint: WRITE_USERS,
      });
    },
    async assignLicense(objectId, body) {
      const res = await http.request<UserDto>({
        method: "POST",
        path: `${userPath(objectId)}/assignLicense`,
        body,
        accept: [200],
        idempotent: true,
        forbiddenHint: ASSIGN_LICENSES,
      });
      return res.body;
    },
    async deleteUser(objectId) {
      const res = await http.request({
        method: "DELETE",
        path: userPath(objectId),
        accept: [200, 204, 404],
        forbiddenHint: WRITE_USERS,
      });
      return res.status !== 404;
    },
  };
}
