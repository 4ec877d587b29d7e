/**
 * The directory: the Entra slice of the sandbox state (`SandboxState.entra`), in Microsoft
 * Graph's own property names. Graph serves and changes it; the identity service reads its app
 * registrations; the Dataverse sync reads its users and licenses.
 */
import type { IdentityState } from "../identity/state.ts";

/** One Entra user as the sandbox stores it (Microsoft Graph's own names). */
export interface EntraUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  mail: string | null;
  mailNickname: string;
  accountEnabled: boolean;
  usageLocation: string | null;
  userType: "Member" | "Guest";
  createdDateTime: string;
  passwordProfile?: { forceChangePasswordNextSignIn: boolean };
  /** Direct assignments; group-inherited ones are derived from `groups`. */
  assignedLicenses: { skuId: string; disabledPlans: string[] }[];
  /** Group ids the user is a member of (group-based licensing). */
  memberOf: string[];
  givenName?: string | null;
  surname?: string | null;
  jobTitle?: string | null;
  department?: string | null;
  mobilePhone?: string | null;
  officeLocation?: string | null;
  preferredLanguage?: string | null;
  businessPhones?: string[];
  /** When each direct license was last changed (ISO), by lower-cased skuId. */
  licenseTimestamps?: Record<string, string>;
}

/** A subscribed SKU (Graph subscribedSku, trimmed). */
export interface EntraSku {
  skuId: string;
  skuPartNumber: string;
  prepaidUnits: { enabled: number; suspended: number; warning: number; lockedOut: number };
  servicePlans: {
    servicePlanId: string;
    servicePlanName: string;
    provisioningStatus: string;
    appliesTo: string;
  }[];
}

/** A security group that carries licenses (group-based licensing). */
export interface EntraGroup {
  id: string;
  displayName: string;
  assignedLicenses: { skuId: string; disabledPlans: string[] }[];
}

/** The Entra slice of the sandbox state, shared read-only with the Dataverse sync. */
export interface EntraState extends IdentityState {
  users: EntraUser[];
  skus: EntraSku[];
  groups: EntraGroup[];
  /** Soft-deleted users (Graph keeps them restorable for 30 days); they hold no seats. */
  deletedUsers?: (EntraUser & { deletedDateTime: string })[];
}
