/**
 * Pure input checks of `entra:User`: normalization (trimmed names, upper-case usage location,
 * licenses sorted with their plans) and one failure per bad property. Unknown values (preview)
 * are kept as they are and not checked.
 */
import { type CheckFailure, containsUnknown } from "../core/provider.ts";
import { deleteAdoptedProblem, USER_DEFAULTS, upnProblem } from "../core/user.ts";
import type { EntraUserInputs, LicenseAssignment } from "./model.ts";
import { managedSkus, normalizeLicenses } from "./plan.ts";

const OBJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Normalizes the inputs and lists what is wrong with them. */
export function checkInputs(news: Record<string, unknown>): {
  inputs: EntraUserInputs;
  failures: CheckFailure[];
} {
  const failures: CheckFailure[] = [];
  const known = (v: unknown) => !containsUnknown(v);
  const str = (v: unknown) => (typeof v === "string" ? v.trim() : "");
  const upn = str(news.upn);
  const upnIssue = upnProblem(upn);
  if (known(news.upn) && upnIssue) {
    failures.push({
      property: "upn",
      reason: `"${String(news.upn ?? "")}" is not a valid user principal name: ${upnIssue}`,
    });
  }
  const displayName = str(news.displayName);
  if (known(news.displayName) && !displayName)
    failures.push({ property: "displayName", reason: "displayName is required" });
  const usageLocation = str(news.usageLocation).toUpperCase();
  if (known(news.usageLocation) && usageLocation && !/^[A-Z]{2}$/.test(usageLocation)) {
    failures.push({
      property: "usageLocation",
      reason: `"${usageLocation}" is not an ISO 3166-1 alpha-2 country code`,
    });
  }
  const enabled = news.enabled ?? USER_DEFAULTS.enabled;
  if (known(enabled) && typeof enabled !== "boolean")
    failures.push({ property: "enabled", reason: "enabled must be true or false" });
  const manage = news.manage ?? USER_DEFAULTS.manage;
  if (known(manage) && manage !== "adopt" && manage !== "create")
    failures.push({ property: "manage", reason: 'manage must be "adopt" or "create"' });
  const onRemove = news.onRemove ?? USER_DEFAULTS.onRemove;
  if (known(onRemove) && onRemove !== "disable" && onRemove !== "delete") {
    failures.push({ property: "onRemove", reason: 'onRemove must be "disable" or "delete"' });
  }
  const deleteIssue =
    known(manage) && known(onRemove)
      ? deleteAdoptedProblem(manage as EntraUserInputs["manage"], onRemove as EntraUserInputs["onRemove"])
      : undefined;
  if (deleteIssue) failures.push({ property: "onRemove", reason: `onRemove: delete ${deleteIssue}` });
  const rawLicenses = news.licenses ?? [];
  const licenses: LicenseAssignment[] = [];
  if (known(rawLicenses)) {
    if (!Array.isArray(rawLicenses))
      failures.push({ property: "licenses", reason: "licenses must be a list" });
    else {
      const seen = new Set<string>();
      rawLicenses.forEach((l: unknown, i) => {
        const sku = str((l as { sku?: unknown })?.sku);
        const plans = (l as { disabledPlans?: unknown })?.disabledPlans ?? [];
        if (!sku)
          failures.push({
            property: `licenses[${i}].sku`,
            reason: "sku (a SKU part number such as DYN365_FINANCE) is required",
          });
        else if (seen.has(sku.toLowerCase()))
          failures.push({ property: `licenses[${i}].sku`, reason: `license ${sku} is declared twice` });
        seen.add(sku.toLowerCase());
        if (!Array.isArray(plans) || plans.some((p) => typeof p !== "string" || !p.trim())) {
          failures.push({
            property: `licenses[${i}].disabledPlans`,
            reason: "disabledPlans must be a list of service plan names",
          });
        } else licenses.push({ sku, disabledPlans: plans.map((p: string) => p.trim()) });
      });
      if (licenses.length > 0 && known(news.usageLocation) && !usageLocation) {
        failures.push({
          property: "usageLocation",
          reason:
            "usageLocation is required when licenses are declared (Graph refuses license assignment without it)",
        });
      }
    }
  }
  const rawManaged = news.managedLicenses ?? [];
  if (
    known(rawManaged) &&
    (!Array.isArray(rawManaged) || rawManaged.some((s) => typeof s !== "string" || !s.trim()))
  )
    failures.push({
      property: "managedLicenses",
      reason: "managedLicenses must be a list of SKU part numbers",
    });
  const objectId = news.objectId;
  if (
    known(objectId) &&
    objectId !== undefined &&
    (typeof objectId !== "string" || !OBJECT_ID.test(objectId))
  )
    failures.push({ property: "objectId", reason: "objectId must be an Entra object id (a GUID)" });
  const provenance = news.provenance;
  if (known(provenance) && provenance !== undefined && provenance !== "adopted" && provenance !== "created")
    failures.push({ property: "provenance", reason: 'provenance must be "adopted" or "created"' });
  const declared = known(rawLicenses) ? normalizeLicenses(licenses) : (rawLicenses as LicenseAssignment[]);
  const managed =
    known(rawManaged) && known(rawLicenses) && Array.isArray(rawManaged)
      ? managedSkus({
          licenses: declared,
          managedLicenses: (rawManaged as string[]).map((s) => String(s).trim()),
        })
      : (rawManaged as string[]);
  const inputs: EntraUserInputs = {
    upn: known(news.upn) ? upn : (news.upn as string),
    displayName: known(news.displayName) ? displayName : (news.displayName as string),
    usageLocation: known(news.usageLocation) ? usageLocation : (news.usageLocation as string),
    enabled: enabled as boolean,
    manage: manage as EntraUserInputs["manage"],
    onRemove: onRemove as EntraUserInputs["onRemove"],
    licenses: declared,
    managedLicenses: managed,
    ...(objectId === undefined ? {} : { objectId: objectId as string }),
    ...(provenance === undefined ? {} : { provenance: provenance as EntraUserInputs["provenance"] }),
  };
  return { inputs, failures };
}
