/**
 * Service protection limits (issue 15 item 3): with the sandbox counting Dataverse's per-caller
 * limits (lowered through the admin API so a small first `up` reaches them), onboarding many
 * users at the engine's parallelism draws no 429 it caused itself: requests are paced under the
 * request limit and never exceed the concurrency limit. The same run without pacing does draw
 * them, so the test would see a regression. Asserted through the sandbox's request journal.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { pool } from "../../bench/_shared.ts";
import { PACING_HEADROOM } from "../../providers/core/pacing.ts";
import { configureRuntime, resetRuntime } from "../../providers/core/runtime.ts";
import { type DataverseUserInputs, provider } from "../../providers/dataverse/index.ts";
import { startTestSandbox, type TestSandbox } from "../sandbox/helpers.ts";
import { sandboxConfig } from "../support/config.ts";

const ENV = "contoso-demo";
/** The lowered limits: requests per window, window, concurrent requests. */
const LIMITS = { requestsPerWindow: 60, windowSeconds: 4, concurrentRequests: 4 };
const USERS = 24;

let sb: TestSandbox;
let serial = 0;

before(async () => {
  sb = await startTestSandbox({ seed: "lived-in", faults: { syncDelaySeconds: 3600 } });
});
after(async () => {
  resetRuntime();
  await sb?.close();
});

/** `count` new Entra users holding a Finance license, not yet in Dataverse. */
function newEntraUsers(count: number): { id: string; upn: string }[] {
  const state = sb.sandbox.state;
  const finance = state.entra.skus.find((s) => s.skuPartNumber === "DYN365_FINANCE");
  const template = state.entra.users[0];
  assert.ok(finance && template);
  finance.prepaidUnits.enabled += count;
  const domain = state.entra.verifiedDomains[0] ?? "contoso.example";
  const made = Array.from({ length: count }, () => {
    const n = serial++;
    const id = `cccccccc-0000-4000-8000-${String(n).padStart(12, "0")}`;
    const upn = `limits.user${n}@${domain}`;
    state.entra.users.push({
      ...template,
      id,
      userPrincipalName: upn,
      displayName: `Limits User ${n}`,
      mail: upn,
      mailNickname: `limits.user${n}`,
      accountEnabled: true,
      assignedLicenses: [{ skuId: finance.skuId, disabledPlans: [] }],
      memberOf: [],
    });
    return { id, upn };
  });
  sb.sandbox.store.changed();
  return made;
}

/** Onboards `USERS` new users with two roles each, 16 at once (the engine's parallelism). */
async function onboard(paced: boolean): Promise<{ status: number; path: string }[]> {
  // New limits start the sandbox's counting afresh.
  const res = await sb.call(`${sb.endpoints.adminUrl}/faults`, {
    method: "PATCH",
    body: { dataverseLimits: LIMITS },
  });
  assert.equal(res.status, 200, res.text);
  await sb.call(`${sb.endpoints.adminUrl}/journal`, { method: "DELETE" });
  resetRuntime();
  configureRuntime(
    sandboxConfig(sb.sandbox.stateDir),
    {
      credential: sb.credential("demo"),
      client: {
        httpClient: sb.httpClient,
        // What the stack would configure for such an environment (its documented limits).
        maxConcurrency: LIMITS.concurrentRequests,
        ...(paced
          ? { rateLimit: { requests: LIMITS.requestsPerWindow, windowSeconds: LIMITS.windowSeconds } }
          : {}),
      },
    },
    {},
  );
  const users = newEntraUsers(USERS);
  await pool(
    16,
    users.map((u) => async () => {
      const inputs = {
        upn: u.upn,
        objectId: u.id,
        environment: ENV,
        roles: ["Basic User", "Contoso Finance Reader"],
        __provider: "x",
      } as DataverseUserInputs;
      await provider.create(inputs);
    }),
  );
  const journal = await sb.call(`${sb.endpoints.adminUrl}/journal?service=dataverse`);
  return (journal.body as { value: { status: number; path: string }[] }).value;
}

test("a first up far beyond the request limit draws no 429 it caused itself, and waits instead", async () => {
  const started = Date.now();
  const calls = await onboard(true);
  const seconds = (Date.now() - started) / 1000;
  const throttled = calls.filter((c) => c.status === 429);
  assert.deepEqual(throttled, [], "Dataverse answered 429");
  // More requests than one window allows: the run really was paced, not merely small.
  const perWindow = Math.floor(LIMITS.requestsPerWindow * PACING_HEADROOM);
  assert.ok(calls.length > perWindow * 2, `only ${calls.length} requests`);
  const windows = Math.ceil(calls.length / perWindow) - 1;
  assert.ok(seconds >= windows * LIMITS.windowSeconds * 0.9, `${calls.length} requests in ${seconds} s`);
});

test("without pacing the same onboarding draws 429s (what the test above would catch)", async () => {
  const calls = await onboard(false);
  assert.ok(
    calls.some((c) => c.status === 429),
    `no 429 in ${calls.length} unpaced requests: the lowered limits are not reached`,
  );
});
