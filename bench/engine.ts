/**
 * End-to-end cost of the real engine at tenant scale: our users.yaml program, driven by
 * `bin/d365-access` (Automation API + the Go-built pulumi, file backend, checkpoints on), against
 * a sandbox of its own. For N generated users (3 resources each: Entra, Dataverse, F&O) it
 * prints, one line each, wall time and resource count of
 *
 *   preview (first) → up (first) → preview (no changes) → up after editing 1% of users'
 *   roles → refresh → destroy
 *
 * plus the peak RSS of the largest process in the CLI's tree (GNU time's %M: the maximum
 * ru_maxrss over the CLI and the pulumi, language-host and provider processes it waited for),
 * and the state file's size in bytes and bytes per resource. Compare with the bare engine
 * (no-op resources, no HTTP, file backend), observed against Pulumi v3.274 on 2 cores: 1,000
 * resources take 74 s for a first `up` (12 s without checkpoints) and 9 s for a no-change
 * `preview`, peak RSS 0.3 GB, 2.6 KB of state each.
 *
 * Loopback only; bounded by a time budget (default 20 minutes, then it stops the running CLI
 * and says so); the project copy and the sandbox are removed on exit. Exit code 1 when an
 * operation fails, does not converge (changes left after `up`, drift on `refresh`) or runs out
 * of time: those are product defects or budget overruns, printed with the engine's output tail.
 *
 * Run: bash scripts/with-node bench/engine.ts [users=300] [budget-minutes=20]
 */
import { readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import process from "node:process";
import { gunzipSync } from "node:zlib";
import { stringify } from "yaml";
import { createProject, type E2EProject } from "../test/e2e/harness.ts";
import { editOnePercent, generateUsers, type Run, cli as runCli, summary, unchanged } from "./_engine.ts";

const USERS = Number(process.argv[2] ?? 300);
const BUDGET_MS = Number(process.argv[3] ?? 20) * 60_000;
if (!Number.isInteger(USERS) || USERS < 1 || !(BUDGET_MS > 0)) {
  process.stderr.write("usage: bench/engine.ts [users=300] [budget-minutes=20]\n");
  process.exit(2);
}
const started = Date.now();

/** Runs `d365-access <args>` in the project, within the bench's budget. */
const cli = (project: E2EProject, args: string[]): Promise<Run> =>
  runCli(project.dir, args, { deadline: started + BUDGET_MS });

// ---------------------------------------------------------------------------------- main --

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KiB`;
}

function line(label: string, run: Run, detail: string): void {
  const rss = run.rssKiB === undefined ? "n/a" : `${(run.rssKiB / 1024).toFixed(0)} MiB`;
  console.log(
    `${label.padEnd(26)} ${(run.ms / 1000).toFixed(1).padStart(7)} s  resources ${String(summary(run.output).total).padStart(5)}  peak RSS ${rss.padStart(8)}  ${detail}`,
  );
}

class BenchFailure extends Error {}

/** Stops the bench on a failed, unconverged or overlong step, with the engine's output tail. */
function check(label: string, run: Run, ok: boolean, why: string): void {
  if (run.timedOut) {
    throw new BenchFailure(
      `aborted: the ${BUDGET_MS / 60_000}-minute budget ran out during "${label}" (after ${(run.ms / 1000).toFixed(0)} s); raise it with the second argument`,
    );
  }
  if (run.code !== 0 || !ok) {
    const tail = run.output.trimEnd().split("\n").slice(-40).join("\n");
    throw new BenchFailure(`"${label}" ${run.code !== 0 ? `exited ${run.code}` : why}:\n${tail}`);
  }
}

async function main(): Promise<number> {
  const project = await createProject();
  try {
    const state = project.sandbox.sandbox.state;
    const env = project.sandbox.endpoints.environments[0]?.name;
    const domain = state.entra.verifiedDomains[0];
    if (!env || !domain) throw new Error("the sandbox has no environment or no verified domain");
    // The seed has 5/10/2 seats; a tenant of this size buys enough. Raising them keeps every
    // user licensed, so Dataverse users are synced and the run is what a real tenant would do.
    for (const sku of state.entra.skus) {
      sku.prepaidUnits.enabled = Math.max(sku.prepaidUnits.enabled, USERS + 50);
    }
    project.sandbox.sandbox.store.changed();

    const { doc, users } = generateUsers(USERS, domain, env);
    project.writeUsersYaml(`# yaml-language-server: $schema=./schemas/users.schema.json\n${stringify(doc)}`);
    const stateFile = path.join(
      project.dir,
      ".pulumi-state",
      ".pulumi",
      "stacks",
      "d365-access",
      "sandbox.json.gz", // gzipped (src/engine/stack.ts engineEnvironment)
    );
    const stateLine = (when: string) => {
      const bytes = statSync(stateFile).size;
      const resources =
        (
          JSON.parse(gunzipSync(readFileSync(stateFile)).toString("utf8")) as {
            checkpoint?: { latest?: { resources?: unknown[] } };
          }
        ).checkpoint?.latest?.resources?.length ?? 0;
      console.log(
        `state file ${when.padEnd(15)} ${bytes} bytes (${kib(bytes)}), ${resources} resources, ${resources ? Math.round(bytes / resources) : 0} bytes/resource`,
      );
    };

    // One Entra and one F&O resource per user, a Dataverse one for those with Dataverse access,
    // plus the stack itself.
    const declared = users.length * 2 + users.filter((u) => !u.personas.includes("warehouse")).length + 1;
    console.log(
      `engine bench: ${USERS} users (${declared} resources), environment ${env}, users.yaml ${kib(Buffer.byteLength(project.usersYaml()))}, budget ${BUDGET_MS / 60_000} min, tmp ${tmpdir()}`,
    );

    const preview1 = await cli(project, ["preview"]);
    check(
      "preview (first)",
      preview1,
      summary(preview1.output).counts.get("to create") === declared,
      `does not create the ${declared} resources declared (${summary(preview1.output).text})`,
    );
    line("preview (first)", preview1, summary(preview1.output).text);

    const up1 = await cli(project, ["up", "--yes"]);
    check("up (first)", up1, true, "");
    line("up --yes (first)", up1, summary(up1.output).text);
    const total = summary(up1.output).total;
    stateLine("after up");

    const preview2 = await cli(project, ["preview"]);
    check(
      "preview (no changes)",
      preview2,
      unchanged(preview2.output) === total,
      `still shows changes after up (${summary(preview2.output).text})`,
    );
    line("preview (no changes)", preview2, summary(preview2.output).text);

    const expected = editOnePercent(users, env);
    project.writeUsersYaml(`# yaml-language-server: $schema=./schemas/users.schema.json\n${stringify(doc)}`);
    const up2 = await cli(project, ["up", "--yes"]);
    const updated = summary(up2.output).counts.get("updated") ?? 0;
    check("up (1% edited)", up2, updated === expected, `updated ${updated} resources, expected ${expected}`);
    line("up --yes (1% role edits)", up2, summary(up2.output).text);

    const refresh = await cli(project, ["refresh", "--yes"]);
    check(
      "refresh",
      refresh,
      unchanged(refresh.output) === total,
      `saw drift right after up (${summary(refresh.output).text})`,
    );
    line("refresh --yes", refresh, summary(refresh.output).text);
    stateLine("after refresh");

    const destroy = await cli(project, ["destroy", "--yes", "--override-guards"]);
    check("destroy", destroy, true, "");
    line("destroy --yes", destroy, summary(destroy.output).text);
    stateLine("after destroy");
    console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return 0;
  } catch (err) {
    if (!(err instanceof BenchFailure)) throw err;
    process.stderr.write(`engine bench: ${err.message}\n`);
    return 1;
  } finally {
    await project.close();
  }
}

process.exitCode = await main();
