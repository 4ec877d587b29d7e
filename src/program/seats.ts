/**
 * The program-wide license seat check (issue 7 item 1): before any resource is declared, and
 * so before any write, the seats the whole change needs are compared with the seats free per
 * SKU. The entra:User provider checks again per user at apply time; this check sees the sum,
 * so a change that would run out halfway never starts.
 *
 * Seats that the change would free (users removed from users.yaml, licenses dropped) are not
 * counted: the engine may grant before it revokes, so only seats free now are safe to plan on.
 */
import type { Runtime } from "../../providers/core/runtime.ts";
import {
  checkSeats,
  createEntraClient,
  graphService,
  planLicenseChanges,
  type Sku,
  seatDemand,
  toSku,
  toUserSnapshot,
  type UserSnapshot,
} from "../../providers/entra/index.ts";
import type { DesiredState } from "../model/index.ts";

/** Seats needed per SKU part number by the whole change (pure; exported for tests). */
export function demandOf(
  state: DesiredState,
  current: Map<
    string,
    { directLicenses: { sku: string; disabledPlans: string[] }[]; inheritedSkus: string[] }
  >,
): Record<string, number> {
  const demand: Record<string, number> = {};
  for (const user of state.users) {
    const snapshot = current.get(user.upn.toLowerCase()) ?? { directLicenses: [], inheritedSkus: [] };
    const changes = planLicenseChanges(user.licenses, snapshot.directLicenses);
    for (const [sku, n] of Object.entries(seatDemand(changes, snapshot)))
      demand[sku] = (demand[sku] ?? 0) + n;
  }
  return demand;
}

/** What the program reads from Entra before declaring anything. */
export interface TenantSnapshot {
  skus: Sku[];
  /** Existing users by lower-cased UPN. */
  users: Map<string, UserSnapshot & { objectId: string; createdDateTime?: string }>;
}

/**
 * Reads the tenant's SKUs and users (bulk, one request per page); each read that fails is a
 * failure of its own, so a run missing two permissions names both.
 */
export async function readTenant(rt: Runtime): Promise<{ tenant?: TenantSnapshot; failures: unknown[] }> {
  const entra = createEntraClient(rt.client(graphService));
  const [skuRead, userRead] = await Promise.allSettled([entra.listSubscribedSkus(), entra.listUsers()]);
  const failures = [skuRead, userRead].flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
  if (skuRead.status === "rejected" || userRead.status === "rejected") return { failures };
  const skus = skuRead.value.map(toSku);
  return {
    tenant: {
      skus,
      users: new Map(
        userRead.value.map((u) => [
          u.userPrincipalName.toLowerCase(),
          {
            ...toUserSnapshot(u, skus),
            ...(u.createdDateTime ? { createdDateTime: u.createdDateTime } : {}),
          },
        ]),
      ),
    },
    failures,
  };
}

/** Why the whole change cannot have its seats, one line per SKU short; empty when it can. */
export function seatShortages(state: DesiredState, tenant: TenantSnapshot): string[] {
  return checkSeats(demandOf(state, tenant.users), tenant.skus).map(
    (s) => `license seats: the change needs more seats than are free: ${s.message}`,
  );
}
