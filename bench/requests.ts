/**
 * Benchmark: HTTP requests per reconciliation, and state bytes per resource (issue 6,
 * acceptance: "the number of HTTP requests each system needs to onboard one new user and to
 * refresh 1,000 unchanged users, and the state bytes per resource").
 *
 * Starts one sandbox, then runs each system's scenarios in order. Requests are counted by the
 * HTTP core's `requestCounter` (every request put on the wire, retries included; token requests
 * excluded). State bytes = what the engine stores for one resource: inputs and outputs, each
 * with the serialized provider shim (reference/pulumi.md §1.2).
 *
 * To add a system (R2 Dataverse, R3 F&O): write a `<system>Scenarios(ctx)` function returning
 * `Scenario[]` below and add it to SYSTEMS.
 *
 * Run: bash scripts/with-node bench/requests.ts [users=1000] [demo|lived-in]
 */
import process from "node:process";
import { requestCounter } from "../providers/core/http.ts";
import { configureRuntime, resetRuntime } from "../providers/core/runtime.ts";
import { type EntraUserInputs, type EntraUserOutputs, provider as entra } from "../providers/entra/index.ts";
import { startSandbox } from "../sandbox/index.ts";
import { sandboxConfig } from "../test/support/config.ts";
import { dataverseScenarios } from "./_requests-dataverse.ts";
import { fnoScenarios } from "./_requests-fno.ts";
import { type BenchContext, pool, type Scenario, stateBytes } from "./_shared.ts";

// ------------------------------------------------------------------------------------ Entra --

function entraScenarios(ctx: BenchContext): Scenario[] {
  const domain = ctx.sandbox.state.entra.verifiedDomains[0] ?? "contoso.example";
  const base: Omit<EntraUserInputs, "upn" | "displayName"> = {
    usageLocation: "US",
    enabled: true,
    manage: "adopt",
    onRemove: "disable",
    licenses: [],
  };
  return [
    {
      system: "entra",
      name: "onboard one new user (create + 1 license)",
      async run() {
        ctx.newRun();
        const inputs: EntraUserInputs = {
          ...base,
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
      name: `refresh ${ctx.users} unchanged users`,
      async run() {
        // Seed the users straight into the sandbox (not measured), then read them as refresh does.
        const users = ctx.sandbox.state.entra.users;
        const states: EntraUserOutputs[] = [];
        for (let i = 0; i < ctx.users; i++) {
          const id = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
          const upn = `bench.user${i}@${domain}`;
          users.push({
            ...(users[0] as (typeof users)[number]),
            id,
            userPrincipalName: upn,
            displayName: `Bench User ${i}`,
            mail: upn,
            mailNickname: `bench.user${i}`,
            usageLocation: "US",
            accountEnabled: true,
            assignedLicenses: [],
            memberOf: [],
          });
          states.push({
            ...base,
            upn,
            displayName: `Bench User ${i}`,
            objectId: id,
            adopted: true,
            managedLicenses: [],
          });
        }
        ctx.sandbox.store.changed();
        ctx.newRun();
        const reads = await pool(
          16,
          states.map((s) => () => entra.read(s.objectId, s)),
        );
        const drift = reads.filter((r, i) => r.props?.displayName !== states[i]?.displayName).length;
        if (drift > 0) throw new Error(`refresh saw ${drift} changed users; expected none`);
        return {
          requests: requestCounter.total,
          detail: requestCounter.snapshot().byOperation,
          stateBytes: stateBytes("entra/resources", base, states[0] as object),
        };
      },
    },
  ];
}

// F&O's scenarios live in bench/_requests-fno.ts.
const SYSTEMS: ((ctx: BenchContext) => Scenario[])[] = [entraScenarios, dataverseScenarios, fnoScenarios];

async function main() {
  const users = Number(process.argv[2] ?? 1000);
  // `lived-in`: a tenant in daily use (that many generated people besides the scenarios' own),
  // with Dataverse's per-row expand links as the service sends them.
  const livedIn = process.argv[3] === "lived-in";
  const sandbox = await startSandbox({
    log: () => undefined,
    ...(livedIn
      ? {
          seed: { name: "lived-in" as const, generatedUsers: users },
          faults: { fidelity: { expandNextLinks: true } },
        }
      : {}),
  });
  const config = sandboxConfig(sandbox.stateDir);
  const ctx: BenchContext = {
    sandbox,
    users,
    newRun() {
      resetRuntime();
      configureRuntime(config, {}, {});
      requestCounter.reset();
    },
  };
  try {
    console.log(
      `HTTP requests per scenario (sandbox${livedIn ? `, lived-in tenant with ${users} generated people` : ""}, ${users} users for refresh)`,
    );
    for (const scenario of SYSTEMS.flatMap((s) => s(ctx))) {
      const started = performance.now();
      const r = await scenario.run();
      const ms = Math.round(performance.now() - started);
      const bytes = r.stateBytes === undefined ? "" : `, state ${r.stateBytes} B/resource`;
      console.log(
        `${scenario.system.padEnd(10)} ${scenario.name}: ${r.requests} requests${bytes} (${ms} ms) ${JSON.stringify(r.detail ?? {})}`,
      );
    }
  } finally {
    resetRuntime();
    await sandbox.close();
  }
}

await main();
