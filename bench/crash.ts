/**
 * Crash safety at scale (issue 16 item 1): an `up` creating N users (default 100; each with a
 * license and roles in Dataverse and F&O) is SIGKILLed at 10 moments spread over its writes
 * (seeded: the same moments every run), alternately with checkpoints and with
 * `--skip-checkpoints`. After each: `preview` stops naming `recover`; `recover` + one `up`
 * converge to exactly users.yaml; the state records what an uninterrupted run records; removing
 * half the users then disables and revokes exactly as after an uninterrupted run
 * (test/e2e/crash.ts). Prints each moment and its result.
 *
 * Run: bash scripts/with-node bench/crash.ts [users=100] [seed=16]
 */
import process from "node:process";

// Runs of hundreds of users under faults outlast the test harness's 4-minute CLI limit.
process.env.D365_ACCESS_E2E_CLI_TIMEOUT_MS ??= String(30 * 60_000);

import { seededRandom } from "../sandbox/core/population.ts";
import { baseline, crashAt, type Moment } from "../test/e2e/crash.ts";

const USERS = Number(process.argv[2] ?? 100);
const SEED = Number(process.argv[3] ?? 16);
const KEEP = Math.floor(USERS / 2);

const t0 = performance.now();
const base = await baseline(USERS, KEEP);
process.stdout.write(`crash: ${USERS} users, uninterrupted up: ${base.writes} writes\n`);
const next = seededRandom(SEED);
const moments: Moment[] = Array.from({ length: 10 }, (_, i) => {
  // One moment in each tenth of the run's writes, at a seeded place inside it.
  const at = Math.max(1, Math.floor(((i + next()) * base.writes) / 10));
  const skipCheckpoints = i % 2 === 1;
  return {
    name: `write ${at} of ${base.writes}${skipCheckpoints ? ", skip-checkpoints" : ""}`,
    when: (_w, index) => index + 1 >= at,
    skipCheckpoints,
  };
});
let failed = 0;
for (const moment of moments) {
  const started = performance.now();
  try {
    const result = await crashAt(USERS, KEEP, moment, base);
    process.stdout.write(
      `crash: killed at ${moment.name} (write ${result.killedAt} seen): recovered, converged, records and removal as uninterrupted (${((performance.now() - started) / 1000).toFixed(0)} s)\n`,
    );
  } catch (e) {
    failed++;
    process.stdout.write(`crash: killed at ${moment.name}: FAILED: ${(e as Error).message.slice(0, 2000)}\n`);
  }
}
process.stdout.write(
  `crash: ${10 - failed} of 10 moments passed in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`,
);
process.exitCode = failed ? 1 : 0;
