/**
 * Entra's scenarios of bench/requests.ts: onboarding one new user, and refreshing N unchanged
 * users of a lived-in tenant (Microsoft 365 SKUs held directly, group licences, one in error,
 * synced users, guests, an admin), the way `refresh` reads them: one bulk read per run shared by
 * every resource, singles only for users the bulk read does not know.
 */
import { requestCounter } from "../providers/core/http.ts";
import { configureRuntime, resetRuntime } from "../providers/core/runtime.ts";
import { type EntraUserInputs, type EntraUserOutputs, provider as entra } from "../providers/entra/index.ts";
import { startSandbox } from "../sandbox/index.ts";
import { sandboxConfig } from "../test/support/config.ts";
import { type BenchContext, pool, type Scenario, stateBytes } from "./_shared.ts";

const BASE: Omit<EntraUserInputs, "upn" | "displayName"> = {
  usageLocation: "US",
  enabled: true,
  manage: "adopt",
  onRemove: "disable",
  licenses: [],
  managedLicenses: [],
};

export function entraScenarios(ctx: BenchContext): Scenario[] {
  const domain = ctx.sandbox.state.entra.verifiedDomains[0] ?? "contoso.example";
  return [
    {
      system: "entra",
      name: "onboard one new user (create + 1 license)",
      async run() {
        ctx.newRun();
        const inputs: EntraUserInputs = {
          ...BASE,
          upn: `bench.new@${domain}`,
          displayName: "Bench New",
          manage: "create",
          licenses: [{ sku: "DYN365_FINANCE", disabledPlans: [] }],
        };
        const res = await entra.create({ ...inputs, __provider: "x" } as EntraUserInputs);
        const outs = {
          ...(res.outs as EntraUserOutputs),
          initialPassword: "[secret ciphertext]".padEnd(180, "."),
        };
        return {
          requests: requestCounter.total,
          detail: requestCounter.snapshot().byOperation,
          stateBytes: stateBytes("entra/resources", inputs, outs),
        };
      },
    },
    {
      system: "entra",
      name: `refresh ${ctx.users} unchanged users of a lived-in tenant`,
      async run() {
        // A sandbox of its own, seeded with a lived-in tenant of that many more people.
        const livedIn = await startSandbox({
          log: () => undefined,
          seed: { name: "lived-in", generatedUsers: ctx.users },
        });
        try {
          const states: EntraUserOutputs[] = livedIn.state.entra.users.slice(0, ctx.users).map((u) => ({
            ...BASE,
            upn: u.userPrincipalName,
            displayName: u.displayName,
            objectId: u.id,
            adopted: true,
          }));
          resetRuntime();
          configureRuntime(sandboxConfig(livedIn.stateDir), {}, {});
          requestCounter.reset();
          const reads = await pool(
            16,
            states.map((s) => () => entra.read(s.objectId, s)),
          );
          const missing = reads.filter((r) => !r.id).length;
          if (missing > 0) throw new Error(`refresh lost ${missing} users; expected none`);
          return {
            requests: requestCounter.total,
            detail: requestCounter.snapshot().byOperation,
            stateBytes: stateBytes("entra/resources", BASE, reads[0]?.props ?? {}),
          };
        } finally {
          ctx.newRun();
          await livedIn.close();
        }
      },
    },
  ];
}
