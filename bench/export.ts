/**
 * Brownfield onboarding at tenant scale (issue 13): on the lived-in tenant with N generated
 * people (default 1,000), `d365-access export` writes users.yaml from what the systems hold,
 * then the first `up` (with --skip-checkpoints, as README "Large tenants" advises) must make
 * ZERO write requests, and the next `preview --expect-no-changes` must pass. Prints, one line
 * each: the export's wall time, requests and users written; the first up's wall time, requests
 * and requests per user (read from the sandbox's request journal, `GET /journal`); the writes
 * (must be 0); the second preview's time.
 *
 * Exit code 1 when anything fails or writes. Run: bash scripts/with-node bench/export.ts [users=1000]
 */
import { rmSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import { createProject, type E2EProject } from "../test/e2e/harness.ts";

const USERS = Number(process.argv[2] ?? 1000);
if (!Number.isInteger(USERS) || USERS < 0) {
  process.stderr.write("usage: bench/export.ts [users=1000]\n");
  process.exit(2);
}

interface Entry {
  service: string;
  method: string;
  path: string;
  write: boolean;
}

async function journal(project: E2EProject): Promise<Entry[]> {
  const res = await project.sandbox.call(`${project.sandbox.endpoints.adminUrl}/journal`);
  return (res.body as { value: Entry[] }).value;
}

async function clear(project: E2EProject): Promise<void> {
  await project.sandbox.call(`${project.sandbox.endpoints.adminUrl}/journal`, { method: "DELETE" });
}

const bySystem = (entries: Entry[]) => {
  const counts: Record<string, number> = {};
  for (const e of entries) counts[e.service] = (counts[e.service] ?? 0) + 1;
  return Object.entries(counts)
    .sort()
    .map(([s, n]) => `${s} ${n}`)
    .join(", ");
};

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const result = await run();
  return [result, (performance.now() - t0) / 1000];
}

const project = await createProject({ seed: { name: "lived-in", generatedUsers: USERS } });
let failed = false;
try {
  rmSync(path.join(project.dir, "users.yaml"));
  await clear(project);
  const [exported, exportS] = await timed(() => project.cli(["export", "--out", "users.yaml"]));
  const exportRequests = await journal(project);
  if (exported.code !== 0) throw new Error(`export failed:\n${exported.output}`);
  const written = Number(/(\d+) users written/.exec(exported.stderr)?.[1] ?? 0);
  process.stdout.write(
    `export: ${exportS.toFixed(1)} s, ${exportRequests.length} requests (${bySystem(exportRequests)}), ${written} users written\n`,
  );
  process.stdout.write(`  ${exported.stderr.trim().split("\n").at(-1)}\n`);

  await clear(project);
  const [up, upS] = await timed(() => project.cli(["up", "--yes", "--skip-checkpoints"]));
  if (up.code !== 0) throw new Error(`up failed:\n${up.output.slice(-4000)}`);
  const upRequests = await journal(project);
  const writes = upRequests.filter((e) => e.write);
  process.stdout.write(
    `first up: ${upS.toFixed(1)} s, ${upRequests.length} requests (${bySystem(upRequests)}), ${(upRequests.length / Math.max(written, 1)).toFixed(3)} requests per user\n`,
  );
  process.stdout.write(`writes: ${writes.length}\n`);
  for (const w of writes.slice(0, 20)) process.stdout.write(`  ${w.service} ${w.method} ${w.path}\n`);
  if (writes.length > 0) failed = true;

  const [again, againS] = await timed(() => project.cli(["preview", "--expect-no-changes"]));
  process.stdout.write(
    `preview after up: ${againS.toFixed(1)} s, ${again.code === 0 ? "no changes" : "CHANGES"}\n`,
  );
  if (again.code !== 0) {
    failed = true;
    process.stdout.write(again.output.slice(-4000));
  }
} catch (e) {
  failed = true;
  process.stdout.write(`${(e as Error).message}\n`);
} finally {
  await project.close();
}
process.exit(failed ? 1 : 0);
