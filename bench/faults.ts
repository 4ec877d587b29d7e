/**
 * Faults at scale (issue 16 item 4): `up` of N users (default 200) created with a license and
 * roles in Dataverse and F&O, once without faults and once with every service (the token
 * endpoint included) answering 20 % 429 with Retry-After (2 s, the sandbox default), 5 % 503 and
 * 50 ms latency. Prints both times, their ratio (target ≤ 4×), the injected refusals per system
 * and whether the faulty run converged to exactly users.yaml in one run.
 *
 * Run: bash scripts/with-node bench/faults.ts [users=200]
 */
import process from "node:process";

// Runs of hundreds of users under faults outlast the test harness's 4-minute CLI limit.
process.env.D365_ACCESS_E2E_CLI_TIMEOUT_MS ??= String(30 * 60_000);

import { crashProject } from "../test/e2e/crash.ts";
import { assertSandboxMatches } from "../test/e2e/expect.ts";

const USERS = Number(process.argv[2] ?? 200);

async function timedUp(faulty: boolean): Promise<{ ms: number; refused: Record<string, number> }> {
  const { project } = await crashProject(USERS);
  try {
    const sandbox = project.sandbox.sandbox;
    if (faulty) sandbox.setFaults({ latencyMs: 50, rate429: 0.2, rate503: 0.05 });
    const since = new Date().toISOString();
    const t0 = performance.now();
    const up = await project.cli(["up", "--yes"]);
    const ms = performance.now() - t0;
    sandbox.setFaults({ latencyMs: 0, rate429: 0, rate503: 0 });
    if (up.code !== 0)
      throw new Error(
        `up failed (${faulty ? "faults" : "no faults"}):\n${up.output
          .split("\n")
          .filter((l) => /error|failed/i.test(l))
          .join("\n")}`,
      );
    const refused: Record<string, number> = {};
    for (const e of sandbox.journal.entries({ since }))
      if (e.status === 429 || e.status === 503) refused[e.service] = (refused[e.service] ?? 0) + 1;
    await assertSandboxMatches(project);
    return { ms, refused };
  } finally {
    await project.close();
  }
}

const clean = await timedUp(false);
process.stdout.write(`faults: ${USERS} users, no faults: up ${(clean.ms / 1000).toFixed(1)} s\n`);
const faulty = await timedUp(true);
process.stdout.write(
  `faults: ${USERS} users, 20% 429 + 5% 503 + 50 ms on every service: up ${(faulty.ms / 1000).toFixed(1)} s, ` +
    `${(faulty.ms / clean.ms).toFixed(1)}× (target ≤ 4×); converged in one run to exactly users.yaml\n` +
    `faults: injected refusals (each retried) per system: ${JSON.stringify(faulty.refused)}\n`,
);
