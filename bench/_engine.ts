/**
 * What bench/engine.ts and bench/perf.ts share (the leading underscore keeps `npm run bench`
 * from running this file on its own): running `d365-access` with its cost measured, reading
 * the engine's summary, and generating users.yaml files of any size.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import process from "node:process";

const GNU_TIME = "/usr/bin/time";
const PAGE = 4096;

/** What one CLI run cost. */
export interface Run {
  code: number;
  output: string;
  ms: number;
  /** Peak RSS of the largest process in the tree, in KiB (GNU time's %M; undefined without it). */
  rssKiB?: number;
  /** Peak of the summed RSS of the CLI and every descendant (engine, plugins), in KiB (sampled every 200 ms). */
  treeRssKiB: number;
  /** Bytes the tree wrote to storage (GNU time's %O, 512-byte blocks; undefined without it). */
  writtenBytes?: number;
  timedOut: boolean;
}

/** Options of {@link cli}. */
export interface CliOptions {
  /** Stack name; default `sandbox`. */
  stack?: string;
  /** Environment on top of the cleaned-up one (undefined removes a variable). */
  env?: Record<string, string | undefined>;
  /** When to stop the run (epoch ms). */
  deadline: number;
}

/**
 * Summed RSS (KiB) of `root` and all its descendants, from /proc. By parent, not by process
 * group: the engine starts its plugins (the dynamic-provider process) in groups of their own.
 */
function sumTreeRssKiB(root: number): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command name (which may hold spaces) start at ") ": state, ppid, …
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const pid = Number(entry);
      const ppid = Number(fields[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
      rss.set(pid, Number(readFileSync(`/proc/${entry}/statm`, "utf8").split(" ")[1]));
    } catch {
      // the process ended between the listing and the read
    }
  }
  let pages = 0;
  const todo = [root];
  while (todo.length) {
    const pid = todo.pop() as number;
    pages += rss.get(pid) ?? 0;
    todo.push(...(children.get(pid) ?? []));
  }
  return (pages * PAGE) / 1024;
}

/**
 * Runs `d365-access <args>` in the project `dir` under GNU time, in its own process group (so
 * the deadline can stop the CLI's own processes; the sampler follows every descendant), with the harness's
 * environment clean-up.
 */
export function cli(dir: string, args: string[], options: CliOptions): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.D365_ACCESS_ROOT;
  delete env.PULUMI_BACKEND_URL;
  delete env.PULUMI_CONFIG_PASSPHRASE;
  delete env.NODE_TEST_CONTEXT;
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const command = [
    path.join(dir, "bin", "d365-access"),
    ...args,
    "--stack",
    options.stack ?? "sandbox",
    "--color",
    "never",
  ];
  const statsFile = path.join(dir, ".bench-time");
  rmSync(statsFile, { force: true });
  const timed = existsSync(GNU_TIME);
  const [file, ...argv] = timed ? [GNU_TIME, "-f", "%M %O", "-o", statsFile, ...command] : command;
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(file as string, argv, { cwd: dir, env, detached: true });
    let output = "";
    const collect = (c: Buffer) => {
      output += c.toString("utf8");
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    let treeRssKiB = 0;
    const sampler = setInterval(() => {
      if (child.pid) treeRssKiB = Math.max(treeRssKiB, sumTreeRssKiB(child.pid));
    }, 200);
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
      Math.max(options.deadline - Date.now(), 1),
    );
    child.on("close", (code) => {
      clearTimeout(timer);
      clearInterval(sampler);
      const ms = performance.now() - t0;
      const run: Run = { code: code ?? 1, output, ms, timedOut, treeRssKiB };
      if (timed && existsSync(statsFile)) {
        // GNU time writes "Command exited with non-zero status N" before the figures on failure.
        const last = readFileSync(statsFile, "utf8").trim().split("\n").pop() ?? "";
        const m = /^(\d+) (\d+)$/.exec(last);
        if (m) {
          run.rssKiB = Number(m[1]);
          run.writtenBytes = Number(m[2]) * 512;
        }
      }
      resolve(run);
    });
  });
}

/** The engine's `Resources:` summary, e.g. `{ total: 901, text: "+ 900 created, 1 unchanged" }`. */
export function summary(output: string): { total: number; text: string; counts: Map<string, number> } {
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
export function unchanged(output: string): number {
  return summary(output).counts.get("unchanged") ?? 0;
}

/** The last lines of a run's output, warnings left out, for a failure message. */
export function tail(run: Run, lines = 40): string {
  return run.output
    .trimEnd()
    .split("\n")
    .filter((l) => !/^\s*\S+:\d+:\d+: warning: /.test(l))
    .slice(-lines)
    .join("\n");
}

// ---------------------------------------------------------------------------- users.yaml --

interface FnoRole {
  role: string;
  legalEntities: string[];
}
export interface GeneratedUser {
  upn: string;
  displayName: string;
  usageLocation?: string;
  manage?: "adopt" | "create";
  enabled?: boolean;
  personas: string[];
  licenses?: string[];
  dataverse?: Record<string, { businessUnit?: string; roles?: string[] }>;
  fno?: Record<string, { userId?: string; company?: string; roles: (string | FnoRole)[] }>;
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
 * Licenses: every user holds one (Finance, Team Members or Operations Activity); the caller
 * raises the seats to fit, so the run creates Dataverse users wherever a real tenant would.
 * Warehouse workers hold the Activity license, which has no Dataverse plan: F&O access only, as
 * in real tenants. A quarter of the users get an extra F&O role restricted to legal entities,
 * every fifth finance user an extra Dataverse role, every seventh sits in Germany (business
 * unit and company of the Europe entity).
 */
export function generateUsers(
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
  const doc = {
    ...benchDocument(domain, env, n),
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
  };
  return { doc, users };
}

/** The parts of a benchmark users.yaml that do not depend on its users. */
export function benchDocument(domain: string, env: string, users: number): Record<string, unknown> {
  const limit = Math.max(users, 1) * 10;
  return {
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
    // A first run changes every user: the guards would (rightly) stop it.
    guards: {
      maxUsersChanged: limit,
      maxUsersRemoved: limit,
      maxRoleChanges: limit,
      maxLicenseChanges: limit,
    },
  };
}

/**
 * Gives 1% of the users (at least one, spread over the list) a new F&O role restricted to a
 * legal entity and, where they have Dataverse, a new Dataverse role. Returns how many
 * resources should update.
 */
export function editOnePercent(users: GeneratedUser[], env: string): number {
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
