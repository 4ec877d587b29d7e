/**
 * A user's licenses: the user's own (else the defaults'), united with the personas', and the
 * checks of declared SKUs and service plans against what the model knows (licenses.ts).
 */

import type { Context, RawLicense } from "./context.ts";
import type { DesiredLicense } from "./desired.ts";
import { didYouMean, type PathSegment, quote } from "./diagnostics.ts";
import { KNOWN_SKUS, SKU_SERVICE_PLANS } from "./licenses.ts";
import { diagnosticAt, type SourceFile } from "./source.ts";

/** Merges licenses: union by SKU; the user's own declaration sets disabled plans, else plans disabled by every persona. */
export function mergeLicenses(own: RawLicense[], fromPersonas: RawLicense[][]): DesiredLicense[] {
  const result = new Map<string, { sku: string; plans: Set<string> | undefined; own: boolean }>();
  const add = (license: RawLicense, isOwn: boolean) => {
    const sku = typeof license === "string" ? license : license.sku;
    const plans = new Set(typeof license === "string" ? [] : (license.disabledPlans ?? []));
    const key = sku.toLowerCase();
    const current = result.get(key);
    if (!current) {
      result.set(key, { sku, plans, own: isOwn });
    } else if (isOwn) {
      // Several own entries of one SKU: a plan stays disabled only if every entry disables it.
      current.plans = current.own ? new Set([...(current.plans ?? [])].filter((p) => plans.has(p))) : plans;
      current.own = true;
    } else if (!current.own) {
      current.plans = new Set([...(current.plans ?? [])].filter((p) => plans.has(p)));
    }
  };
  for (const license of own) add(license, true);
  for (const list of fromPersonas) for (const license of list) add(license, false);
  return [...result.values()]
    .map(({ sku, plans }) => ({ sku, disabledPlans: [...(plans ?? [])].sort() }))
    .sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
}

export function checkLicenses(
  ctx: Context,
  place: { source: SourceFile; path: PathSegment[] },
  licenses: RawLicense[],
): void {
  const seen = new Map<string, number>();
  licenses.forEach((license, i) => {
    const sku = typeof license === "string" ? license : license.sku;
    const skuPath = typeof license === "string" ? [...place.path, i] : [...place.path, i, "sku"];
    const exact = KNOWN_SKUS.includes(sku);
    const caseInsensitive = KNOWN_SKUS.find((k) => k.toLowerCase() === sku.toLowerCase());
    if (!exact && caseInsensitive) {
      ctx.diagnostics.push(
        diagnosticAt(
          place.source,
          skuPath,
          "warning",
          "sku-case",
          `SKU part number ${quote(sku)} differs in case from ${quote(caseInsensitive)}; write it as Microsoft Graph lists it`,
        ),
      );
    } else if (!exact) {
      const guess = didYouMean(sku, KNOWN_SKUS);
      if (guess !== "")
        ctx.diagnostics.push(
          diagnosticAt(
            place.source,
            skuPath,
            "warning",
            "unknown-sku",
            `SKU part number ${quote(sku)} is not a known Dynamics 365 SKU${guess}`,
          ),
        );
    }
    const previous = seen.get(sku.toLowerCase());
    if (previous !== undefined) {
      ctx.diagnostics.push(
        diagnosticAt(
          place.source,
          skuPath,
          "warning",
          "duplicate-license",
          `license ${quote(sku)} is listed twice (also item ${previous})`,
        ),
      );
    }
    seen.set(sku.toLowerCase(), i);
    const plans = SKU_SERVICE_PLANS[caseInsensitive ?? sku];
    if (typeof license !== "string" && plans) {
      (license.disabledPlans ?? []).forEach((plan, j) => {
        if (!plans.includes(plan)) {
          ctx.diagnostics.push(
            diagnosticAt(
              place.source,
              [...place.path, i, "disabledPlans", j],
              "error",
              "unknown-service-plan",
              `${quote(plan)} is not a service plan of ${caseInsensitive ?? sku} (its plans: ${plans.join(", ")})${didYouMean(plan, plans)}`,
            ),
          );
        }
      });
    }
  });
}
