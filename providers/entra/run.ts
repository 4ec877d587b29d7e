/**
 * The run-wide state of `entra:User` in the provider process, through the runtime's caches:
 * the tenant's SKUs and users read once per run, and the seats this process reserved, so
 * concurrent creates cannot both take the last seat.
 */
import type { Runtime } from "../core/runtime.ts";
import { createEntraClient, type EntraClient } from "./client.ts";
import { toSku, type UserDto } from "./dto.ts";
import type { Sku } from "./model.ts";
import { checkSeats } from "./plan.ts";
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
