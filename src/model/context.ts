/**
 * What every normalization step shares: the schema-valid raw shapes of users.yaml, values with
 * the place they were written, and the run's context (diagnostics, environments, personas).
 */
import type { DesiredLicense, Diagnostic, Guards } from "./desired.ts";
import type { PathSegment } from "./diagnostics.ts";
import { locate, type SourceFile } from "./source.ts";

export type RawLicense = string | { sku: string; disabledPlans?: string[] };
export type RawFnoRole = string | { role: string; legalEntities?: string[] };
export interface RawDataverse {
  businessUnit?: string;
  roles?: string[];
}
export interface RawFno {
  userId?: string;
  company?: string;
  roles?: RawFnoRole[];
}
export interface RawUser {
  upn: string;
  displayName: string;
  usageLocation?: string;
  enabled?: boolean;
  manage?: "adopt" | "create";
  onRemove?: "disable" | "delete";
  personas?: string[];
  environments?: string[];
  licenses?: RawLicense[];
  dataverse?: Record<string, RawDataverse>;
  fno?: Record<string, RawFno>;
}
export interface RawPersona {
  description?: string;
  licenses?: RawLicense[];
  dataverse?: RawDataverse;
  fno?: { company?: string; roles?: RawFnoRole[] };
}
export interface RawEnvironment {
  dataverse?: boolean;
  fno?: boolean;
  legalEntities?: string[];
  defaultCompany?: string;
}
export interface RawDefaults {
  usageLocation?: string;
  enabled?: boolean;
  manage?: "adopt" | "create";
  onRemove?: "disable" | "delete";
  environments?: string[];
  personas?: string[];
  licenses?: RawLicense[];
  dataverse?: { businessUnit?: string };
  fno?: { company?: string };
}
export interface RawSod {
  name: string;
  description?: string;
  system?: "fno" | "dataverse";
  roles: string[];
  severity?: "error" | "warning";
}
export interface RawFile {
  domains?: string[];
  defaults?: RawDefaults;
  environments?: Record<string, RawEnvironment>;
  personas?: Record<string, RawPersona>;
  users?: RawUser[];
  rules?: { sod?: RawSod[] };
  guards?: Guards;
  managedLicenses?: string[];
  privilegedRoles?: string[];
}

/** A value together with the file and path where it was written. */
export interface Placed<T> {
  value: T;
  source: SourceFile;
  path: PathSegment[];
}

export interface Context {
  diagnostics: Diagnostic[];
  environments: Map<string, Placed<RawEnvironment>>;
  personas: Map<string, Placed<RawPersona>>;
  usedPersonas: Set<string>;
  defaults?: Placed<RawDefaults>;
}

export const at = (p: Placed<unknown>, ...more: PathSegment[]): PathSegment[] => [...p.path, ...more];
export const where = (source: SourceFile, path: PathSegment[]) => {
  const { line, col } = locate(source, path);
  return `${source.file}:${line}:${col}`;
};

export function compareLower(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

/** What a system's normalization of one user gets: the run, the user, its personas, defaults and licenses. */
export interface UserScope {
  ctx: Context;
  placed: Placed<RawUser>;
  personas: { name: string; placed: Placed<RawPersona> }[];
  defaults: RawDefaults;
  licenses: DesiredLicense[];
  /** Reports an error at a path of the user's file. */
  error(path: PathSegment[], code: string, message: string, target?: "key" | "value"): void;
  /** Reports a warning at a path of the user's file. */
  warn(path: PathSegment[], code: string, message: string): void;
}
