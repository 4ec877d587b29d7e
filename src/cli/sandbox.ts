/**
 * `d365-access sandbox start|stop|status|reset`: runs the local emulator of the Microsoft APIs
 * in the background, on stable ports, with its CA, state and endpoints under `.sandbox/`.
 */
import { spawn } from "node:child_process";
import { chmodSync, existsSync, openSync, readFileSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { type FaultUpdate, parseFaultSpec } from "../../sandbox/core/faults.ts";
import type { SandboxEndpoints } from "../../sandbox/core/types.ts";
import { alive } from "../engine/recovery.ts";
import { defineCommand, UsageError } from "./command.ts";
import { busyPorts } from "./ports.ts";

const DESCRIPTION = `Runs the local emulator of the Microsoft APIs.

commands:
  start   start the sandbox in the background and print its endpoints
  stop    stop the background sandbox (state is kept)
  status  say whether it runs, and print its endpoints
  reset   restore the tenant's seed`;

const OPTIONS = {
  "state-dir": { type: "string" },
  "port-base": { type: "string" },
  latency: { type: "string" },
  jitter: { type: "string" },
  faults: { type: "string" },
  "sync-delay": { type: "string" },
  seed: { type: "string" },
  foreground: { type: "boolean", default: false },
} as const;

const HELP = [
  "      --state-dir <dir>    where the CA, state and endpoints.json live (default: ./.sandbox)",
  "      --port-base <n>      listen on N (admin), N+1 (sign-in), N+2 (Graph), N+3 (Power Platform),",
  "                           N+10.. (Dataverse, F&O per environment); default 47300, or the last",
  "                           --port-base given for this state dir (kept in <state-dir>/port-base)",
  "  start only:",
  "      --latency <ms>       fixed latency added to every API response",
  "      --jitter <ms>        random extra latency 0..MS",
  "      --faults <spec>      rates of injected 429 (with Retry-After) and 503, e.g. 429=0.2,503=0.05",
  "      --sync-delay <s>     seconds before a licensed Entra user appears in Dataverse",
  "      --seed <name>        demo | lived-in: which tenant to seed (default: the state's own, else lived-in)",
  "      --foreground         run in this process (Ctrl-C stops it)",
];

interface Parsed {
  command: string;
  stateDir: string;
  foreground: boolean;
  portBase: number | undefined;
  /** Whether --port-base was given (it is then remembered for the next start). */
  portBaseGiven: boolean;
  faults: FaultUpdate;
  /** The options to hand to a background process, as given. */
  seed?: "demo" | "lived-in";
  passthrough: string[];
}

function parse(values: Record<string, string | boolean | undefined>, positionals: string[]): Parsed {
  const [command, ...extra] = positionals;
  if (!command) throw new UsageError("a command is required: start, stop, status or reset");
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
  const text = (key: keyof typeof OPTIONS): string | undefined => values[key] as string | undefined;
  const number = (key: keyof typeof OPTIONS): number | undefined => {
    const v = text(key);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0)
      throw new UsageError(`--${key} needs a non-negative number, got '${v}'`);
    return n;
  };
  const stateDir = resolve(text("state-dir") ?? process.env.D365_SANDBOX_DIR ?? ".sandbox");
  const given = text("port-base");
  const portBase = given === undefined ? rememberedPortBase(stateDir) : Number(given);
  if (portBase !== undefined && (!Number.isInteger(portBase) || portBase < 1024 || portBase > 65500))
    throw new UsageError("--port-base needs a port number 1024..65500");
  const faults: FaultUpdate = {};
  const latency = number("latency");
  if (latency !== undefined) faults.latencyMs = latency;
  const jitter = number("jitter");
  if (jitter !== undefined) faults.jitterMs = jitter;
  const spec = text("faults");
  if (spec !== undefined) {
    try {
      Object.assign(faults, parseFaultSpec(spec));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const sync = number("sync-delay");
  if (sync !== undefined) faults.syncDelaySeconds = sync;
  const seed = text("seed");
  if (seed !== undefined && seed !== "demo" && seed !== "lived-in")
    throw new UsageError(`--seed needs demo or lived-in, got '${seed}'`);
  const passthrough = (
    ["state-dir", "port-base", "latency", "jitter", "faults", "sync-delay", "seed"] as const
  ).flatMap((key) => (text(key) === undefined ? [] : [`--${key}`, text(key) as string]));
  return {
    command,
    stateDir,
    portBaseGiven: given !== undefined,
    foreground: values.foreground === true,
    portBase,
    faults,
    ...(seed ? { seed } : {}),
    passthrough,
  };
}

const pidPath = (dir: string) => join(dir, "sandbox.pid");
/** The last --port-base, kept next to the state so the next `sandbox start` or `demo` uses it. */
const portBasePath = (dir: string) => join(dir, "port-base");

function rememberedPortBase(dir: string): number | undefined {
  try {
    const n = Number(readFileSync(portBasePath(dir), "utf8").trim());
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}
const endpointsPath = (dir: string) => join(dir, "endpoints.json");

async function runningPid(dir: string): Promise<number | undefined> {
  if (!existsSync(pidPath(dir))) return undefined;
  const pid = Number((await readFile(pidPath(dir), "utf8")).trim());
  return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
}

async function readEndpoints(dir: string): Promise<SandboxEndpoints | undefined> {
  try {
    return JSON.parse(await readFile(endpointsPath(dir), "utf8")) as SandboxEndpoints;
  } catch {
    return undefined;
  }
}

/** One request to the admin API, trusting the sandbox CA. */
function admin(
  endpoints: SandboxEndpoints,
  method: string,
  path: string,
): Promise<{ status: number; text: string }> {
  const ca = readFileSync(endpoints.caCertPath, "utf8");
  return new Promise((done, fail) => {
    const req = request(`${endpoints.adminUrl}${path}`, { method, ca, timeout: 3000 }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => {
        text += c.toString("utf8");
      });
      res.on("end", () => done({ status: res.statusCode ?? 0, text }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", fail);
    req.end();
  });
}

async function healthy(dir: string, pid: number): Promise<SandboxEndpoints | undefined> {
  const endpoints = await readEndpoints(dir);
  if (!endpoints) return undefined;
  try {
    const res = await admin(endpoints, "GET", "/health");
    return res.status === 200 && (JSON.parse(res.text) as { pid?: number }).pid === pid
      ? endpoints
      : undefined;
  } catch {
    return undefined;
  }
}

/** The endpoints as printed (also into sandbox.log): the client secret stays in endpoints.json. */
function describe(endpoints: SandboxEndpoints): string {
  const shown = { ...endpoints, clientSecret: "(see endpoints.json)" };
  return `${JSON.stringify(shown, null, 2)}\n\nTrust the sandbox CA in Node clients with:\n  export NODE_EXTRA_CA_CERTS=${endpoints.caCertPath}\n`;
}

async function foreground(parsed: Parsed): Promise<number> {
  const { stablePorts, startSandbox } = await import("../../sandbox/index.ts");
  const sandbox = await startSandbox({
    stateDir: parsed.stateDir,
    ports: stablePorts(parsed.portBase),
    faults: parsed.faults,
    ...(parsed.seed ? { seed: parsed.seed } : {}),
  });
  await writeFile(pidPath(parsed.stateDir), `${process.pid}\n`, { mode: 0o600 });
  process.stdout.write(`sandbox running (pid ${process.pid})\n${describe(sandbox.endpoints)}`);
  await new Promise<void>((done) => {
    const stop = () => done();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  await sandbox.close();
  if ((await readFile(pidPath(parsed.stateDir), "utf8").catch(() => "")).trim() === String(process.pid)) {
    await rm(pidPath(parsed.stateDir), { force: true });
  }
  process.stdout.write("sandbox stopped\n");
  return 0;
}

async function start(parsed: Parsed): Promise<number> {
  const existing = await runningPid(parsed.stateDir);
  if (existing !== undefined) {
    const endpoints = await healthy(parsed.stateDir, existing);
    process.stdout.write(
      `sandbox already running (pid ${existing})\n${endpoints ? describe(endpoints) : ""}`,
    );
    return 0;
  }
  if (parsed.foreground) return foreground(parsed);
  const { mkdir } = await import("node:fs/promises");
  await mkdir(parsed.stateDir, { recursive: true, mode: 0o700 });
  if (parsed.portBaseGiven) await writeFile(portBasePath(parsed.stateDir), `${parsed.portBase}\n`);
  const { stablePorts } = await import("../../sandbox/index.ts");
  const busy = await busyPorts(stablePorts(parsed.portBase));
  if (busy.length) {
    process.stderr.write(
      `sandbox: cannot start: ${busy.join("; ")}. Stop that sandbox (\`npm run sandbox stop\` in its checkout) or choose other ports with --port-base N (remembered for the next start)\n`,
    );
    return 1;
  }
  const logFile = join(parsed.stateDir, "sandbox.log");
  const out = openSync(logFile, "a", 0o600);
  chmodSync(logFile, 0o600);
  const main = fileURLToPath(new URL("./main.ts", import.meta.url));
  const child = spawn(process.execPath, [main, "sandbox", "start", "--foreground", ...parsed.passthrough], {
    detached: true,
    stdio: ["ignore", out, out],
    env: { ...process.env, D365_SANDBOX_DIR: parsed.stateDir },
  });
  const pid = child.pid;
  child.unref();
  if (pid === undefined) {
    process.stderr.write(`sandbox: could not start a background process; see ${logFile}\n`);
    return 1;
  }
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (!alive(pid)) break;
    const endpoints = await healthy(parsed.stateDir, pid);
    if (endpoints) {
      process.stdout.write(`sandbox started (pid ${pid}); log: ${logFile}\n${describe(endpoints)}`);
      return 0;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  process.stderr.write(`sandbox: did not become healthy; see ${logFile}\n`);
  if (alive(pid)) process.kill(pid, "SIGTERM");
  return 1;
}

async function stop(parsed: Parsed): Promise<number> {
  const pid = await runningPid(parsed.stateDir);
  if (pid === undefined) {
    await rm(pidPath(parsed.stateDir), { force: true });
    process.stdout.write("sandbox is not running\n");
    return 0;
  }
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + 15_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) {
    process.stderr.write(`sandbox: pid ${pid} did not stop within 15 s\n`);
    return 1;
  }
  await rm(pidPath(parsed.stateDir), { force: true });
  process.stdout.write(`sandbox stopped (pid ${pid}); state kept in ${parsed.stateDir}\n`);
  return 0;
}

async function status(parsed: Parsed): Promise<number> {
  const pid = await runningPid(parsed.stateDir);
  const endpoints = pid === undefined ? undefined : await healthy(parsed.stateDir, pid);
  if (pid === undefined || !endpoints) {
    process.stdout.write(
      pid === undefined ? "sandbox is not running\n" : `sandbox process ${pid} is not answering\n`,
    );
    return 1;
  }
  process.stdout.write(`sandbox running (pid ${pid})\n${describe(endpoints)}`);
  return 0;
}

async function reset(parsed: Parsed): Promise<number> {
  const pid = await runningPid(parsed.stateDir);
  const endpoints = pid === undefined ? undefined : await healthy(parsed.stateDir, pid);
  if (endpoints) {
    const res = await admin(endpoints, "POST", "/reset");
    if (res.status !== 200) {
      process.stderr.write(`sandbox: reset failed (${res.status}): ${res.text}\n`);
      return 1;
    }
    process.stdout.write("sandbox reset to its seed\n");
    return 0;
  }
  // Not running: dropping the state file makes the next start seed afresh (CA and keys are kept).
  await rm(join(parsed.stateDir, "state.json"), { force: true });
  process.stdout.write("sandbox state cleared; the next start seeds afresh\n");
  return 0;
}

/** Runs `d365-access sandbox …`; resolves to the exit code (0 ok, 1 failure, 2 usage). */
export const run = defineCommand({
  name: "sandbox",
  synopsis: "<command> [options]",
  description: DESCRIPTION,
  options: OPTIONS,
  positionals: true,
  help: HELP,
  async run({ values, positionals }) {
    const parsed = parse(values, positionals);
    switch (parsed.command) {
      case "start":
        return start(parsed);
      case "stop":
        return stop(parsed);
      case "status":
        return status(parsed);
      case "reset":
        return reset(parsed);
      default:
        throw new UsageError(`unknown command '${parsed.command}'`);
    }
  },
});
