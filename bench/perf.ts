/**
 * Performance at tenant scale (issue 15): the real engine (`bin/d365-access`: Automation API +
 * the pulumi binary) on a lived-in sandbox tenant with N generated people, against the naive
 * baseline (bench/_baseline-program.ts: the same number of no-op dynamic resources) in the same
 * run, on the file backend and on `azblob://` served by Azurite. For each size, latency and
 * backend, in this order:
 *
 *   up (create N new users) → preview (no change) → preview --refresh → up (1% edited)
 *   → up of the adopting users.yaml (the tenant's N people, another stack: zero writes)
 *   → baseline up → baseline preview → baseline preview --refresh
 *
 * Each line: wall time, peak memory of the whole process tree (summed RSS, sampled) and of its
 * largest process, bytes written to the backend (file: the tree's storage writes; azblob: bytes
 * sent to Azurite), HTTP requests per user and system (counted by the sandbox), 429s, state
 * bytes per user. A table for bench/RESULTS.md closes the run. Loopback only; every run is
 * bounded by the time budget.
 *
 * Run: npm run bench -- perf [--users 1000,5000,10000] [--latency 0,20] [--backends file,azblob]
 *                            [--budget-minutes 180]
 */
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import path from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { stringify } from "yaml";
import type { JournalEntry } from "../sandbox/core/types.ts";
import { createProject, type E2EProject } from "../test/e2e/harness.ts";
import { adoptionDocument } from "./_adopt.ts";
import { type Azurite, startAzurite } from "./_azurite.ts";
import { cli, editOnePercent, generateUsers, type Run, summary, tail, unchanged } from "./_engine.ts";

const { values } = parseArgs({
  options: {
    users: { type: "string", default: "1000,5000,10000" },
    latency: { type: "string", default: "0,20" },
    backends: { type: "string", default: "file,azblob" },
    "budget-minutes": { type: "string", default: "180" },
    "port-base": { type: "string", default: "48500" },
  },
});
const list = (s: string) => s.split(",").map((x) => x.trim());
const SIZES = list(values.users).map(Number);
const LATENCIES = list(values.latency).map(Number);
const BACKENDS = list(values.backends) as ("file" | "azblob")[];
const DEADLINE = Date.now() + Number(values["budget-minutes"]) * 60_000;
if (
  SIZES.some((n) => !Number.isInteger(n) || n < 1) ||
  LATENCIES.some((n) => !(n >= 0)) ||
  BACKENDS.some((b) => b !== "file" && b !== "azblob")
) {
  process.stderr.write(
    "usage: bench/perf.ts [--users 1000,5000] [--latency 0,20] [--backends file,azblob]\n",
  );
  process.exit(2);
}
const PASSPHRASE = "bench-only-passphrase";
const SERVICES = ["graph", "dataverse", "powerplatform", "fno"] as const;

class BenchFailure extends Error {}

/** One measured step. */
interface Step {
  label: string;
  run: Run;
  resources: number;
  /** Requests per service in the step. */
  requests: Record<string, number>;
  writes: number;
  throttled: number;
  backendBytes?: number;
  /** State per user: compact JSON, and as stored (gzipped). */
  stateBytes?: { json: number; stored: number };
  note?: string;
}

/** Counts the sandbox's journal entries by service while a step runs (without keeping them). */
function meter(project: E2EProject) {
  const journal = project.sandbox.sandbox.journal;
  const record = journal.record.bind(journal);
  let counts: Record<string, number> = {};
  let writes = 0;
  let throttled = 0;
  journal.record = (entry: JournalEntry) => {
    counts[entry.service] = (counts[entry.service] ?? 0) + 1;
    if (entry.write) writes++;
    if (entry.status === 429) throttled++;
    record(entry);
  };
  return {
    reset() {
      counts = {};
      writes = 0;
      throttled = 0;
      journal.clear();
    },
    read: () => ({ requests: { ...counts }, writes, throttled }),
  };
}

/**
 * The stack's state in bytes: `pulumi stack export` as compact JSON (what the backend's
 * checkpoint holds), and gzipped (what it stores: src/engine/stack.ts turns gzip on).
 */
function stateBytes(
  dir: string,
  stack: string,
  env: Record<string, string>,
): Promise<{ json: number; stored: number }> {
  return new Promise((resolve, reject) => {
    execFile(
      path.join(dir, ".tools", "bin", "pulumi"),
      ["stack", "export", "--stack", stack],
      {
        cwd: dir,
        env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true", ...env },
        maxBuffer: 1024 * 1024 * 1024,
      },
      (err, stdout) => {
        if (err) return reject(err);
        const compact = JSON.stringify(JSON.parse(stdout));
        resolve({ json: Buffer.byteLength(compact), stored: gzipSync(compact).length });
      },
    );
  });
}

const mib = (kib: number | undefined) => (kib === undefined ? "n/a" : `${(kib / 1024).toFixed(0)} MiB`);
const mb = (bytes: number | undefined) => (bytes === undefined ? "n/a" : `${(bytes / 1e6).toFixed(1)} MB`);

function perUser(step: Step, users: number): string {
  return SERVICES.map((s) => `${s} ${((step.requests[s] ?? 0) / users).toFixed(3)}`).join(", ");
}

async function measure(
  n: number,
  latencyMs: number,
  backend: "file" | "azblob",
  azurite?: Azurite,
): Promise<Step[]> {
  const project = await createProject({ seed: { name: "lived-in", generatedUsers: n } });
  const steps: Step[] = [];
  try {
    const sandbox = project.sandbox.sandbox;
    const env = project.sandbox.endpoints.environments[0]?.name;
    const domain = sandbox.state.entra.verifiedDomains[0];
    if (!env || !domain) throw new Error("the sandbox has no environment or no verified domain");
    // A tenant of this size buys enough seats for the N new users.
    for (const sku of sandbox.state.entra.skus) sku.prepaidUnits.enabled += n + 50;
    sandbox.store.changed();

    // The adopting file is read from the tenant before the run creates anyone.
    const adoption = await adoptionDocument(project.sandbox, env);
    writeFileSync(path.join(project.dir, "users-adopt.yaml"), stringify(adoption.doc));
    const created = generateUsers(n, domain, env);
    const writeUsers = () => project.writeUsersYaml(stringify(created.doc));
    writeUsers();
    mkdirSync(path.join(project.dir, "bench"), { recursive: true });
    cpSync(
      path.join(import.meta.dirname, "_baseline-program.ts"),
      path.join(project.dir, "bench", "_baseline-program.ts"),
    );
    for (const stack of ["adopt", "baseline"]) {
      writeFileSync(
        path.join(project.dir, "stacks", `Pulumi.${stack}.yaml`),
        stack === "adopt"
          ? "config:\n  d365-access:endpointsFile: .sandbox/endpoints.json\n  d365-access:usersFile: users-adopt.yaml\n"
          : "config: {}\n",
      );
    }
    sandbox.setFaults({ latencyMs });

    const container = `bench-${n}-${latencyMs}-${Date.now() % 100000}`;
    if (azurite) await azurite.createContainer(container);
    const backendEnv: Record<string, string> = azurite ? azurite.env(container) : {};
    const counter = meter(project);
    const context = `${n} people + ${n} new users, ${latencyMs} ms, ${backend}`;

    const step = async (
      label: string,
      args: string[],
      options: {
        stack?: string;
        env?: Record<string, string>;
        users: number;
        check?: (r: Run) => string | undefined;
      },
    ): Promise<Step> => {
      counter.reset();
      const before = azurite?.bytesIn ?? 0;
      const stack = options.stack ?? "sandbox";
      const env = {
        ...backendEnv,
        ...(stack === "sandbox" ? {} : { PULUMI_CONFIG_PASSPHRASE: PASSPHRASE }),
        ...options.env,
      };
      const run = await cli(project.dir, args, { stack, env, deadline: DEADLINE });
      if (run.timedOut) throw new BenchFailure(`${context}: the budget ran out during "${label}"`);
      const why = run.code !== 0 ? `exited ${run.code}` : options.check?.(run);
      if (why) throw new BenchFailure(`${context}: "${label}" ${why}:\n${tail(run)}`);
      const counts = counter.read();
      const result: Step = {
        label,
        run,
        resources: summary(run.output).total,
        ...counts,
        backendBytes: azurite ? azurite.bytesIn - before : run.writtenBytes,
        ...(/the state is written once, at the end/.test(run.output) ? { note: "checkpoints skipped" } : {}),
      };
      if (args[0] === "up") {
        const bytes = await stateBytes(project.dir, stack, {
          ...backendEnv,
          PULUMI_CONFIG_PASSPHRASE: stack === "sandbox" ? "d365-access-sandbox" : PASSPHRASE,
        });
        result.stateBytes = { json: bytes.json / options.users, stored: bytes.stored / options.users };
      }
      steps.push(result);
      console.log(
        `${context} | ${label.padEnd(26)} ${(run.ms / 1000).toFixed(1).padStart(7)} s  resources ${String(result.resources).padStart(6)}  tree ${mib(run.treeRssKiB).padStart(9)}  largest ${mib(run.rssKiB).padStart(9)}  backend written ${mb(result.backendBytes).padStart(9)}  requests/user: ${perUser(result, options.users)}  writes ${result.writes}  429s ${result.throttled}${result.stateBytes ? `  state ${Math.round(result.stateBytes.json)} B/user (${Math.round(result.stateBytes.stored)} B stored)` : ""}${result.note ? `  (${result.note})` : ""}`,
      );
      return result;
    };

    const up = await step("up (create)", ["up", "--yes"], { users: n });
    const total = up.resources;
    await step("preview (no change)", ["preview"], {
      users: n,
      check: (r) => (unchanged(r.output) === total ? undefined : `shows changes (${summary(r.output).text})`),
    });
    await step("preview --refresh", ["preview", "--refresh"], {
      users: n,
      check: (r) => (unchanged(r.output) === total ? undefined : `shows changes (${summary(r.output).text})`),
    });
    const expected = editOnePercent(created.users, env);
    writeUsers();
    await step("up (1% edited)", ["up", "--yes"], {
      users: n,
      check: (r) => {
        const updated = summary(r.output).counts.get("updated") ?? 0;
        return updated === expected ? undefined : `updated ${updated} resources, expected ${expected}`;
      },
    });
    await step(`up (adopt ${adoption.users.length})`, ["up", "--yes"], {
      stack: "adopt",
      users: adoption.users.length,
    });
    const baselineEnv = { BENCH_BASELINE_RESOURCES: String(total - 1) };
    const program = ["--program", "bench/_baseline-program.ts"];
    await step("baseline up", ["up", "--yes", ...program, ...(up.note ? ["--skip-checkpoints"] : [])], {
      stack: "baseline",
      env: baselineEnv,
      users: n,
    });
    await step("baseline preview", ["preview", ...program], {
      stack: "baseline",
      env: baselineEnv,
      users: n,
    });
    await step("baseline preview --refresh", ["preview", "--refresh", ...program], {
      stack: "baseline",
      env: baselineEnv,
      users: n,
    });
    const ratio = (a: string, b: string) => {
      const x = steps.find((s) => s.label === a);
      const y = steps.find((s) => s.label === b);
      return x && y ? (x.run.ms / y.run.ms).toFixed(2) : "n/a";
    };
    console.log(
      `${context} | ratio to baseline: up ${ratio("up (create)", "baseline up")}×, preview ${ratio("preview (no change)", "baseline preview")}×, preview --refresh ${ratio("preview --refresh", "baseline preview --refresh")}×`,
    );
    return steps;
  } finally {
    await project.close();
  }
}

async function main(): Promise<number> {
  const versions = `node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
  console.log(
    `perf bench: sizes ${SIZES.join(", ")}; latency ${LATENCIES.join(", ")} ms; backends ${BACKENDS.join(", ")}; ${versions}; load average at start ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const port = Number(values["port-base"]);
  const azurite = BACKENDS.includes("azblob") ? await startAzurite(port) : undefined;
  const table: string[] = [
    "| users | latency | backend | step | wall | ratio | tree peak | backend written | requests/user (graph, dataverse, pp, fno) | writes | 429s | state/user |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  try {
    for (const n of SIZES) {
      for (const latency of LATENCIES) {
        for (const backend of BACKENDS) {
          const steps = await measure(n, latency, backend, backend === "azblob" ? azurite : undefined);
          const base = (label: string) =>
            steps.find(
              (s) => s.label === `baseline ${label.replace(" (create)", "").replace(" (no change)", "")}`,
            );
          for (const s of steps) {
            const b = s.label.startsWith("baseline") ? undefined : base(s.label);
            const users = s.label.startsWith("up (adopt") ? Number(/adopt (\d+)/.exec(s.label)?.[1]) : n;
            table.push(
              `| ${n} | ${latency} ms | ${backend} | ${s.label}${s.note ? ` (${s.note})` : ""} | ${(s.run.ms / 1000).toFixed(1)} s | ${b ? `${(s.run.ms / b.run.ms).toFixed(2)}×` : ""} | ${mib(s.run.treeRssKiB)} | ${mb(s.backendBytes)} | ${SERVICES.map((x) => ((s.requests[x] ?? 0) / users).toFixed(3)).join(", ")} | ${s.writes} | ${s.throttled} | ${s.stateBytes ? `${Math.round(s.stateBytes.json)} B (${Math.round(s.stateBytes.stored)} B gz)` : ""} |`,
            );
          }
          console.log(
            `load average ${loadavg()
              .map((l) => l.toFixed(2))
              .join(" ")}`,
          );
        }
      }
    }
    return 0;
  } catch (err) {
    if (!(err instanceof BenchFailure)) throw err;
    process.stderr.write(`perf bench: ${err.message}\n`);
    return 1;
  } finally {
    console.log(`\n${table.join("\n")}\n`);
    await azurite?.close();
  }
}

process.exitCode = await main();
