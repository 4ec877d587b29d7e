/**
 * The run-wide state of `entra:User` in the provider process, through the runtime's caches:
 * the tenant's SKUs and users read once per run, and the seats this process reserved, so
 * concurrent creates cannot both take the last seat.
 */
import type { Change } from "../core/describe.ts";
import type { Runtime } from "../core/runtime.ts";
import type { DescribeRequest, ExportContext, ExportedPart, ExportedSystem } from "../core/system.ts";
import { createEntraClient, type EntraClient } from "./client.ts";
import { checkedInputs, describeRemoval, describeUser } from "./describe.ts";
import { toGroupLicenses, toSku, toUserSnapshot, type UserDto } from "./dto.ts";
import type { EntraPerson, EntraUserOutputs, LicenseAssignment, Sku } from "./model.ts";
import { checkSeats, diff, normalizeLicenses } from "./plan.ts";
import { graph } from "./service.ts";

const SKUS = "entra:skus";
export const USERS = "entra:users";
const RESERVED = "entra:seats-reserved";

export function client(rt: Runtime): EntraClient {
  return createEntraClient(rt.client(graph));
}

/** The tenant's SKUs, read once per run. */
export function skus(rt: Runtime): Promise<Sku[]> {
  return rt.cached(SKUS, async () => (await client(rt).listSubscribedSkus()).map(toSku));
}

/** Seats consumed or freed by this process since the SKUs were read (part number → delta). */
function reservations(rt: Runtime): Promise<Map<string, number>> {
  return rt.cached(RESERVED, async () => new Map<string, number>());
}

/** All users by lower-cased object id, read once per run (refresh: one request per 999 users). */
export function usersById(rt: Runtime): Promise<Map<string, UserDto>> {
  return rt.cached(
    USERS,
    async () => new Map((await client(rt).listUsers()).map((u) => [u.id.toLowerCase(), u])),
  );
}

/**
 * Checks seats for `demand` against the SKUs read this run minus what this process already
 * consumed, and reserves them synchronously (no await in between) so concurrent creates in the
 * same process cannot both take the last seat. Returns a release function for failures.
 */
export async function reserveSeats(rt: Runtime, demand: Record<string, number>): Promise<() => void> {
  const [tenantSkus, reserved] = await Promise.all([skus(rt), reservations(rt)]);
  const adjusted = tenantSkus.map((s) => ({
    partNumber: s.partNumber,
    enabled: s.enabled,
    consumed: s.consumed + (reserved.get(s.partNumber) ?? 0),
  }));
  const shortages = checkSeats(demand, adjusted);
  if (shortages.length > 0) throw new Error(shortages.map((s) => s.message).join("; "));
  const taken = Object.entries(demand).map(
    ([sku, n]) =>
      [
        tenantSkus.find((s) => s.partNumber.toLowerCase() === sku.toLowerCase())?.partNumber ?? sku,
        n,
      ] as const,
  );
  for (const [sku, n] of taken) reserved.set(sku, (reserved.get(sku) ?? 0) + n);
  return () => {
    for (const [sku, n] of taken) reserved.set(sku, (reserved.get(sku) ?? 0) - n);
  };
}

export async function freeSeats(rt: Runtime, partNumbers: string[]): Promise<void> {
  const reserved = await reservations(rt);
  for (const p of partNumbers) reserved.set(p, (reserved.get(p) ?? 0) - 1);
}

/**
 * What `up` will do to each Entra user of the request (core/system.ts `Describer`): one bulk
 * read of the users (shared with the run), then the pure descriptions of describe.ts. A declared
 * user with a last deployment changes when the engine will update it: after a refresh, whenever
 * the plan against the live user changes something; without, when users.yaml changed it.
 */
export async function describeChanges(
  rt: Runtime,
  request: DescribeRequest<EntraPerson>,
): Promise<Map<string, Change>> {
  const [users, tenantSkus] = await Promise.all([usersById(rt), skus(rt)]);
  const snapshot = (objectId: unknown) => {
    const dto = typeof objectId === "string" ? users.get(objectId.toLowerCase()) : undefined;
    return dto ? toUserSnapshot(dto, tenantSkus) : undefined;
  };
  const out = new Map<string, Change>();
  for (const item of request.declared) {
    const inputs = checkedInputs(item.user, item.objectId);
    const actual = snapshot(item.objectId);
    if (!item.last) {
      out.set(item.name, describeUser(inputs, actual, "adopts"));
      continue;
    }
    if (!actual) continue; // gone: the provider says so, with what to do
    const change = describeUser(inputs, actual, "updates");
    const declared = diff(item.last as unknown as EntraUserOutputs, inputs).changes;
    if (declared || (request.refresh && change.changes.length > 0)) out.set(item.name, change);
  }
  for (const item of request.removed) {
    const outputs = item.outputs as unknown as EntraUserOutputs;
    out.set(item.name, describeRemoval(outputs, snapshot(outputs.objectId)));
  }
  return out;
}

/** A license as users.yaml writes it: the part number, or a mapping with its disabled plans. */
function licenseItem(l: LicenseAssignment): unknown {
  return l.disabledPlans.length ? { sku: l.sku, disabledPlans: l.disabledPlans } : l.sku;
}

/**
 * `export`: every user of the tenant with its direct licenses of the managed SKUs (two bulk
 * reads: the SKUs, and the users 999 per page). Group-based licenses are notes, never
 * declarations; so are other SKUs. Fills the context's object ids for the other systems.
 */
export async function exportAccess(rt: Runtime, context: ExportContext): Promise<ExportedSystem> {
  const entra = client(rt);
  const [tenantSkus, users] = await Promise.all([skus(rt), entra.listUsers(["department"])]);
  const parts = new Map<string, ExportedPart>();
  const heldDirectly = new Set<string>();
  for (const dto of users) {
    const user = toUserSnapshot(dto, tenantSkus);
    const objectId = user.objectId.toLowerCase();
    context.objectIds.set(objectId, user.upn);
    context.upns.set(user.upn.toLowerCase(), objectId);
    const direct = normalizeLicenses(user.directLicenses.filter((l) => context.managedSku(l.sku)));
    for (const l of direct) heldDirectly.add(l.sku.toLowerCase());
    const groups = toGroupLicenses(dto, tenantSkus).filter((g) => context.managedSku(g.sku));
    const notes = groups.map((g) =>
      g.error
        ? `${g.sku} through a group is in error (${g.error}): not held`
        : `${g.sku} through a group: not declared (the group's)`,
    );
    if (user.onPremisesSync) notes.push("synced from on-premises AD: its name and sign-in are AD's");
    parts.set(objectId, {
      fields: {
        upn: user.upn,
        displayName: user.displayName,
        ...(user.usageLocation ? { usageLocation: user.usageLocation.toUpperCase() } : {}),
        ...(user.enabled ? {} : { enabled: false }),
      },
      grants: direct.map(licenseItem),
      // "DYN365_ENTERPRISE_TEAM_MEMBERS" reads "TEAM_MEMBERS" in a persona's name.
      labels: direct.map((l) => l.sku.replace(/^dyn(?:amics_)?365_(?:enterprise_)?/i, "")),
      shared: { displayName: user.displayName, enabled: user.enabled },
      notes,
      declare: true,
      footprint: direct.length > 0 || groups.length > 0,
      attributes: dto.department ? { department: dto.department } : {},
    });
  }
  // The managed SKUs nobody holds directly stay managed (users.yaml `managedLicenses`).
  const unheld = tenantSkus
    .map((s) => s.partNumber)
    .filter((p) => context.managedSku(p) && !heldDirectly.has(p.toLowerCase()))
    .sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  return { parts, skipped: [], ...(unheld.length ? { topLevel: { managedLicenses: unheld } } : {}) };
}
