/**
 * Our Entra vocabulary: licenses by SKU part number and service plan name, the user as the
 * planner sees it, tenant SKUs and seats, and the resource's inputs and outputs. Wire shapes
 * (Graph's casing) and their conversions live in dto.ts.
 */
import type { Provenance } from "../core/removal.ts";
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
  /**
   * SKU part numbers whose direct assignments this user's resource owns besides the declared
   * ones (users.yaml's managed SKUs); absent or empty: only the declared ones.
   */
  managedLicenses?: readonly string[];
}

/** What Entra has (from a read), or what we last applied (from outputs). */
export interface UserSnapshot {
  upn: string;
  displayName: string;
  usageLocation: string | undefined;
  enabled: boolean;
  /** Directly assigned licenses (part numbers, plan names). */
  directLicenses: LicenseAssignment[];
  /** SKUs held through groups (a group license in an error state is not held): never touched. */
  inheritedSkus: string[];
  /**
   * Synced from on-premises Active Directory (`onPremisesSyncEnabled`): the properties it masters
   * there are never patched, only reported when they differ.
   */
  onPremisesSync?: boolean;
}

/** License changes for one user; `add` also carries re-adds that change disabled plans. */
export interface LicenseChanges {
  add: LicenseAssignment[];
  remove: string[];
}

/**
 * The property patch (only fields that differ). Sign-in (`accountEnabled`) is planned apart
 * (`setSignIn`): Graph refuses it for users holding a privileged directory role unless the app
 * holds a higher one, and that refusal must not block the rest.
 */
export interface PropertyChanges {
  displayName?: string;
  usageLocation?: string;
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
  /** The direct licenses users.yaml gives the user. */
  licenses: LicenseAssignment[];
  /**
   * The SKUs users.yaml manages (part numbers, sorted; the declared ones always count): the
   * user's direct assignments of these follow `licenses`, any other direct license is never
   * touched. Removal revokes the user's direct assignments of these.
   */
  managedLicenses: string[];
  /**
   * The Entra object id the program found for this person in its bulk read (or the last
   * deployment); absent when no such user exists yet. A person is their object id: a different
   * id under the same resource replaces it, a new UPN does not.
   */
  objectId?: string;
  /**
   * Who made the object `objectId` names: `created` when a run of d365-access created it and
   * was interrupted before recording it (its create is still pending in the last deployment),
   * so it is recorded as created, not adopted. Default `adopted`.
   */
  provenance?: Provenance;
}

/** Resource outputs: the inputs as last applied, plus what removal needs. */
export interface EntraUserOutputs extends EntraUserInputs {
  objectId: string;
  /** The user existed before this resource managed it (provenance: removal never deletes it). */
  adopted: boolean;
  /**
   * The user's direct licenses as last applied or read: every SKU, managed or not, so `diff`
   * sees what a change of the managed set would remove.
   */
  licenses: LicenseAssignment[];
  /** Synced from on-premises AD: the properties AD masters are not ours to change. */
  onPremisesSync?: boolean;
  /** Only for users we created: the random initial password (a Pulumi secret). */
  initialPassword?: string;
}

/** What Entra reads of a declared user (users.yaml `users[]`, normalized). */
export type EntraPerson = Pick<
  EntraUserInputs,
  "upn" | "displayName" | "usageLocation" | "enabled" | "manage" | "onRemove" | "licenses" | "managedLicenses"
>;
