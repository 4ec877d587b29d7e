/**
 * The Entra registry entry (core/system.ts): the identity system. It declares one `entra:User`
 * per person, whose object id the other systems receive; its report column is the user's
 * direct licenses of the managed SKUs; its grants count as license changes for the guards, and removing its
 * resource removes the user.
 */
import type { System } from "../core/system.ts";
import { grantKeys } from "../core/system.ts";
import { createEntraClient } from "./client.ts";
import { toSku, toUserSnapshot } from "./dto.ts";
import type { EntraPerson, LicenseAssignment } from "./model.ts";
import { managedSkus } from "./plan.ts";
import { graph } from "./service.ts";

/** A license as the report and the guards write it. */
function licenseEntry(l: LicenseAssignment): string {
  return l.disabledPlans.length ? `${l.sku} (without ${l.disabledPlans.join(", ")})` : l.sku;
}

function licenseGrants(licenses: readonly { sku: string; disabledPlans?: string[] }[]): string[] {
  return grantKeys(licenses.map((l) => [l.sku, ...(l.disabledPlans ?? []).map((p) => `-${p}`)].join(" ")));
}

/** Entra ID: users and their direct licenses. */
export const entra: System<EntraPerson, unknown> = {
  name: "entra",
  label: "Entra ID",
  services: [graph],
  resourceType: "pulumi-nodejs:dynamic/entra:User",
  usersYaml: new URL("./users.schema.json", import.meta.url),
  scope: "tenant",
  inEnvironment: () => false,
  environments: () => [],

  declarer: async () => (await import("./resources.ts")).declare,
  describer: async () => (await import("./run.ts")).describeChanges,

  report: {
    title: () => "Entra licenses",
    cell: (user) => user.licenses.map(licenseEntry),
    // Direct licenses of the managed SKUs of every declared user (group-inherited ones and
    // other SKUs are not ours to declare).
    async live(rt, context) {
      const client = createEntraClient(rt.client(graph));
      const [skuDtos, users] = await Promise.all([client.listSubscribedSkus(), client.listUsers()]);
      const skus = skuDtos.map(toSku);
      const declared = new Map(context.users.map((u) => [u.upn.toLowerCase(), u]));
      const cells = new Map<string, string[]>();
      for (const dto of users) {
        const upn = dto.userPrincipalName.toLowerCase();
        const user = declared.get(upn);
        if (!user) continue;
        const snapshot = toUserSnapshot(dto, skus);
        const managed = new Set(managedSkus(user).map((s) => s.toLowerCase()));
        context.objectIds.set(snapshot.objectId.toLowerCase(), upn);
        cells.set(
          upn,
          snapshot.directLicenses.filter((l) => managed.has(l.sku.toLowerCase())).map(licenseEntry),
        );
      }
      return cells;
    },
  },

  export: {
    grants: "licenses",
    read: async (rt, context) => (await import("./run.ts")).exportAccess(rt, context),
  },

  guard: {
    counts: "licenses",
    removesUser: true,
    declared: (user) => ({
      grants: licenseGrants(user.licenses),
      settings: JSON.stringify({ enabled: user.enabled }),
    }),
    applied: (inputs) => ({
      grants: licenseGrants((inputs.licenses ?? []) as { sku: string; disabledPlans?: string[] }[]),
      settings: JSON.stringify({ enabled: inputs.enabled ?? true }),
    }),
  },
};
