/**
 * The crash scenario of issue 16 item 1, shared by test/e2e/crash.test.ts (3 moments, a few
 * users) and bench/crash.ts (10 moments across 100 users): an `up` creating every user is
 * SIGKILLed (its whole process group: the CLI, the engine and the provider process, as when a CI
 * job is cancelled or the machine dies) at a moment chosen on the sandbox's request journal;
 * then the documented recovery (`recover`, then one `up`) runs, and the result is compared with
 * an uninterrupted run of the same users.yaml on a fresh sandbox: the same live access, the same
 * records (created/adopted, roles granted), and the same effect of removing users afterwards.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import { promisify } from "node:util";
import { stringify } from "yaml";
import type { JournalEntry } from "../../sandbox/core/types.ts";
import { assertSandboxMatches } from "./expect.ts";
import { createProject, type E2EProject, type LiveUser } from "./harness.ts";

/** When to kill: the first journaled write (0-based index among writes) for which `when` holds. */
export interface Moment {
  name: string;
  when: (write: JournalEntry, index: number) => boolean;
  /** Run the killed `up` with `--skip-checkpoints`. */
  skipCheckpoints?: boolean;
  /** Why the moment is reported as todo (it runs, but its failure does not fail the suite). */
  todo?: string;
}

/** A users.yaml of `n` users d365-access creates, each with a license and roles in both systems. */
export function crashUsersYaml(n: number, domain: string, env: string, keep = n): string {
  const users = Array.from({ length: keep }, (_, i) => ({
    upn: `crash.user${String(i + 1).padStart(3, "0")}@${domain}`,
    displayName: `Crash User ${i + 1}`,
    personas: ["team_member"],
  }));
  const limit = n * 10;
  const doc = {
    version: 1,
    domains: [domain],
    environments: {
      [env]: { dataverse: true, fno: true, legalEntities: ["USMF", "DEMF"], defaultCompany: "USMF" },
    },
    defaults: { usageLocation: "US", manage: "create", onRemove: "disable", environments: [env] },
    personas: {
      team_member: {
        licenses: ["DYN365_ENTERPRISE_TEAM_MEMBERS"],
        dataverse: { roles: ["Basic User"] },
        fno: { roles: ["HCMEMPLOYEE"] },
      },
    },
    users,
    guards: {
      maxUsersChanged: limit,
      maxUsersRemoved: limit,
      maxRoleChanges: limit,
      maxLicenseChanges: limit,
    },
  };
  return `# yaml-language-server: $schema=./schemas/users.schema.json\n${stringify(doc)}`;
}

/** What a resource's state records (provenance and grants), by resource name. */
export type Records = Record<
  string,
  { type: string; adopted: unknown; managedRoles: unknown; password: boolean }
>;

/** A ready project with `n` users to create (seats raised so every user is licensed). */
export async function crashProject(n: number): Promise<{ project: E2EProject; env: string; domain: string }> {
  const project = await createProject({ seed: "lived-in" });
  const state = project.sandbox.sandbox.state;
  const env = project.sandbox.endpoints.environments[0]?.name;
  const domain = state.entra.verifiedDomains[0];
  if (!env || !domain) throw new Error("the sandbox has no environment or verified domain");
  for (const sku of state.entra.skus) sku.prepaidUnits.enabled = Math.max(sku.prepaidUnits.enabled, n + 50);
  project.sandbox.sandbox.store.changed();
  project.writeUsersYaml(crashUsersYaml(n, domain, env));
  return { project, env, domain };
}

/** The state's records, read with the real pulumi CLI (`stack export`). */
export async function records(project: E2EProject): Promise<Records> {
  const { stdout } = await promisify(execFile)(
    path.join(project.dir, ".tools", "bin", "pulumi"),
    ["stack", "export", "--stack", "sandbox"],
    {
      cwd: project.dir,
      env: { ...process.env, PULUMI_CONFIG_PASSPHRASE: "d365-access-sandbox", PULUMI_BACKEND_URL: "" },
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  const deployment = (JSON.parse(stdout) as { deployment: { resources?: Record<string, unknown>[] } })
    .deployment;
  const out: Records = {};
  for (const r of deployment.resources ?? []) {
    const type = String(r.type ?? "");
    if (!type.startsWith("pulumi-nodejs:dynamic/")) continue;
    const urn = String(r.urn);
    const outputs = (r.outputs ?? {}) as Record<string, unknown>;
    out[`${type.slice("pulumi-nodejs:dynamic/".length)} ${urn.slice(urn.lastIndexOf("::") + 2)}`] = {
      type: type.slice("pulumi-nodejs:dynamic/".length),
      adopted: outputs.adopted,
      managedRoles: outputs.managedRoles,
      password: outputs.initialPassword !== undefined && outputs.initialPassword !== null,
    };
  }
  return out;
}

/** The live access of users, without ids (which differ between sandboxes). */
export async function liveOf(project: E2EProject, upns: string[]): Promise<Record<string, LiveUser>> {
  const out: Record<string, LiveUser> = {};
  for (const upn of upns) {
    const live = await project.live(upn);
    if (live.entra) live.entra.id = "";
    out[upn] = live;
  }
  return out;
}

/** Waits until the journal shows no write for 2 s (at most 8 s); resolves to the last write's time. */
async function quiet(journal: E2EProject["sandbox"]["sandbox"]["journal"], since: string): Promise<number> {
  const lastWrite = () => {
    const last = journal.entries({ writesOnly: true, since }).at(-1);
    return last ? Date.parse(last.time) : 0;
  };
  const deadline = Date.now() + 8000;
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const last = lastWrite();
    if (Date.now() - last >= 2000 || Date.now() > deadline) return last;
  }
}

/** Pids of dynamic-provider processes running in `dir` (Linux /proc; empty elsewhere). */
function providersOf(dir: string): number[] {
  if (!existsSync("/proc")) return [];
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
        return cmdline.includes("dynamic-provider") && realpathSync(`/proc/${pid}/cwd`) === realpathSync(dir);
      } catch {
        return false; // gone meanwhile, or not ours to read
      }
    })
    .map(Number);
}

/** Runs `up --yes` and SIGKILLs its process group at `moment`; resolves to the writes seen by then. */
export function killedUp(
  project: E2EProject,
  moment: Moment,
): Promise<{ killedAt: number; finished: boolean }> {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.D365_ACCESS_ROOT;
  delete env.PULUMI_BACKEND_URL;
  delete env.PULUMI_CONFIG_PASSPHRASE;
  delete env.NODE_TEST_CONTEXT;
  const args = ["up", "--yes", "--stack", "sandbox", "--color", "never"];
  if (moment.skipCheckpoints) args.push("--skip-checkpoints");
  const child = spawn(path.join(project.dir, "bin", "d365-access"), args, {
    cwd: project.dir,
    env,
    detached: true,
    stdio: "ignore",
  });
  const journal = project.sandbox.sandbox.journal;
  const since = new Date(Date.now() - 1000).toISOString();
  return new Promise((resolve, reject) => {
    let done = false;
    const poll = setInterval(() => {
      const writes = journal.entries({ writesOnly: true, since });
      const hit = writes.findIndex((w, i) => moment.when(w, i));
      if (hit >= 0 && !done && child.pid) {
        done = true;
        clearInterval(poll);
        process.kill(-child.pid, "SIGKILL");
        const killed = Date.now();
        // The provider processes run in process groups of their own and outlive the kill; they
        // must stop writing once their engine is gone (providers/core/engine.ts), as after a
        // real crash, before anything else runs on the stack.
        void quiet(journal, since)
          .then((last) => {
            assert.ok(
              last < killed + 2500,
              `a write landed ${last - killed} ms after the kill: the killed run's provider kept writing`,
            );
            assert.deepEqual(providersOf(project.dir), [], "the killed run's provider processes have exited");
            resolve({ killedAt: hit + 1, finished: false });
          })
          .catch(reject);
      }
    }, 5);
    child.on("exit", () => {
      clearInterval(poll);
      if (!done) resolve({ killedAt: -1, finished: true });
      done = true;
    });
  });
}

/** What a baseline (uninterrupted) run of `n` users produced, and the removal that followed. */
export interface Baseline {
  /** Writes the uninterrupted `up` made (journal). */
  writes: number;
  records: Records;
  removed: Record<string, LiveUser>;
}

/** Removes all but `keep` users and applies; returns the live view of the removed ones. */
async function removeUsers(project: E2EProject, n: number, keep: number, env: string, domain: string) {
  project.writeUsersYaml(crashUsersYaml(n, domain, env, keep));
  const up = await project.cli(["up", "--yes"]);
  assert.equal(up.code, 0, up.output);
  const removed = Array.from(
    { length: n - keep },
    (_, i) => `crash.user${String(keep + i + 1).padStart(3, "0")}@${domain}`,
  );
  return liveOf(project, removed);
}

/** The uninterrupted run: `up`, its records, then removing all but `keep` users. */
export async function baseline(n: number, keep: number): Promise<Baseline> {
  const { project, env, domain } = await crashProject(n);
  try {
    const since = new Date().toISOString();
    const up = await project.cli(["up", "--yes"]);
    assert.equal(up.code, 0, up.output);
    const writes = project.sandbox.sandbox.journal.entries({ writesOnly: true, since }).length;
    await assertSandboxMatches(project);
    return {
      writes,
      records: await records(project),
      removed: await removeUsers(project, n, keep, env, domain),
    };
  } finally {
    await project.close();
  }
}

/** Figures of one killed run. */
export interface CrashResult {
  moment: string;
  killedAt: number;
  preview: string;
  recover: string;
}

/**
 * One moment: kill, the documented recovery (`preview` says what to do, `recover`, one `up`),
 * then the same checks as the baseline. Throws (assert) on any difference.
 */
export async function crashAt(n: number, keep: number, moment: Moment, base: Baseline): Promise<CrashResult> {
  const { project, env, domain } = await crashProject(n);
  try {
    const killed = await killedUp(project, moment);
    assert.equal(killed.finished, false, `the run ended before the moment ${moment.name}`);
    const preview = await project.cli(["preview"]);
    assert.equal(preview.code, 1, `preview after the kill must stop:\n${preview.output}`);
    assert.match(preview.output, /interrupted/);
    assert.match(preview.output, /d365-access recover --stack sandbox/);
    const recover = await project.cli(["recover"]);
    assert.equal(recover.code, 0, recover.output);
    const up = await project.cli(["up", "--yes"]);
    assert.equal(up.code, 0, `up after recover (${moment.name}):\n${up.output}`);
    await assertSandboxMatches(project);
    const again = await project.cli(["preview", "--expect-no-changes"]);
    assert.equal(again.code, 0, `a second preview must show no change (${moment.name}):\n${again.output}`);
    assert.deepEqual(await records(project), base.records, `records after ${moment.name}`);
    assert.deepEqual(
      await removeUsers(project, n, keep, env, domain),
      base.removed,
      `removal after ${moment.name}`,
    );
    return {
      moment: moment.name,
      killedAt: killed.killedAt,
      preview: preview.stderr.trim(),
      recover: recover.stdout.trim(),
    };
  } finally {
    await project.close();
  }
}
