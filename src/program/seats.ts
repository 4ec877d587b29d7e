/**
 * The program-wide license seat check (issue 7 item 1): before any resource is declared, and
 * so before any write, the seats the whole change needs are compared with the seats free per
 * SKU. The entra:User provider checks again per user at apply time; this check sees the sum,
 * so a change that would run out halfway never starts.
 *
 * Seats that the change would free (users removed from users.yaml, licenses dropped) are not
 * counted: the engine may grant before it revokes, so only seats free now are safe to plan on.
 */
import * as pulumi from "@pulumi/pulumi";
import { configureRuntime } from "../../providers/core/runtime.ts";
import { createEntraClient } from "../../providers/entra/client.ts";
import { toSku, toUserSnapshot } from "../../providers/entra/dto.ts";
import { checkSeats, planLicenseChanges, seatDemand } from "../../providers/entra/plan.ts";
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

/** Reads the tenant's SKUs and users (bulk, paged) and stops the program if seats are short. */
export async function checkSeatsForChange(state: DesiredState, config: pulumi.Config): Promise<void> {
  if (!state.users.some((u) => u.licenses.length > 0)) return;
  const rt = configureRuntime({ get: (key) => config.get(key.replace(/^d365-access:/, "")) });
  const entra = createEntraClient(rt.client("entra"));
  const [skuDtos, users] = await Promise.all([entra.listSubscribedSkus(), entra.listUsers()]);
  const skus = skuDtos.map(toSku);
  const current = new Map(users.map((u) => [u.userPrincipalName.toLowerCase(), toUserSnapshot(u, skus)]));
  const shortages = checkSeats(demandOf(state, current), skus);
  if (shortages.length) {
    throw new pulumi.RunError(
      `license seats: the change needs more seats than are free; nothing was changed:\n  ${shortages.map((s) => s.message).join("\n  ")}`,
    );
  }
}
