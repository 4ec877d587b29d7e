/**
 * Pure input checks of `dataverse:User`: normalization (trimmed names, a lower-case object id,
 * role names de-duplicated and sorted) and one failure per bad property. Unknown values
 * (preview) are kept as they are and not checked. Role and business-unit names are resolved
 * against the environment's catalog (read by run.ts) with the pure functions below, one line per
 * unknown or ambiguous name, with the closest candidates.
 */
import { isGuid } from "../core/odata.ts";
import { type CheckFailure, compact, containsUnknown, PlanError } from "../core/provider.ts";
import type { BusinessUnit, Catalog, DataverseUserInputs, Role } from "./model.ts";

const trimmed = (v: unknown): unknown => (typeof v === "string" && !containsUnknown(v) ? v.trim() : v);

/** Normalizes the inputs and lists what is wrong with them. */
export function checkInputs(news: Record<string, unknown>): {
  inputs: DataverseUserInputs;
  failures: CheckFailure[];
} {
  const failures: CheckFailure[] = [];
  for (const key of ["upn", "objectId", "environment"] as const) {
    const v = news[key];
    if (!containsUnknown(v) && (typeof v !== "string" || v.trim() === ""))
      failures.push({ property: key, reason: `${key} must be a non-empty string` });
  }
  const objectId = news.objectId;
  if (
    typeof objectId === "string" &&
    !containsUnknown(objectId) &&
    objectId.trim() !== "" &&
    !isGuid(objectId.trim())
  ) {
    failures.push({
      property: "objectId",
      reason: `objectId must be an Entra object id (a GUID), got "${objectId}"`,
    });
  }
  const businessUnit = news.businessUnit ?? undefined;
  if (businessUnit !== undefined && typeof businessUnit !== "string")
    failures.push({ property: "businessUnit", reason: "businessUnit must be a string when set" });
  const roles = news.roles;
  if (!containsUnknown(roles) && (!Array.isArray(roles) || roles.some((r) => typeof r !== "string")))
    failures.push({ property: "roles", reason: "roles must be a list of role names" });

  const enabled = news.enabled ?? undefined;
  if (enabled !== undefined && !containsUnknown(enabled) && typeof enabled !== "boolean")
    failures.push({ property: "enabled", reason: "enabled must be true or false when set" });

  const unit = trimmed(businessUnit);
  const inputs = compact({
    upn: trimmed(news.upn),
    objectId:
      typeof objectId === "string" && !containsUnknown(objectId) ? objectId.trim().toLowerCase() : objectId,
    environment: trimmed(news.environment),
    businessUnit: unit === "" ? undefined : unit,
    roles:
      Array.isArray(roles) && !containsUnknown(roles) && roles.every((r) => typeof r === "string")
        ? normalizeNames(roles)
        : roles,
    // Kept: a person users.yaml keeps disabled is not re-synced (which would ask Entra to enable it).
    enabled,
    provenance: news.provenance === "created" ? "created" : undefined,
  }) as unknown as DataverseUserInputs;
  return { inputs, failures };
}

// ---------------------------------------------------------------------------------------------
// Names: how users.yaml's role and business-unit names meet the environment's catalog
// ---------------------------------------------------------------------------------------------

const MAX_CANDIDATES = 12;

/** The comparison key of a name: trimmed, lower-case. */
export function nameKey(name: string): string {
  return name.trim().toLowerCase();
}

/** Trims, drops empty and case-insensitive duplicates (first spelling wins), sorts by key. */
export function normalizeNames(names: readonly string[]): string[] {
  const byKey = new Map<string, string>();
  for (const raw of names) {
    const name = raw.trim();
    if (name !== "" && !byKey.has(nameKey(name))) byKey.set(nameKey(name), name);
  }
  return [...byKey.entries()].sort(([a], [b]) => compare(a, b)).map(([, name]) => name);
}

/** True when two name lists hold the same names, ignoring case, order and duplicates. */
export function sameNames(a: readonly string[], b: readonly string[]): boolean {
  const ka = normalizeNames(a).map(nameKey);
  const kb = normalizeNames(b).map(nameKey);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

/** The root business unit (the one without a parent). */
export function rootBusinessUnit(catalog: Catalog): BusinessUnit {
  const roots = catalog.businessUnits.filter((bu) => bu.parentId === undefined);
  const root = roots[0];
  if (roots.length !== 1 || root === undefined) {
    throw new PlanError(
      [
        `Dataverse environment "${catalog.environment}": expected exactly one root business unit, found ${roots.length}`,
      ],
      "businessUnit",
    );
  }
  return root;
}

/** Resolves a business unit name (undefined = root), case-insensitively. */
export function resolveBusinessUnit(catalog: Catalog, name: string | undefined): BusinessUnit {
  if (name === undefined || name.trim() === "") return rootBusinessUnit(catalog);
  const matches = catalog.businessUnits.filter((bu) => nameKey(bu.name) === nameKey(name));
  const only = matches[0];
  if (matches.length === 1 && only !== undefined) return only;
  if (matches.length > 1) {
    throw new PlanError(
      [
        `Dataverse environment "${catalog.environment}": business unit "${name}" is ambiguous: ${matches.length} business units have that name (${matches
          .map((bu) => bu.businessUnitId)
          .sort(compare)
          .join(", ")})`,
      ],
      "businessUnit",
    );
  }
  throw new PlanError(
    [
      `Dataverse environment "${catalog.environment}": business unit "${name}" does not exist; business units: ${candidates(
        catalog.businessUnits.map((bu) => bu.name),
      )}`,
    ],
    "businessUnit",
  );
}

/**
 * Resolves role names within one business unit. Unknown and ambiguous names are collected and
 * thrown together (one line each) so a user fixes them all in one pass.
 */
export function resolveRoles(catalog: Catalog, businessUnit: BusinessUnit, names: readonly string[]): Role[] {
  const inUnit = catalog.roles.filter((r) => r.businessUnitId === businessUnit.businessUnitId);
  const problems: string[] = [];
  const resolved: Role[] = [];
  const where = `Dataverse environment "${catalog.environment}", business unit "${businessUnit.name}"`;
  for (const name of normalizeNames(names)) {
    const matches = inUnit.filter((r) => nameKey(r.name) === nameKey(name));
    const only = matches[0];
    if (matches.length === 1 && only !== undefined) {
      resolved.push(only);
    } else if (matches.length > 1) {
      const ids = matches.map((r) => r.roleId).sort(compare);
      problems.push(
        `${where}: role "${name}" is ambiguous: ${matches.length} roles have that name (${ids.join(", ")})`,
      );
    } else {
      problems.push(
        `${where}: role "${name}" does not exist; roles there: ${candidates(
          inUnit.map((r) => r.name),
          name,
        )}`,
      );
    }
  }
  if (problems.length > 0) throw new PlanError(problems, "roles");
  return sortRoles(resolved);
}

export function sortRoles(roles: readonly Role[]): Role[] {
  return [...roles].sort((a, b) => compare(nameKey(a.name), nameKey(b.name)) || compare(a.roleId, b.roleId));
}

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A short, sorted list of candidate names; close names (sharing a word) first. */
function candidates(names: readonly string[], wanted?: string): string {
  const unique = normalizeNames(names);
  if (unique.length === 0) return "(none)";
  const words = wanted ? nameKey(wanted).split(/\s+/) : [];
  const close = unique.filter((n) => words.some((w) => w.length > 2 && nameKey(n).includes(w)));
  const ordered = [...close, ...unique.filter((n) => !close.includes(n))];
  const shown = ordered.slice(0, MAX_CANDIDATES).map((n) => `"${n}"`);
  const more = ordered.length - shown.length;
  return more > 0 ? `${shown.join(", ")} and ${more} more` : shown.join(", ");
}
