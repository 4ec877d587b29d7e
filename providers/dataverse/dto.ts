/**
 * Wire shapes of the Dataverse Web API and the Power Platform admin (BAP) API, in the APIs' own
 * casing, and the only conversions between them and our camelCase vocabulary.
 *
 * Shapes follow Microsoft's table reference (systemusers, roles, businessunits) and the Terraform
 * provider's calls and fixtures, the BAP `addUser` body included (`internal/services/authorization/`
 * of https://github.com/microsoft/terraform-provider-power-platform); real rows carry many more
 * columns, which we never `$select`.
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
  /** The role template of Microsoft's predefined roles (System Administrator, …); null for others. */
  _roletemplateid_value?: string | null;
}

/** A `systemusers` row with the columns we `$select`. */
export interface SystemUserDto {
  systemuserid: string;
  azureactivedirectoryobjectid: string | null;
  domainname?: string | null;
  isdisabled?: boolean;
  _businessunitid_value: string;
  /**
   * Non-zero on soft-deleted users; the Terraform provider treats them as absent
   * (`internal/services/application/api_application.go` of
   * https://github.com/microsoft/terraform-provider-power-platform).
   */
  deletedstate?: number | null;
  /**
   * Direct roles only: team (group) roles never appear in this association
   * (https://learn.microsoft.com/power-apps/developer/data-platform/user-team-entities).
   */
  systemuserroles_association?: RoleDto[];
  /**
   * Dataverse adds a paging-free link beside every complete single-level expanded collection
   * (the list is whole; a GET on the link returns the same rows). Only a link with `$skiptoken`
   * (nested expands) pages it.
   */
  "systemuserroles_association@odata.nextLink"?: string;
}

/** A `teams` row with its roles and members expanded (single level each). */
export interface TeamDto {
  teamid: string;
  name: string;
  teamroles_association?: RoleDto[];
  "teamroles_association@odata.nextLink"?: string;
  teammembership_association?: { systemuserid: string }[];
  "teammembership_association@odata.nextLink"?: string;
}

/** A `businessunits` row. */
export interface BusinessUnitDto {
  businessunitid: string;
  name: string;
  /**
   * Null on the root business unit (the Terraform provider finds the root with
   * `parentbusinessunitid eq null`: `internal/services/application/api_application.go` of
   * https://github.com/microsoft/terraform-provider-power-platform).
   */
  _parentbusinessunitid_value: string | null;
}

/** The `WhoAmI` function response. */
export interface WhoAmIDto {
  UserId: string;
  BusinessUnitId: string;
  OrganizationId: string;
}

/**
 * Body of BAP `POST …/environments/{id}/addUser` (the Terraform provider sends `objectId`:
 * `internal/services/authorization/api_user.go` of
 * https://github.com/microsoft/terraform-provider-power-platform).
 */
export interface AddUserRequestDto {
  objectId: string;
}

/**
 * Body of an association `POST …/$ref` (Microsoft Learn, "Associate and disassociate table rows
 * using the Web API", cited in client.ts).
 */
export interface ODataRefDto {
  "@odata.id": string;
}

/** Converts a role row. */
export function toRole(dto: RoleDto): Role {
  const role: Role = {
    roleId: dto.roleid.toLowerCase(),
    name: dto.name,
    businessUnitId: (dto._businessunitid_value ?? "").toLowerCase(),
  };
  if (dto._roletemplateid_value) role.templateId = dto._roletemplateid_value.toLowerCase();
  return role;
}

/** Converts a business unit row. */
export function toBusinessUnit(dto: BusinessUnitDto): BusinessUnit {
  return {
    businessUnitId: dto.businessunitid.toLowerCase(),
    name: dto.name,
    parentId: dto._parentbusinessunitid_value ? dto._parentbusinessunitid_value.toLowerCase() : undefined,
  };
}

/**
 * Whether an expanded collection came back whole: present, and its `@odata.nextLink` (if any)
 * carries no paging (`$skiptoken`). Dataverse puts such a link on every row of a single-level
 * collection `$expand` beside the complete list, and returns at most 5,000 related rows per row
 * (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/join-tables).
 */
export function isCompleteExpansion(
  rows: readonly unknown[] | undefined,
  nextLink: string | undefined,
): boolean {
  if (rows === undefined) return false;
  if (nextLink === undefined) return true;
  return !/[?&]\$skiptoken=/i.test(nextLink) && rows.length < 5000;
}

/** Converts a user row; `roles` is undefined unless the association was expanded completely. */
export function toSystemUser(dto: SystemUserDto): SystemUser {
  const complete = isCompleteExpansion(
    dto.systemuserroles_association,
    dto["systemuserroles_association@odata.nextLink"],
  );
  return {
    systemUserId: dto.systemuserid.toLowerCase(),
    objectId: dto.azureactivedirectoryobjectid ? dto.azureactivedirectoryobjectid.toLowerCase() : undefined,
    domainName: dto.domainname ?? undefined,
    disabled: dto.isdisabled === true,
    businessUnitId: dto._businessunitid_value.toLowerCase(),
    roles: complete ? (dto.systemuserroles_association ?? []).map(toRole) : undefined,
  };
}

/**
 * True when a row is a soft-deleted user, which counts as absent
 * (https://learn.microsoft.com/power-apps/developer/data-platform/user-team-entities).
 */
export function isSoftDeleted(dto: SystemUserDto): boolean {
  return typeof dto.deletedstate === "number" && dto.deletedstate !== 0;
}

/** Builds the `addUser` body. */
export function fromObjectIdToAddUser(objectId: string): AddUserRequestDto {
  return { objectId };
}
