/**
 * The normalized desired state read from users.yaml: plain data, personas expanded, defaults
 * applied. The Pulumi program and the reports consume it; the reconcilers receive slices of it
 * as resource inputs with the same field names. Each system's part of a user is the system's
 * own type (its folder's model.ts).
 */
import type { Person } from "../../providers/core/user.ts";
import type { DesiredDataverseAccess } from "../../providers/dataverse/index.ts";
import type { LicenseAssignment } from "../../providers/entra/index.ts";
import type { DeclaredRole, DesiredFnoAccess } from "../../providers/fno/index.ts";
import type { NameIndex } from "./positions.ts";

/** One finding about the input, always tied to the place in a file where it was written. */
export interface Diagnostic {
  /** `error` stops the run before any API is called; `warning` is reported and tolerated. */
  severity: "error" | "warning";
  /** Stable, kebab-case identifier of the kind of finding, e.g. `unknown-persona`. */
  code: string;
  /** File path relative to the working directory (forward slashes). */
  file: string;
  /** 1-based line of the offending node (the key for unknown/duplicate keys, else the value). */
  line: number;
  /** 1-based column of the offending node. */
  col: number;
  /** Path of the offending node inside its file, e.g. `users[3].personas[1]`; empty for the whole file. */
  path: string;
  /** Plain-language explanation, including the fix where one is known. */
  message: string;
}

/** Where something was declared. */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

/** A logical environment; the stack maps its name to real endpoints. */
export interface DesiredEnvironment {
  /** Logical name, e.g. `contoso-demo`. */
  name: string;
  /** The environment has Dataverse. */
  dataverse: boolean;
  /** The environment has a linked finance and operations environment. */
  fno: boolean;
  /** Known F&O legal entities (DataAreaId, upper case), used for validation; empty = not checked. */
  legalEntities: string[];
}

/** One license a user holds directly: SKU part number and disabled service plan names (sorted). */
export type DesiredLicense = LicenseAssignment;

/** A user's presence and roles in one Dataverse environment. */
export type { DesiredDataverseAccess };

/** One F&O role assignment (AOT name or label, as written), optionally restricted to legal entities (upper case, sorted). */
export type DesiredFnoRole = DeclaredRole;

/** A user's account and roles in one F&O environment. */
export type { DesiredFnoAccess };

/** One user after personas and defaults are applied (`usageLocation` empty only without licenses). */
export interface DesiredUser extends Person {
  /** Persona names applied, in the order written (for reports). */
  personas: string[];
  /** Direct licenses, sorted by SKU. */
  licenses: DesiredLicense[];
  /** The SKUs users.yaml manages ({@link DesiredState.managedLicenses}, the same list for every user). */
  managedLicenses: string[];
  /** Dataverse access per environment, sorted by environment. */
  dataverse: DesiredDataverseAccess[];
  /** F&O access per environment, sorted by environment. */
  fno: DesiredFnoAccess[];
  /** Where the user is declared. */
  source: SourceLocation;
}

/** A segregation-of-duties rule: holding two or more of `roles` together is a conflict. */
export interface SodRule {
  name: string;
  /** `fno` (default) or `dataverse`: whose roles the rule speaks about. */
  system: "fno" | "dataverse";
  /** Role names/identifiers, compared case-insensitively; at least two. */
  roles: string[];
  /** `error` stops the run; `warning` reports the conflict. */
  severity: "error" | "warning";
  description?: string;
  source: SourceLocation;
  /** Where each of `roles` is written (same order). */
  roleSources?: SourceLocation[];
}

/** Limits for the blast-radius guard; absent = the default (src/program/guards.ts), else no limit. */
export interface Guards {
  /** Most users whose access may change in one run. */
  maxUsersChanged?: number;
  /** Most users that may be removed (disabled or deleted) in one run. */
  maxUsersRemoved?: number;
  /** Most role assignments (Dataverse + F&O) that may be added or removed in one run. */
  maxRoleChanges?: number;
  /** Most license assignments that may be added or removed in one run. */
  maxLicenseChanges?: number;
  /** Most grants of the last deployment that may be revoked in one run, in percent of them. */
  maxRevokedPercent?: number;
}

/** The whole normalized desired state. */
export interface DesiredState {
  /** The YAML files read, includes after their includer, relative to the working directory. */
  files: string[];
  /** Environments sorted by name. */
  environments: DesiredEnvironment[];
  /** Users sorted by lower-case UPN. */
  users: DesiredUser[];
  rules: { sod: SodRule[] };
  guards: Guards;
  /**
   * The SKUs d365-access reconciles, sorted: every SKU users.yaml names (users, personas,
   * defaults) and those its `managedLicenses` lists. A user's direct assignment of one of them
   * follows users.yaml; other direct licenses and group-based ones are never touched.
   */
  managedLicenses: string[];
  /**
   * Roles reported when someone users.yaml does not declare holds them (`privilegedRoles`),
   * besides each system's own (System Administrator, -SYSADMIN-); as written.
   */
  privilegedRoles?: string[];
  /** Non-fatal findings, with file:line:col. */
  warnings: Diagnostic[];
  /** Where each role, business unit and legal entity is written (for the pre-flight's positions). */
  names?: NameIndex;
}
