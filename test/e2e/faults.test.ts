/**
 * Faults (issue 16 item 4) at a small size: with every service, the token endpoint included,
 * answering 20 % of requests 429 (with Retry-After), 5 % 503 and adding 50 ms of latency, one
 * `up` of 10 users converges to exactly users.yaml (read through the APIs after the faults are
 * turned off) and a second preview shows no change. bench/faults.ts runs 200 users and prints
 * the ratio to the fault-free time and the retries per system.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { crashProject } from "./crash.ts";
import { assertSandboxMatches } from "./expect.ts";
import type { E2EProject } from "./harness.ts";

let project: E2EProject;

before(async () => {
  ({ project } = await crashProject(10));
});
after(async () => {
  await project?.close();
});

test("an up under 429, 503 and latency on every service converges in one run", async () => {
  const sandbox = project.sandbox.sandbox;
  sandbox.setFaults({ latencyMs: 50, rate429: 0.2, rate503: 0.05, retryAfterSeconds: 1 });
  const since = new Date().toISOString();
  const up = await project.cli(["up", "--yes"]);
  sandbox.setFaults({ latencyMs: 0, rate429: 0, rate503: 0 });
  assert.equal(up.code, 0, up.output);
  const refused = sandbox.journal.entries({ since }).filter((e) => e.status === 429 || e.status === 503);
  const byService = new Set(refused.map((e) => e.service));
  for (const service of ["login", "graph", "dataverse", "fno"])
    assert.ok(
      byService.has(service as never),
      `no fault was injected on ${service}: the test would prove nothing`,
    );
  await assertSandboxMatches(project);
  const again = await project.cli(["preview", "--expect-no-changes"]);
  assert.equal(again.code, 0, again.output);
});
