/**
 * Benchmark: HTTP requests per reconciliation, and state bytes per resource (issue 6,
 * acceptance: "the number of HTTP requests each system needs to onboard one new user and to
 * refresh 1,000 unchanged users, and the state bytes per resource").
 *
 * Starts one sandbox, then runs each system's scenarios in order. Requests are counted by the
 * HTTP core's `requestCounter` (every request put on the wire, retries included; token requests
 * excluded). State bytes = what the engine stores for one resource: inputs and outputs, each
 * with the serialized provider shim (`resultIncludingProvider` in
 * https://github.com/pulumi/pulumi/blob/v3.259.0/sdk/nodejs/cmd/dynamic-provider/index.ts).
 *
 * To add a system: write a `<system>Scenarios(ctx)` function returning `Scenario[]` in
 * `bench/_requests-<system>.ts` and add it to SYSTEMS.
 *
 * Run: bash scripts/with-node bench/requests.ts [users=1000] [demo|lived-in]
 */
import process from "node:process";
import { requestCounter } from "../providers/core/http.ts";
import { configureRuntime, resetRuntime } from "../providers/core/runtime.ts";
import { startSandbox } from "../sandbox/index.ts";
import { sandboxConfig } from "../test/support/config.ts";
import { dataverseScenarios } from "./_requests-dataverse.ts";
import { entraScenarios } from "./_requests-entra.ts";
import { fnoScenarios } from "./_requests-fno.ts";
import type { BenchContext, Scenario } from "./_shared.ts";

// Each system's scenarios live in bench/_requests-<system>.ts.
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
