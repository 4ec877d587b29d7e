/**
 * Pure planning for Entra users (design.md principle 2): given the declared user and what Entra
 * has (or what we last applied), decide the operations (property patch, license changes,
 * removal), the licenses this resource owns afterwards, the seats the change takes, and what
 * `diff` answers. No I/O; deterministic, sorted output.
 *
 * Rules (issue 6 item 2, reference/graph.md §2):
 * - UPNs, SKU part numbers and service plan names compare case-insensitively.
 * - We own the exact set of DIRECT licenses: declared ones are added, their disabled plans
 *   made exact (re-adding a SKU replaces its disabledPlans), undeclared direct ones removed.
 * - Group-inherited licenses are never added to a removal; they only count as seats already held.
 * - `usageLocation` cannot be reset to null in Graph, so an empty declared value changes nothing.
 * - Ownership: a created user's declared licenses are ours; an adopted user's are ours only if
 *   we added them (or owned them before). Removal revokes only ours (resources.ts header).
 */

import type {
  DesiredEntraUser,
  EntraUserInputs,
  EntraUserOutputs,
  LicenseAssignment,
  LicenseChanges,
  PropertyChanges,
  SeatShortage,
  SkuSeats,
  UserSnapshot,
} from "./model.ts";

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

/** One remote change, named like the client method that performs it. */
export type EntraOperation =
  | { kind: "updateUser"; changes: PropertyChanges }
  | { kind: "assignLicenses"; add: LicenseAssignment[]; remove: string[] }
  | { kind: "deleteUser" };

/** An operation in words, for errors and reports. */
export function describeOperation(op: EntraOperation): string {
  switch (op.kind) {
    case "updateUser":
      return `update ${Object.keys(op.changes).sort().join(", ")}`;
    case "assignLicenses": {
      const parts = [...op.add.map((l) => `add ${l.sku}`), ...op.remove.map((sku) => `remove ${sku}`)];
      return `assign licenses (${parts.join(", ")})`;
    }
    case "deleteUser":
      return "delete the user";
  }
}

/** Everything `create` or `update` does to one user, in order. */
export interface EntraUserPlan {
  /**
   * Properties first, then licenses: Graph refuses a license to a user without a usage
   * location, and a patch sets it. A user created a moment ago already has its properties.
   */
  operations: EntraOperation[];
  /** Seats the change takes per part number: checked and reserved before any write. */
  seats: Record<string, number>;
  /** Part numbers this resource owns once the operations succeeded: what removal revokes. */
  managedLicenses: string[];
  /** Human-readable lines, in the order applied. */
  summary: string[];
}

const lowerSet = (values: readonly string[]) => new Set(values.map(lower));

/**
 * Licenses this resource owns after applying `desired` to a user whose direct licenses
 * before were `before`: a created user owns all declared ones; an adopted user owns what it
 * owned and still declares, plus what we add now (a license it already held is not ours).
 */
export function ownedLicenses(
  adopted: boolean,
  desired: readonly LicenseAssignment[],
  before: readonly LicenseAssignment[],
  previouslyOwned: readonly string[],
): string[] {
  const declared = desired.map((l) => l.sku);
  if (!adopted) return [...declared].sort();
  const hadBefore = lowerSet(before.map((l) => l.sku));
  const owned = lowerSet(previouslyOwned);
  return declared.filter((sku) => owned.has(lower(sku)) || !hadBefore.has(lower(sku))).sort();
}

/**
 * Plans one declared user against what Entra has. `created`: the user was created a moment ago
 * with the declared properties; `adopted` and `managedLicenses` come from the last outputs (or
 * from the create-or-adopt decision).
 */
export function planUser(
  desired: DesiredEntraUser,
  actual: UserSnapshot,
  context: { adopted: boolean; managedLicenses: readonly string[]; created?: boolean },
): EntraUserPlan {
  const changes = planUserChanges(desired, actual);
  const operations: EntraOperation[] = [];
  if (!context.created && Object.keys(changes.properties).length > 0)
    operations.push({ kind: "updateUser", changes: changes.properties });
  if (changes.licenses.add.length > 0 || changes.licenses.remove.length > 0)
    operations.push({ kind: "assignLicenses", add: changes.licenses.add, remove: changes.licenses.remove });
  return {
    operations,
    seats: seatDemand(changes.licenses, actual),
    managedLicenses: ownedLicenses(
      context.adopted,
      desired.licenses,
      actual.directLicenses,
      context.managedLicenses,
    ),
    summary: changes.summary,
  };
}

/**
 * Plans the removal of a user from our management: revoke the direct licenses we granted that
 * it still holds; then a user we created is disabled, or deleted with `onRemove: delete`. An
 * adopted user is otherwise left exactly as found.
 */
export function planRemoval(
  actual: UserSnapshot,
  outputs: Pick<EntraUserOutputs, "managedLicenses" | "adopted" | "onRemove">,
): EntraOperation[] {
  const granted = lowerSet(outputs.managedLicenses ?? []);
  const revoke = actual.directLicenses.map((l) => l.sku).filter((sku) => granted.has(lower(sku)));
  const operations: EntraOperation[] = [];
  if (revoke.length > 0) operations.push({ kind: "assignLicenses", add: [], remove: revoke });
  if (!outputs.adopted) {
    if (outputs.onRemove === "delete") operations.push({ kind: "deleteUser" });
    else if (actual.enabled) operations.push({ kind: "updateUser", changes: { accountEnabled: false } });
  }
  return operations;
}

/** What the last outputs say Entra has (for `diff`, which reads nothing). */
export function snapshotOfOutputs(o: EntraUserOutputs): UserSnapshot {
  return {
    upn: o.upn,
    displayName: o.displayName,
    usageLocation: o.usageLocation || undefined,
    enabled: o.enabled,
    directLicenses: o.licenses ?? [],
    inheritedSkus: [],
  };
}

/** The answer of `diff`: a new UPN replaces; a property, license or removal setting change updates. */
export function diff(
  olds: EntraUserOutputs,
  news: EntraUserInputs,
): { changes: boolean; replaces: string[] } {
  if (!sameUpn(olds.upn ?? "", news.upn)) return { changes: true, replaces: ["upn"] };
  const settings = olds.manage !== news.manage || olds.onRemove !== news.onRemove;
  return { changes: planUserChanges(news, snapshotOfOutputs(olds)).changed || settings, replaces: [] };
}
