/**
 * Our Entra vocabulary (style.md principle 2): licenses by SKU part number and service plan
 * name, the user as the planner sees it, tenant SKUs and seats, and the resource's inputs and
 * outputs. Wire shapes (Graph's casing) and their conversions live in dto.ts.
 */
import type { Person } from "../core/user.ts";

/** One license: SKU part number and the names of service plans to disable. */
export interface LicenseAssignment {
  sku: string;
  disabledPlans: string[];
}

/** The declared state (the resource inputs that matter to Entra). */
export interface DesiredEntraUser {
  upn: string;
  displayName: string;
  usageLocation: string;
  enabled: boolean;
  licenses: LicenseAssignment[];
}

/** What Entra has (from a read), or what we last applied (from outputs). */
export interface UserSnapshot {
  upn: string;
  displayName: string;
  usageLocation: string | undefined;
  enabled: boolean;
  /** Directly assigned licenses (part numbers, plan names). */
  directLicenses: LicenseAssignment[];
  /** SKUs inherited from groups: never touched. */
  inheritedSkus: string[];
}

/** License changes for one user; `add` also carries re-adds that change disabled plans. */
export interface LicenseChanges {
  add: LicenseAssignment[];
  remove: string[];
}

/** The property patch (only fields that differ). */
export interface PropertyChanges {
  displayName?: string;
  usageLocation?: string;
  accountEnabled?: boolean;
}

/** A tenant SKU in our vocabulary. */
export interface Sku {
  /** Lower-cased skuId. */
  skuId: string;
  partNumber: string;
  /** Seats purchased and enabled. */
  enabled: number;
  /** Seats consumed. */
  consumed: number;
  plans: { id: string; name: string }[];
}

/** Seats of one SKU as the tenant reports them. */
export interface SkuSeats {
  partNumber: string;
  /** Enabled prepaid units. */
  enabled: number;
  /** Consumed units. */
  consumed: number;
}

/** A SKU without enough free seats. */
export interface SeatShortage {
  sku: string;
  needed: number;
  free: number;
  /** One line naming the SKU, seats needed and seats free. */
  message: string;
}

/** Resource inputs (model contract: names, not GUIDs): the person and its direct licenses. */
export interface EntraUserInputs extends Person {
  licenses: LicenseAssignment[];
}

/** Resource outputs: the inputs as last applied, plus what removal needs. */
export interface EntraUserOutputs extends EntraUserInputs {
  objectId: string;
  /** The user existed before this resource managed it. */
  adopted: boolean;
  /** SKU part numbers this resource assigned directly: what removal revokes. */
  managedLicenses: string[];
  /** Only for users we created: the random initial password (a Pulumi secret). */
  initialPassword?: string;
}

/** What Entra reads of a declared user (users.yaml `users[]`, normalized). */
export type EntraPerson = Pick<
  EntraUserInputs,
  "upn" | "displayName" | "usageLocation" | "enabled" | "manage" | "onRemove" | "licenses"
>;
