/**
 * Microsoft Graph wire shapes (Graph's own casing) and the conversions to and from our
 * vocabulary. Sources:
 * https://learn.microsoft.com/graph/api/resources/user,
 * https://learn.microsoft.com/graph/api/resources/subscribedsku,
 * https://learn.microsoft.com/graph/api/resources/licenseassignmentstate.
 */
import type { EntraUserInputs, LicenseAssignment, Sku, UserSnapshot } from "./model.ts";

/** `assignedLicense`. */
export interface AssignedLicenseDto {
  skuId: string;
  disabledPlans: string[];
}

/** `licenseAssignmentState`: one entry per assignment path; `assignedByGroup` is null when direct. */
export interface LicenseAssignmentStateDto {
  skuId: string;
  disabledPlans?: string[];
  assignedByGroup: string | null;
  state?: string;
  error?: string | null;
}

/** The user properties we `$select` (several are not in Graph's default set: https://learn.microsoft.com/graph/api/user-get). */
export interface UserDto {
  id: string;
  userPrincipalName: string;
  displayName?: string | null;
  usageLocation?: string | null;
  accountEnabled?: boolean;
  assignedLicenses?: AssignedLicenseDto[];
  licenseAssignmentStates?: LicenseAssignmentStateDto[];
  /** True for a user synced from on-premises AD (not in Graph's default set: `$select` it). */
  onPremisesSyncEnabled?: boolean | null;
  /** When the user was created (ISO 8601). */
  createdDateTime?: string | null;
  /** The user's department (read by `export` only, for `--split-by department`). */
  department?: string | null;
}

/** The `$select` list matching {@link UserDto}. */
export const USER_SELECT =
  "id,userPrincipalName,displayName,usageLocation,accountEnabled,assignedLicenses,licenseAssignmentStates,onPremisesSyncEnabled,createdDateTime";

/**
 * States of a group assignment in which the user does not hold the license: `Error` (e.g.
 * `CountViolation`: https://learn.microsoft.com/graph/api/resources/licenseassignmentstate) and
 * `Disabled` (UNCONFIRMED what it means for a group path; not counting it as held only makes a
 * seat check stricter).
 */
const NOT_HELD = new Set(["error", "disabled"]);

/** `subscribedSku` (the fields we use). */
export interface SubscribedSkuDto {
  skuId: string;
  skuPartNumber: string;
  appliesTo?: string;
  capabilityStatus?: string;
  consumedUnits: number;
  prepaidUnits: { enabled: number; suspended?: number; warning?: number; lockedOut?: number };
  servicePlans: { servicePlanId: string; servicePlanName: string }[];
}

/** `POST /users` body (required fields: https://learn.microsoft.com/graph/api/user-post-users). */
export interface CreateUserDto {
  accountEnabled: boolean;
  displayName: string;
  mailNickname: string;
  userPrincipalName: string;
  usageLocation?: string;
  passwordProfile: { forceChangePasswordNextSignIn: boolean; password: string };
}

/** `PATCH /users/{id}` body. */
export interface UpdateUserDto {
  displayName?: string;
  usageLocation?: string;
  accountEnabled?: boolean;
  /** Only to give a user an interrupted run created a password we know (its own was lost). */
  passwordProfile?: { forceChangePasswordNextSignIn: boolean; password: string };
}

/** `POST /users/{id}/assignLicense` body; both arrays always sent (every documented sample does). */
export interface AssignLicenseDto {
  addLicenses: AssignedLicenseDto[];
  removeLicenses: string[];
}

/** Converts a subscribed SKU. */
export function toSku(dto: SubscribedSkuDto): Sku {
  return {
    skuId: dto.skuId.toLowerCase(),
    partNumber: dto.skuPartNumber,
    enabled: dto.prepaidUnits?.enabled ?? 0,
    consumed: dto.consumedUnits ?? 0,
    plans: (dto.servicePlans ?? []).map((p) => ({
      id: p.servicePlanId.toLowerCase(),
      name: p.servicePlanName,
    })),
  };
}

/** Finds a SKU by part number (case-insensitive). */
export function skuByPartNumber(skus: Sku[], partNumber: string): Sku | undefined {
  const key = partNumber.toLowerCase();
  return skus.find((s) => s.partNumber.toLowerCase() === key);
}

function skuById(skus: Sku[], skuId: string): Sku | undefined {
  const key = skuId.toLowerCase();
  return skus.find((s) => s.skuId === key);
}

function planNames(sku: Sku | undefined, ids: string[] | undefined): string[] {
  return (ids ?? [])
    .map((id) => sku?.plans.find((p) => p.id === id.toLowerCase())?.name ?? id.toLowerCase())
    .sort();
}

/** A group-based license of a user, by part number, and whether the group assignment failed. */
export function toGroupLicenses(dto: UserDto, skus: Sku[]): { sku: string; error?: string }[] {
  return (dto.licenseAssignmentStates ?? [])
    .filter((s) => s.assignedByGroup)
    .map((s) => {
      const sku = skuById(skus, s.skuId)?.partNumber ?? s.skuId.toLowerCase();
      return NOT_HELD.has((s.state ?? "").toLowerCase())
        ? { sku, error: s.error || s.state || "Error" }
        : { sku };
    });
}

/**
 * Converts a Graph user into the planner's snapshot. "Direct" = `licenseAssignmentStates`
 * entries without `assignedByGroup` (hashicorp's azuread_user_license rule, terraform-provider-azuread
 * PR #1879; `assignedLicenses` is the aggregate and includes group-inherited SKUs). A group
 * assignment in an error state is not held (it counts neither as a seat nor in reports). SKU ids the
 * tenant no longer lists keep their id as name. When Graph returns no states at all we treat
 * `assignedLicenses` as direct (UNCONFIRMED whether that happens; a removal of an inherited
 * license would then be refused by Graph rather than silently applied).
 */
export function toUserSnapshot(dto: UserDto, skus: Sku[]): UserSnapshot & { objectId: string } {
  const states = dto.licenseAssignmentStates;
  const direct = new Map<string, LicenseAssignment>();
  const inherited = new Set<string>();
  const name = (skuId: string) => skuById(skus, skuId)?.partNumber ?? skuId.toLowerCase();
  if (states) {
    for (const s of states) {
      if (s.assignedByGroup) {
        if (!NOT_HELD.has((s.state ?? "").toLowerCase())) inherited.add(name(s.skuId));
      } else
        direct.set(s.skuId.toLowerCase(), {
          sku: name(s.skuId),
          disabledPlans: planNames(skuById(skus, s.skuId), s.disabledPlans),
        });
    }
  } else {
    for (const l of dto.assignedLicenses ?? []) {
      direct.set(l.skuId.toLowerCase(), {
        sku: name(l.skuId),
        disabledPlans: planNames(skuById(skus, l.skuId), l.disabledPlans),
      });
    }
  }
  return {
    objectId: dto.id,
    upn: dto.userPrincipalName,
    displayName: dto.displayName ?? "",
    usageLocation: dto.usageLocation ?? undefined,
    enabled: dto.accountEnabled ?? true,
    directLicenses: [...direct.values()].sort((a, b) =>
      a.sku.toLowerCase().localeCompare(b.sku.toLowerCase()),
    ),
    inheritedSkus: [...inherited].sort(),
    ...(dto.onPremisesSyncEnabled === true ? { onPremisesSync: true } : {}),
  };
}

/** Thrown when a declared SKU or service plan is not in the tenant; names what is missing. */
export class UnknownLicenseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnknownLicenseError";
  }
}

/** Converts declared licenses (part numbers, plan names) to `addLicenses` entries. */
export function fromLicenses(licenses: LicenseAssignment[], skus: Sku[]): AssignedLicenseDto[] {
  return licenses.map((l) => {
    const sku = skuByPartNumber(skus, l.sku);
    if (!sku) {
      const known = skus.map((s) => s.partNumber).join(", ") || "none";
      throw new UnknownLicenseError(
        `license ${l.sku} is not subscribed in this tenant (subscribed: ${known})`,
      );
    }
    const disabledPlans = l.disabledPlans.map((planName) => {
      const plan = sku.plans.find((p) => p.name.toLowerCase() === planName.toLowerCase());
      if (!plan) {
        throw new UnknownLicenseError(
          `service plan ${planName} is not part of ${sku.partNumber} (plans: ${sku.plans.map((p) => p.name).join(", ")})`,
        );
      }
      return plan.id;
    });
    return { skuId: sku.skuId, disabledPlans };
  });
}

/** Resolves part numbers to skuIds for `removeLicenses`; SKUs the tenant no longer lists are passed as ids if they look like one. */
export function skuIdsOf(partNumbers: string[], skus: Sku[]): string[] {
  return partNumbers.map((p) => {
    const sku = skuByPartNumber(skus, p);
    if (sku) return sku.skuId;
    if (/^[0-9a-f-]{36}$/i.test(p)) return p.toLowerCase();
    throw new UnknownLicenseError(`license ${p} is not subscribed in this tenant`);
  });
}

/** The mail nickname Graph requires at creation: the UPN's local part, reduced to allowed characters. */
export function mailNicknameOf(upn: string): string {
  const local = upn.split("@")[0] ?? upn;
  return local.replace(/[^A-Za-z0-9._-]/g, "").slice(0, 64) || "user";
}

/** A declared user → the `POST /users` body, with its initial password (changed at first sign-in). */
export function fromNewUser(inputs: EntraUserInputs, password: string): CreateUserDto {
  return {
    accountEnabled: inputs.enabled,
    displayName: inputs.displayName,
    mailNickname: mailNicknameOf(inputs.upn),
    userPrincipalName: inputs.upn,
    ...(inputs.usageLocation ? { usageLocation: inputs.usageLocation } : {}),
    passwordProfile: { forceChangePasswordNextSignIn: true, password },
  };
}
