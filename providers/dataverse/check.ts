/**
 * Pure input checks of `dataverse:User`: normalization (trimmed names, a lower-case object id,
 * role names de-duplicated and sorted) and one failure per bad property. Unknown values
 * (preview) are kept as they are and not checked; role and business-unit names are checked
 * against the environment's catalog by the resource (they need the service).
 */
import { isGuid } from "../core/odata.ts";
import { type CheckFailure, compact, containsUnknown } from "../core/provider.ts";
import type { DataverseUserInputs } from "./model.ts";
import { normalizeNames } from "./plan.ts";

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
