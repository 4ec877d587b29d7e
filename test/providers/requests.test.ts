/**
 * Request budgets (issue 15): the HTTP requests each system needs to onboard one new user and
 * to refresh unchanged users of a lived-in tenant, counted by the HTTP core on the wire
 * (retries included, token requests not), against the sandbox. The scenarios are the bench's
 * (bench/_requests-*.ts), run here on a small tenant so a change that adds a request per user or
 * per role fails `npm test`, not only a benchmark nobody runs.
 *
 * Budgets are today's figures: lower them when a request goes away, never raise them silently.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { dataverseScenarios } from "../../bench/_requests-dataverse.ts";
import { entraScenarios } from "../../bench/_requests-entra.ts";
import { fnoScenarios } from "../../bench/_requests-fno.ts";
import type { BenchContext, Scenario } from "../../bench/_shared.ts";
import { requestCounter } from "../../providers/core/http.ts";
import { configureRuntime, resetRuntime } from "../../providers/core/runtime.ts";
import { type RunningSandbox, startSandbox } from "../../sandbox/index.ts";
import { sandboxConfig } from "../support/config.ts";

/** Unchanged users each refresh scenario reads (besides the lived-in tenant's own people). */
const USERS = 200;

let sandbox: RunningSandbox;
let scenarios: Scenario[];
const measured = new Map<string, { requests: number; detail?: Record<string, number> }>();

before(async () => {
  sandbox = await startSandbox({
    log: () => undefined,
    seed: { name: "lived-in", generatedUsers: USERS },
    faults: { fidelity: { expandNextLinks: true } },
  });
  const config = sandboxConfig(sandbox.stateDir);
  const ctx: BenchContext = {
    sandbox,
    users: USERS,
    newRun() {
      resetRuntime();
      configureRuntime(config, {}, {});
      requestCounter.reset();
    },
  };
  scenarios = [...entraScenarios(ctx), ...dataverseScenarios(ctx), ...fnoScenarios(ctx)];
});

after(async () => {
  resetRuntime();
  await sandbox?.close();
});

/** Runs the scenario of `system` whose name starts with `prefix` (once) and returns its count. */
async function requests(system: string, prefix: string): Promise<number> {
  const scenario = scenarios.find((s) => s.system === system && s.name.startsWith(prefix));
  assert.ok(scenario, `no ${system} scenario "${prefix}…"`);
  const key = `${system} ${scenario.name}`;
  let result = measured.get(key);
  if (!result) {
    result = await scenario.run();
    measured.set(key, result);
  }
  return result.requests;
}

test("onboarding one new user: Entra 4, Dataverse 11 (just in time), F&O 11 requests", async () => {
  // Entra: subscribedSkus (per run), the UPN look-up, create, assignLicense.
  assert.ok((await requests("entra", "onboard")) <= 4, JSON.stringify([...measured]));
  // Dataverse: catalog (2), caller (2) and team roles (1) per run; the look-up, the just-in-time
  // association, the read of the new row, two revocations of the roles F&O's auto-provisioning
  // added, the second grant.
  assert.ok(
    (await requests("dataverse", "onboard one new user, 2 roles")) <= 11,
    JSON.stringify([...measured]),
  );
  // F&O: roles, users and the app's user per run; the look-up, create, two grants, one
  // restriction, enable, and the read-backs: one for the restriction (before the enable), one
  // for the role rows.
  assert.ok((await requests("fno", "onboard")) <= 11, JSON.stringify([...measured]));
});

test("onboarding without a role (addUser, sync lag): no second read of a user just found missing", async () => {
  // The look-up, the sync request, the polls while the sync lags 5 s, two revocations, the
  // per-run reads: 12 (13 while the first poll re-read the user the look-up had just missed).
  assert.ok(
    (await requests("dataverse", "onboard one new user, no role")) <= 12,
    JSON.stringify([...measured]),
  );
});

test(`refreshing ${USERS} unchanged users costs at most 0.05 requests per user and system`, async () => {
  const budget = Math.floor(USERS * 0.05);
  const entra = await requests("entra", "refresh");
  const dataverse = await requests("dataverse", "refresh");
  const fno = await requests("fno", "refresh");
  const all = JSON.stringify([...measured]);
  for (const n of [entra, dataverse, fno]) assert.ok(n <= budget, all);
  // And their shape: bulk reads only (Entra users + SKUs, paged; Dataverse one page of users;
  // F&O roles, users, role rows, legal-entity rows), whatever the number of users.
  assert.ok(entra <= 4, all);
  assert.equal(dataverse, 1, all);
  assert.equal(fno, 4, all);
});
