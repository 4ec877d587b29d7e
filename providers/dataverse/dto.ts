/**
 * Wire shapes of the Dataverse Web API and the Power Platform admin (BAP) API, in the APIs' own
 * casing, and the only conversions between them and our camelCase vocabulary (style.md §2).
 *
 * Shapes follow reference/dataverse.md §2 (systemusers, roles, businessunits) and §8.2 (BAP
 * `addUser`); real rows carry many more columns, which we never `$select`.
 * https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/systemuser
 */
import type { BusinessUnit, Role, SystemUser } from "./model.ts";

/** A role row as `$expand=systemuserroles_association($select=…)` or `GET roles` returns it. */
export interface RoleDto {
  roleid: string;
  name: string;
  _businessunitid_value: string;
  /** The root role this BU copy derives from (root roles point to themselves). */
  _parentrootroleid_value?: string | null;
}

/** A `systemusers` row with the columns we `$select`. */
export interface SystemUserDto {
  systemuserid: string;
  azureactivedirectoryobjectid: string | null;
  domainname?: string | null;
  isdisabled?: boolean;
  _businessunitid_value: string;
  /** Non-zero on soft-deleted users; the Terraform provider treats them as absent (reference §2.1). */
  deletedstate?: number | null;
  /** Direct roles only: team (group) roles never appear in this association (reference §2.4). */
  systemuserroles_association?: RoleDto[];
  /** Present when the server truncated the expanded collection: the caller must read the rest. */
  "systemuserroles_association@odata.nextLink"?: string;
}

/** A `businessunits` row. */
export interface BusinessUnitDto {
  businessunitid: string;
  name: string;
  /** Null on the root business unit (reference §2.3). */
  _parentbusinessunitid_value: string | null;
}

/** The `WhoAmI` function response. */
export interface WhoAmIDto {
  UserId: string;
  BusinessUnitId: string;
  OrganizationId: string;
}

/** Body of BAP `POST …/environments/{id}/addUser` (reference §8.2; TF sends `objectId`). */
export interface AddUserRequestDto {
  objectId: string;
}

/** Body of an association `POST …/$ref` (reference §3). */
export interface ODataRefDto {
  "@odata.id": string;
}

/** Converts a role row. */
export function toRole(dto: RoleDto): Role {
  return {
    roleId: dto.roleid.toLowerCase(),
    name: dto.name,
    businessUnitId: dto._businessunitid_value.toLowerCase(),
  };
}

/** Converts a business unit row. */
export function toBusinessUnit(dto: BusinessUnitDto): BusinessUnit {
  return {
    businessUnitId: dto.businessunitid.toLowerCase(),
    name: dto.name,
    parentId: dto._parentbusinessunitid_value ? dto._parentbusinessunitid_value.toLowerCase() : undefined,
  };
}

/** Converts a user row; `roles` is undefined unless the association was expanded completely. */
export function toSystemUser(dto: SystemUserDto): SystemUser {
  const complete =
    dto.systemuserroles_association !== undefined &&
    dto["systemuserroles_association@odata.nextLink"] === undefined;
  return {
    systemUserId: dto.systemuserid.toLowerCase(),
    objectId: dto.azureactivedirectoryobjectid ? dto.azureactivedirectoryobjectid.toLowerCase() : undefined,
    domainName: dto.domainname ?? undefined,
    disabled: dto.isdisabled === true,
    businessUnitId: dto._businessunitid_value.toLowerCase(),
    roles: complete ? (dto.systemuserroles_association ?? []).map(toRole) : undefined,
  };
}

/** True when a row is a soft-deleted user, which counts as absent (reference §8.5). */
export function isSoftDeleted(dto: SystemUserDto): boolean {
  return typeof dto.deletedstate === "number" && dto.deletedstate !== 0;
}

/** Builds the `addUser` body. */
export function fromObjectIdToAddUser(objectId: string): AddUserRequestDto {
  return { objectId };
}
