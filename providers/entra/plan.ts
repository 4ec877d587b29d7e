/**
 * Pure planning for Entra users (design.md principle 2): given the declared user and what Entra
 * has (or what we last applied), decide the property patch and the license changes. No I/O;
 * deterministic, sorted output.
 *
 * Rules (issue 6 item 2, reference/graph.md §2):
 * - UPNs, SKU part numbers and service plan names compare case-insensitively.
 * - We own the exact set of DIRECT licenses: declared ones are added, their disabled plans
 *   made exact (re-adding a SKU replaces its disabledPlans), undeclared direct ones removed.
 * - Group-inherited licenses are never added to a removal; they only count as seats already held.
 * - `usageLocation` cannot be reset to null in Graph, so an empty declared value changes nothing.
 */

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

/** Everything to do for one user. */
export interface UserChanges {
  properties: PropertyChanges;
  licenses: LicenseChanges;
  /** Whether anything differs. */
  changed: boolean;
  /** Human-readable lines, sorted as applied, for previews and reports. */
  summary: string[];
}

const lower = (s: string) => s.toLowerCase();
const bySku = (a: { sku: string }, b: { sku: string }) =>
  lower(a.sku) < lower(b.sku) ? -1 : lower(a.sku) > lower(b.sku) ? 1 : 0;

/** Case-insensitive UPN equality. */
export function sameUpn(a: string, b: string): boolean {
  return lower(a.trim()) === lower(b.trim());
}

function samePlans(a: string[], b: string[]): boolean {
  const x = [...new Set(a.map(lower))].sort();
  const y = [...new Set(b.map(lower))].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Normalizes a license list: sorted by SKU, plans de-duplicated and sorted. */
export function normalizeLicenses(licenses: LicenseAssignment[]): LicenseAssignment[] {
  return licenses
    .map((l) => ({
      sku: l.sku,
      disabledPlans: [...new Map(l.disabledPlans.map((p) => [lower(p), p])).values()].sort((a, b) =>
        lower(a) < lower(b) ? -1 : 1,
      ),
    }))
    .sort(bySku);
}

/**
 * The license changes that make the user's DIRECT licenses exactly `desired`.
 * `direct` are the user's current direct licenses; inherited ones are not passed here.
 */
export function planLicenseChanges(
  desired: LicenseAssignment[],
  direct: LicenseAssignment[],
): LicenseChanges {
  const current = new Map(direct.map((l) => [lower(l.sku), l]));
  const wanted = new Map(desired.map((l) => [lower(l.sku), l]));
  const add = normalizeLicenses(
    desired.filter((l) => {
      const have = current.get(lower(l.sku));
      return !have || !samePlans(have.disabledPlans, l.disabledPlans);
    }),
  );
  const remove = direct
    .filter((l) => !wanted.has(lower(l.sku)))
    .map((l) => l.sku)
    .sort((a, b) => (lower(a) < lower(b) ? -1 : 1));
  return { add, remove };
}

/** The full plan for one user. */
export function planUserChanges(desired: DesiredEntraUser, actual: UserSnapshot): UserChanges {
  const properties: PropertyChanges = {};
  const summary: string[] = [];
  if (desired.displayName !== actual.displayName) {
    properties.displayName = desired.displayName;
    summary.push(`displayName: "${actual.displayName}" → "${desired.displayName}"`);
  }
  if (desired.usageLocation && lower(desired.usageLocation) !== lower(actual.usageLocation ?? "")) {
    properties.usageLocation = desired.usageLocation.toUpperCase();
    summary.push(`usageLocation: ${actual.usageLocation ?? "(none)"} → ${properties.usageLocation}`);
  }
  if (desired.enabled !== actual.enabled) {
    properties.accountEnabled = desired.enabled;
    summary.push(desired.enabled ? "enable sign-in" : "disable sign-in");
  }
  const licenses = planLicenseChanges(desired.licenses, actual.directLicenses);
  for (const l of licenses.add) {
    const had = actual.directLicenses.some((d) => lower(d.sku) === lower(l.sku));
    const plans = l.disabledPlans.length ? ` (disabled plans: ${l.disabledPlans.join(", ")})` : "";
    summary.push(`${had ? "change license" : "add license"} ${l.sku}${plans}`);
  }
  for (const sku of licenses.remove) summary.push(`remove license ${sku}`);
  const changed = Object.keys(properties).length > 0 || licenses.add.length > 0 || licenses.remove.length > 0;
  return { properties, licenses, changed, summary };
}

/** Seats a license change consumes: one per added SKU the user does not hold yet (directly or through a group). */
export function seatDemand(
  changes: LicenseChanges,
  actual: Pick<UserSnapshot, "directLicenses" | "inheritedSkus">,
): Record<string, number> {
  const held = new Set([
    ...actual.directLicenses.map((l) => lower(l.sku)),
    ...actual.inheritedSkus.map(lower),
  ]);
  const demand: Record<string, number> = {};
  for (const l of changes.add) if (!held.has(lower(l.sku))) demand[l.sku] = (demand[l.sku] ?? 0) + 1;
  return demand;
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

/**
 * Checks that every SKU has the seats a change needs (`demand`: part number → new seats), for
 * one user or the whole change (the program sums demand over all users). Returns the
 * shortages, sorted; empty means enough seats. A SKU the tenant does not subscribe has 0 free.
 */
export function checkSeats(demand: Record<string, number>, skus: SkuSeats[]): SeatShortage[] {
  const shortages: SeatShortage[] = [];
  for (const [sku, needed] of Object.entries(demand)) {
    if (needed <= 0) continue;
    const found = skus.find((s) => lower(s.partNumber) === lower(sku));
    const free = found ? Math.max(0, found.enabled - found.consumed) : 0;
    if (needed > free) {
      const what = found ? `${free} free of ${found.enabled}` : "0 free (not subscribed in this tenant)";
      shortages.push({
        sku: found?.partNumber ?? sku,
        needed,
        free,
        message: `not enough ${found?.partNumber ?? sku} licenses: ${needed} seat(s) needed, ${what}`,
      });
    }
  }
  return shortages.sort(bySku);
}
