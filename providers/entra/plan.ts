/**
 * Pure planning for Entra users: given the declared user and what Entra has (or what we last
 * applied), decide the operations (property patch, sign-in, license changes, removal), the seats
 * the change takes, and what `diff` answers. No I/O; deterministic, sorted output.
 *
 * Rules (issue 11 item 1, https://learn.microsoft.com/graph/api/resources/licenseassignmentstate):
 * - UPNs, SKU part numbers and service plan names compare case-insensitively.
 * - We own the user's DIRECT assignments of the managed SKUs only (every SKU users.yaml names,
 *   plus its `managedLicenses`): declared ones are added, their disabled plans made exact
 *   (re-adding a SKU replaces its disabledPlans), undeclared managed ones removed. A direct
 *   license of any other SKU (Microsoft 365 E5 held by half the tenant) is never touched.
 * - Group-inherited licenses are never touched; they count as seats already held, unless the
 *   group assignment is in an error state (then the user does not hold it).
 * - `usageLocation` cannot be reset to null in Graph, so an empty declared value changes nothing.
 * - A user synced from on-premises AD: the properties AD masters (display name, sign-in) are
 *   never patched, only reported as drift; licenses still apply.
 * - A person is the Entra object id: a new UPN (a rename in Entra that users.yaml follows)
 *   updates, and our update never writes the UPN.
 * - Removal follows the kit's one rule (core/removal.ts): every held managed SKU is revoked;
 *   a created user is then disabled or deleted, an adopted one left as found.
 */

import { decideRemoval, provenanceOf } from "../core/removal.ts";
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
  /** Display name and usage location to patch. */
  properties: PropertyChanges;
  /** Sign-in to set (`accountEnabled`), when it differs and is ours to change. */
  signIn?: boolean;
  licenses: LicenseChanges;
  /** Properties mastered on premises that differ from users.yaml and are left as they are. */
  drift: string[];
  /** Whether anything is to be written. */
  changed: boolean;
  /** Human-readable lines, sorted as applied, for previews and reports. */
  summary: string[];
}

const lower = (s: string) => s.toLowerCase();
const bySku = (a: { sku: string }, b: { sku: string }) =>
  lower(a.sku) < lower(b.sku) ? -1 : lower(a.sku) > lower(b.sku) ? 1 : 0;
const byText = (a: string, b: string) => (lower(a) < lower(b) ? -1 : lower(a) > lower(b) ? 1 : 0);
const lowerSet = (values: readonly string[]) => new Set(values.map(lower));

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
      disabledPlans: [...new Map(l.disabledPlans.map((p) => [lower(p), p])).values()].sort(byText),
    }))
    .sort(bySku);
}

/**
 * The SKUs a declared user's resource owns: the managed ones and the declared ones, unique
 * (first spelling kept) and sorted.
 */
export function managedSkus(desired: Pick<DesiredEntraUser, "licenses" | "managedLicenses">): string[] {
  const skus = new Map<string, string>();
  for (const sku of [...desired.licenses.map((l) => l.sku), ...(desired.managedLicenses ?? [])])
    if (!skus.has(lower(sku))) skus.set(lower(sku), sku);
  return [...skus.values()].sort(byText);
}

/**
 * The license changes that make the user's direct assignments of the managed SKUs exactly
 * `desired`. `direct` are the user's current direct licenses (every SKU; inherited ones are not
 * passed here); `managed` defaults to the declared SKUs.
 */
export function planLicenseChanges(
  desired: LicenseAssignment[],
  direct: LicenseAssignment[],
  managed: readonly string[] = desired.map((l) => l.sku),
): LicenseChanges {
  const current = new Map(direct.map((l) => [lower(l.sku), l]));
  const wanted = new Map(desired.map((l) => [lower(l.sku), l]));
  const owned = lowerSet([...managed, ...desired.map((l) => l.sku)]);
  const add = normalizeLicenses(
    desired.filter((l) => {
      const have = current.get(lower(l.sku));
      return !have || !samePlans(have.disabledPlans, l.disabledPlans);
    }),
  );
  const remove = direct
    .filter((l) => owned.has(lower(l.sku)) && !wanted.has(lower(l.sku)))
    .map((l) => l.sku)
    .sort(byText);
  return { add, remove };
}

/** The direct licenses after `changes` (what Entra holds once they succeeded). */
export function applyLicenseChanges(
  direct: LicenseAssignment[],
  changes: LicenseChanges,
): LicenseAssignment[] {
  const gone = lowerSet([...changes.remove, ...changes.add.map((l) => l.sku)]);
  return normalizeLicenses([...direct.filter((l) => !gone.has(lower(l.sku))), ...changes.add]);
}

/** The full plan for one user. */
export function planUserChanges(desired: DesiredEntraUser, actual: UserSnapshot): UserChanges {
  const properties: PropertyChanges = {};
  const summary: string[] = [];
  const drift: string[] = [];
  const mastered = actual.onPremisesSync === true;
  if (desired.displayName !== actual.displayName) {
    if (mastered) drift.push(`displayName is "${actual.displayName}" (users.yaml: "${desired.displayName}")`);
    else {
      properties.displayName = desired.displayName;
      summary.push(`displayName: "${actual.displayName}" → "${desired.displayName}"`);
    }
  }
  if (desired.usageLocation && lower(desired.usageLocation) !== lower(actual.usageLocation ?? "")) {
    properties.usageLocation = desired.usageLocation.toUpperCase();
    summary.push(`usageLocation: ${actual.usageLocation ?? "(none)"} → ${properties.usageLocation}`);
  }
  let signIn: boolean | undefined;
  if (desired.enabled !== actual.enabled) {
    if (mastered)
      drift.push(
        `sign-in is ${actual.enabled ? "enabled" : "disabled"} (users.yaml: enabled: ${desired.enabled})`,
      );
    else {
      signIn = desired.enabled;
      summary.push(desired.enabled ? "enable sign-in" : "disable sign-in");
    }
  }
  const licenses = planLicenseChanges(desired.licenses, actual.directLicenses, managedSkus(desired));
  for (const l of licenses.add) {
    const had = actual.directLicenses.some((d) => lower(d.sku) === lower(l.sku));
    const plans = l.disabledPlans.length ? ` (disabled plans: ${l.disabledPlans.join(", ")})` : "";
    summary.push(`${had ? "change license" : "add license"} ${l.sku}${plans}`);
  }
  for (const sku of licenses.remove) summary.push(`remove license ${sku}`);
  const changed =
    Object.keys(properties).length > 0 ||
    signIn !== undefined ||
    licenses.add.length > 0 ||
    licenses.remove.length > 0;
  return { properties, ...(signIn === undefined ? {} : { signIn }), licenses, drift, changed, summary };
}

/**
 * The drift of a synced user, as one line: the properties on-premises AD masters that differ
 * from users.yaml, which d365-access leaves as they are. Undefined when there is none.
 */
export function driftLine(upn: string, changes: Pick<UserChanges, "drift">): string | undefined {
  if (changes.drift.length === 0) return undefined;
  return `Entra user ${upn} is synced from on-premises Active Directory, which masters these properties; they are left as they are: ${changes.drift.join("; ")} (change them in AD, or write them in users.yaml as AD has them)`;
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

/** One remote change, named like the client call that performs it. */
export type EntraOperation =
  | { kind: "updateUser"; changes: PropertyChanges }
  | { kind: "setSignIn"; enabled: boolean }
  | { kind: "assignLicenses"; add: LicenseAssignment[]; remove: string[] }
  | { kind: "deleteUser" };

/** An operation in words, for errors and reports. */
export function describeOperation(op: EntraOperation): string {
  switch (op.kind) {
    case "updateUser":
      return `update ${Object.keys(op.changes).sort().join(", ")}`;
    case "setSignIn":
      return op.enabled ? "enable sign-in" : "disable sign-in";
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
   * Properties first (Graph refuses a license to a user without a usage location, and a patch
   * sets it), then licenses; sign-in is turned off before the licenses change and on after
   * them, so no moment holds more access than before or after. A user created a moment ago
   * already has its properties and sign-in.
   */
  operations: EntraOperation[];
  /** Seats the change takes per part number: checked and reserved before any write. */
  seats: Record<string, number>;
  /** The direct licenses once the operations succeeded (every SKU). */
  licensesAfter: LicenseAssignment[];
  /** Mastered on-premises properties left as they are (synced users). */
  drift: string[];
  /** Human-readable lines, in the order applied. */
  summary: string[];
}

/**
 * Plans one declared user against what Entra has. `created`: the user was created a moment ago
 * with the declared properties.
 */
export function planUser(
  desired: DesiredEntraUser,
  actual: UserSnapshot,
  context: { created?: boolean } = {},
): EntraUserPlan {
  const changes = planUserChanges(desired, actual);
  const operations: EntraOperation[] = [];
  if (!context.created && Object.keys(changes.properties).length > 0)
    operations.push({ kind: "updateUser", changes: changes.properties });
  const signIn = context.created ? undefined : changes.signIn;
  if (signIn === false) operations.push({ kind: "setSignIn", enabled: false });
  if (changes.licenses.add.length > 0 || changes.licenses.remove.length > 0)
    operations.push({ kind: "assignLicenses", add: changes.licenses.add, remove: changes.licenses.remove });
  if (signIn === true) operations.push({ kind: "setSignIn", enabled: true });
  return {
    operations,
    seats: seatDemand(changes.licenses, actual),
    licensesAfter: applyLicenseChanges(actual.directLicenses, changes.licenses),
    drift: changes.drift,
    summary: changes.summary,
  };
}

/**
 * Plans the removal of a user from our management, by the kit's one rule (core/removal.ts):
 * revoke every direct license of a SKU the resource managed when last applied, whoever
 * assigned it; then a user we created is disabled, or disabled and deleted with `onRemove:
 * delete`; an adopted user is otherwise left as found (its account serves Microsoft 365 too). A
 * synced user's sign-in is AD's: it is never disabled from here.
 */
export function planRemoval(
  actual: UserSnapshot,
  outputs: Pick<EntraUserOutputs, "managedLicenses" | "adopted" | "onRemove">,
): EntraOperation[] {
  const managed = lowerSet(outputs.managedLicenses ?? []);
  const removal = decideRemoval({
    held: actual.directLicenses.map((l) => l.sku),
    owns: (sku) => managed.has(lower(sku)),
    provenance: provenanceOf(outputs.adopted),
    onRemove: outputs.onRemove ?? "disable",
    enabled: actual.enabled && actual.onPremisesSync !== true,
    accounts: "keep-adopted",
  });
  const operations: EntraOperation[] = [];
  if (removal.revoke.length > 0)
    operations.push({ kind: "assignLicenses", add: [], remove: [...removal.revoke].sort(byText) });
  if (removal.disable) operations.push({ kind: "setSignIn", enabled: false });
  if (removal.delete) operations.push({ kind: "deleteUser" });
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
    ...(o.onPremisesSync ? { onPremisesSync: true } : {}),
  };
}

/** The held SKUs a managed set owns (what removal would revoke), lower case, sorted. */
function ownedOf(held: readonly LicenseAssignment[], managed: readonly string[]): string {
  const set = lowerSet(managed);
  return held
    .map((l) => lower(l.sku))
    .filter((sku) => set.has(sku))
    .sort()
    .join(",");
}

/**
 * The answer of `diff`: another object id under the same resource is another person (replace);
 * a new UPN (a rename), a property, license or removal-setting change updates, and so does a
 * change of the managed SKUs that changes what the resource owns of what the user holds (what
 * its removal would revoke), even when no license moves.
 */
export function diff(
  olds: EntraUserOutputs,
  news: EntraUserInputs,
): { changes: boolean; replaces: string[] } {
  if (news.objectId && olds.objectId && lower(news.objectId) !== lower(olds.objectId))
    return { changes: true, replaces: ["objectId"] };
  const renamed = !sameUpn(olds.upn ?? "", news.upn);
  const settings = olds.manage !== news.manage || olds.onRemove !== news.onRemove;
  const held = olds.licenses ?? [];
  const owned = ownedOf(held, olds.managedLicenses ?? []) !== ownedOf(held, managedSkus(news));
  const changes = planUserChanges(news, snapshotOfOutputs(olds)).changed || renamed || settings || owned;
  return { changes, replaces: [] };
}
