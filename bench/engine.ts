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
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import process from "node:process";
import { stringify } from "yaml";
import { createProject, type E2EProject } from "../test/e2e/harness.ts";

const USERS = Number(process.argv[2] ?? 300);
const BUDGET_MS = Number(process.argv[3] ?? 20) * 60_000;
if (!Number.isInteger(USERS) || USERS < 1 || !(BUDGET_MS > 0)) {
  process.stderr.write("usage: bench/engine.ts [users=300] [budget-minutes=20]\n");
  process.exit(2);
}
const started = Date.now();
const GNU_TIME = "/usr/bin/time";

/** What one CLI run cost. */
interface Run {
  code: number;
  output: string;
  ms: number;
  /** Peak RSS of the largest process in the tree, in KiB (undefined without GNU time). */
  rssKiB?: number;
  timedOut: boolean;
}

/**
 * Runs `d365-access <args>` in the project. The harness's `cli()` has a fixed 4-minute timeout
 * and no RSS measurement, so the bench spawns the same command (same environment clean-up)
 * itself: under GNU time, in its own process group so the budget can stop the whole tree.
 */
function cli(project: E2EProject, args: string[]): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.D365_ACCESS_ROOT;
  delete env.PULUMI_BACKEND_URL;
  delete env.PULUMI_CONFIG_PASSPHRASE;
  delete env.NODE_TEST_CONTEXT;
  const command = [
    path.join(project.dir, "bin", "d365-access"),
    ...args,
    "--stack",
    "sandbox",
    "--color",
    "never",
  ];
  const rssFile = path.join(project.dir, ".bench-rss");
  rmSync(rssFile, { force: true });
  const timed = existsSync(GNU_TIME);
  const [file, ...argv] = timed ? [GNU_TIME, "-f", "%M", "-o", rssFile, ...command] : command;
  const remaining = BUDGET_MS - (Date.now() - started);
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(file as string, argv, { cwd: project.dir, env, detached: true });
    let output = "";
    child.stdout.on("data", (c: Buffer) => {
      output += c.toString("utf8");
    });
    child.stderr.on("data", (c: Buffer) => {
      output += c.toString("utf8");
    });
    let timedOut = false;
    const stopGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(
      () => {
        timedOut = true;
        stopGroup("SIGTERM");
        setTimeout(() => stopGroup("SIGKILL"), 10_000).unref();
      },
      Math.max(remaining, 1),
    );
    child.on("close", (code) => {
      clearTimeout(timer);
      const ms = performance.now() - t0;
      let rssKiB: number | undefined;
      if (timed && existsSync(rssFile)) {
        // GNU time writes "Command exited with non-zero status N" before the figure on failure.
        const last = readFileSync(rssFile, "utf8").trim().split("\n").pop() ?? "";
        if (/^\d+$/.test(last)) rssKiB = Number(last);
      }
      resolve({ code: code ?? 1, output, ms, timedOut, ...(rssKiB === undefined ? {} : { rssKiB }) });
    });
  });
}

/** The engine's `Resources:` summary, e.g. `{ total: 901, text: "+ 900 created, 1 unchanged" }`. */
function summary(output: string): { total: number; text: string; counts: Map<string, number> } {
  const lines = output.split("\n");
  const start = lines.findLastIndex((l) => /^Resources:\s*$/.test(l));
  const counts = new Map<string, number>();
  const parts: string[] = [];
  let total = 0;
  if (start >= 0) {
    for (const line of lines.slice(start + 1)) {
      const m = /^\s*(?:[+~-]|\+-|-\+)?\s*(\d+)\s+(.+?)\s*$/.exec(line);
      if (!m) break;
      const n = Number(m[1]);
      total += n;
      counts.set(m[2] as string, n);
      parts.push(line.trim());
    }
  }
  return { total, text: parts.join(", ") || "no summary", counts };
}

/** Number of resources the engine reports as unchanged (0 when none). */
function unchanged(output: string): number {
  return summary(output).counts.get("unchanged") ?? 0;
}

// ---------------------------------------------------------------------------- users.yaml --

interface FnoRole {
  role: string;
  legalEntities: string[];
}
interface GeneratedUser {
  upn: string;
  displayName: string;
  usageLocation?: string;
  personas: string[];
  dataverse?: Record<string, { businessUnit?: string; roles?: string[] }>;
  fno?: Record<string, { company?: string; roles: (string | FnoRole)[] }>;
}

/** Personas in the demo file's style, spread over the users roughly as in a finance department. */
const PERSONA_CYCLE = [
  "ap_clerk",
  "ap_clerk",
  "ap_clerk",
  "ar_clerk",
  "ar_clerk",
  "accountant",
  "accountant",
  "team_member",
  "team_member",
  "warehouse",
] as const;

/**
 * A valid users.yaml for `n` users created in `domain`, all in environment `env`.
 *
 * Licenses: every user holds one (Finance, Team Members or Operations Activity); the seats were
 * raised to fit (see main), so the run creates Dataverse users wherever a real tenant would.
 * Warehouse workers hold the Activity license, which has no Dataverse plan: F&O access only, as
 * in real tenants. A quarter of the users get an extra F&O role restricted to legal entities,
 * every fifth finance user an extra Dataverse role, every seventh sits in Germany (business
 * unit and company of the Europe entity).
 */
function generateUsers(
  n: number,
  domain: string,
  env: string,
): { doc: Record<string, unknown>; users: GeneratedUser[] } {
  const users: GeneratedUser[] = [];
  const width = String(n).length;
  for (let i = 0; i < n; i++) {
    const id = String(i + 1).padStart(width, "0");
    const persona = PERSONA_CYCLE[i % PERSONA_CYCLE.length] as string;
    const user: GeneratedUser = {
      upn: `bench.user${id}@${domain}`,
      displayName: `Bench User ${id}`,
      personas: [persona],
    };
    const german = i % 7 === 3;
    if (german) user.usageLocation = "DE";
    const hasDataverse = persona !== "warehouse";
    if (hasDataverse && (german || (persona !== "team_member" && i % 5 === 0))) {
      user.dataverse = {
        [env]: {
          ...(german ? { businessUnit: "Contoso Europe" } : {}),
          ...(i % 5 === 0 && persona !== "team_member" ? { roles: ["Contoso Finance Reader"] } : {}),
        },
      };
    }
    const restricted: FnoRole[] =
      i % 4 === 1
        ? [
            i % 8 === 1
              ? { role: "BUDGETBUDGETCLERK", legalEntities: ["USMF"] }
              : { role: "TRADEBUYINGAGENT", legalEntities: ["DEMF", "GBSI"] },
          ]
        : [];
    if (german || restricted.length) {
      user.fno = { [env]: { ...(german ? { company: "DEMF" } : {}), roles: restricted } };
    }
    users.push(user);
  }
  const finance = (fnoRole: string) => ({
    licenses: ["DYN365_FINANCE"],
    dataverse: { roles: ["Basic User", "Finance and Operations Basic User"] },
    fno: { roles: [fnoRole] },
  });
  const limit = n * 10;
  const doc = {
    version: 1,
    domains: [domain],
    environments: {
      [env]: {
        description: "Benchmark environment, Dataverse linked to finance and operations",
        dataverse: true,
        fno: true,
        legalEntities: ["USMF", "DEMF", "GBSI", "USRT"],
        defaultCompany: "USMF",
      },
    },
    defaults: { usageLocation: "US", manage: "create", onRemove: "disable", environments: [env] },
    personas: {
      ap_clerk: finance("VENDINVOICEACCOUNTSPAYABLECLERK"),
      ar_clerk: finance("CUSTINVOICEACCOUNTSRECEIVABLECLERK"),
      accountant: finance("LEDGERACCOUNTANT"),
      team_member: {
        licenses: ["DYN365_ENTERPRISE_TEAM_MEMBERS"],
        dataverse: { roles: ["Basic User"] },
        fno: { roles: ["HCMEMPLOYEE"] },
      },
      warehouse: { licenses: ["Dyn365_Operations_Activity"], fno: { roles: ["WHSWAREHOUSEWORKER"] } },
    },
    users,
    rules: {
      sod: [
        {
          name: "Post and approve vendor invoices",
          roles: ["VENDINVOICEACCOUNTSPAYABLECLERK", "VENDINVOICEACCOUNTSPAYABLEMANAGER"],
          severity: "error",
        },
      ],
    },
    // A first run changes every user: the guards would (rightly) stop it.
    guards: {
      maxUsersChanged: limit,
      maxUsersRemoved: limit,
      maxRoleChanges: limit,
      maxLicenseChanges: limit,
    },
  };
  return { doc, users };
}

/**
 * Gives 1% of the users (at least one, spread over the list) a new F&O role restricted to a
 * legal entity and, where they have Dataverse, a new Dataverse role. Returns how many
 * resources should update.
 */
function editOnePercent(users: GeneratedUser[], env: string): number {
  const k = Math.max(1, Math.round(users.length / 100));
  const stride = Math.floor(users.length / k);
  let updates = 0;
  for (let j = 0; j < k; j++) {
    const user = users[j * stride] as GeneratedUser;
    const fno = user.fno?.[env] ?? { roles: [] };
    fno.roles.push({ role: "LEDGERACCOUNTINGSUPERVISOR", legalEntities: ["GBSI"] });
    user.fno = { ...user.fno, [env]: fno };
    updates++;
    if (!user.personas.includes("warehouse")) {
      const dv = user.dataverse?.[env] ?? {};
      dv.roles = [...(dv.roles ?? []), "Delegate"];
      user.dataverse = { ...user.dataverse, [env]: dv };
      updates++;
    }
  }
  return updates;
}

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
      "sandbox.json",
    );
    const stateLine = (when: string) => {
      const bytes = statSync(stateFile).size;
      const resources =
        (
          JSON.parse(readFileSync(stateFile, "utf8")) as {
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
