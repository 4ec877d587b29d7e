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
  /** Synced from on-premises Active Directory: its mastered properties cannot be changed in the cloud. */
  onPremisesSyncEnabled?: boolean | null;
  onPremisesImmutableId?: string | null;
  onPremisesSamAccountName?: string | null;
  onPremisesLastSyncDateTime?: string | null;
  /** Directory roles the user holds, by display name (e.g. "Global Administrator"). */
  directoryRoles?: string[];
  /**
   * Group-based licensing errors for this user, by group id: the group's licences are then in
   * state `Error` for the user, who does not hold them
   * (https://learn.microsoft.com/entra/identity/users/licensing-groups-resolve-problems).
   */
  groupLicenseErrors?: Record<
    string,
    | "CountViolation"
    | "MutuallyExclusiveViolation"
    | "DependencyViolation"
    | "ProhibitedInUsageLocationViolation"
  >;
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

/** A security group, possibly carrying licenses (group-based licensing). */
export interface EntraGroup {
  id: string;
  displayName: string;
  assignedLicenses: { skuId: string; disabledPlans: string[] }[];
}

/**
 * What Graph's replicas have not seen yet, for eventual consistency (recorded only while a
 * delay is configured): when each user was created, and each user's earlier versions.
 */
export interface DirectoryReplication {
  /** Creation time (ms on the injected clock) by user id. */
  created: Record<string, number>;
  /** Versions replaced by a change at `at` (ms), oldest first, by user id. */
  history: Record<string, { at: number; user: EntraUser }[]>;
}

/** The Entra slice of the sandbox state, shared read-only with the Dataverse sync. */
export interface EntraState extends IdentityState {
  users: EntraUser[];
  skus: EntraSku[];
  groups: EntraGroup[];
  /** Soft-deleted users (Graph keeps them restorable for 30 days); they hold no seats. */
  deletedUsers?: (EntraUser & { deletedDateTime: string })[];
  /** Eventual-consistency bookkeeping (absent while no delay is configured). */
  replication?: DirectoryReplication;
}
