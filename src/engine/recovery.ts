/**
 * Interrupted runs (issue 16 items 1 and 2): what a killed `up` leaves in the file backend, how
 * `preview`/`up` say so, what `d365-access recover` repairs, and how the next run learns what the
 * killed one had in flight.
 *
 * What a SIGKILL leaves (pulumi v3.274, file backend, observed):
 * - a lock `.pulumi/locks/<org>/<project>/<stack>/<uuid>.json` holding the holder's `pid` and
 *   `hostname`; every later `up` refuses while it is there;
 * - with checkpoints (the default), `pending_operations` in the checkpoint: each operation the
 *   engine began and did not finish, with the full inputs (so a `creating` entra:User without an
 *   `objectId` input is a user the program did not find, being created). The engine keeps them
 *   until an import drops them (`pulumi stack import`, Automation `importStack`);
 * - without checkpoints (`--skip-checkpoints`), the state as it was before the run: nothing
 *   records the run at all. So before such a run d365-access writes `{since: <start time>}`
 *   under {@link IN_FLIGHT_OUTPUT} into the root Stack's outputs (export → import); a run that
 *   ends rewrites the root outputs and the key disappears, a killed one leaves it;
 * - rarely, a truncated or 0-byte `<stack>.json.attrs` (the blob library's metadata sidecar,
 *   written without an atomic rename), after which every command fails with
 *   "failed to load checkpoint: EOF". Concurrent readers hit the same window.
 *
 * `recover` turns pending operations into the same key (`creates`, `resources`) and drops them,
 * so one mechanism serves both modes: the program reads the key (people.ts) and the providers
 * the names in {@link IN_FLIGHT_ENV} (providers/core/inflight.ts): a user found that the killed
 * run was creating is recorded as created by d365-access, and declared roles found on a
 * resource it was writing as granted by it.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { IN_FLIGHT_ENV, IN_FLIGHT_OUTPUT, type InFlight } from "../../providers/core/inflight.ts";

export { IN_FLIGHT_ENV, IN_FLIGHT_OUTPUT, type InFlight };

/** The project name in Pulumi.yaml (kept here so this module needs no engine import). */
const PROJECT = "d365-access";
const ROOT_TYPE = "pulumi:pulumi:Stack";

/** The file backend's directory, or undefined for another backend (nothing to inspect here). */
export function backendDir(root: string): string | undefined {
  const url = process.env.PULUMI_BACKEND_URL || "file://./.pulumi-state";
  if (!url.startsWith("file://")) return undefined;
  const rest = url.slice("file://".length);
  if (rest.startsWith("~")) return path.join(process.env.HOME ?? "", rest.slice(1));
  return rest.startsWith("/") ? fileURLToPath(url) : path.resolve(root, rest);
}

/** One lock file and what we can tell about its holder. */
export interface StackLock {
  file: string;
  pid: number | undefined;
  hostname: string | undefined;
  timestamp: string | undefined;
  /** `gone`: same host, the process is dead; `running`: same host, alive; `elsewhere`: another host. */
  holder: "gone" | "running" | "elsewhere";
}

/** What the backend says about the last run of a stack. */
export interface Interruption {
  locks: StackLock[];
  /** Pending operations of the checkpoint: `creating entra:User nestor.wilke@…`. */
  pending: { type: string; resource: string; urn: string }[];
  /** A sidecar that cannot be read (0 bytes or not JSON). */
  brokenAttrs: string[];
  /** The run recorded in flight by an earlier recover or a skip-checkpoints run, if any. */
  inFlight: InFlight | undefined;
}

/**
 * Linux's state letter of a process from /proc/<pid>/stat (`Z` for a zombie), or undefined where
 * /proc does not say. Format: proc_pid_stat(5),
 * https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html ("pid (comm) state …").
 */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    return close < 0 ? undefined : stat.slice(close + 2, close + 3);
  } catch {
    return undefined;
  }
}

/**
 * Whether process `pid` runs on this machine (EPERM: it runs, as another user). A killed process
 * nobody has reaped is a zombie, which signal 0 still reaches: in a container whose first process
 * does not reap orphans (common in CI), a killed run's pulumi stays a zombie for good, and its
 * lock would otherwise read "still running" forever. A zombie is gone.
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const state = procState(pid);
  return state !== "Z" && state !== "X";
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

/** The stack's checkpoint file (project-scoped layout of the file backend). */
export function checkpointFile(dir: string, stack: string): string {
  return path.join(dir, ".pulumi", "stacks", PROJECT, `${stack}.json`);
}

/** The stack's lock files. */
export function stackLocks(dir: string, stack: string): StackLock[] {
  const here = hostname();
  return walk(path.join(dir, ".pulumi", "locks"))
    .filter((f) => f.endsWith(".json") && path.basename(path.dirname(f)) === stack)
    .filter((f) => path.basename(path.dirname(path.dirname(f))) === PROJECT)
    .map((file) => {
      let info: { pid?: unknown; hostname?: unknown; timestamp?: unknown } = {};
      try {
        info = JSON.parse(readFileSync(file, "utf8"));
      } catch {
        // A lock being written, or truncated: its holder is unknown, so it counts as elsewhere.
      }
      const pid = typeof info.pid === "number" ? info.pid : undefined;
      const host = typeof info.hostname === "string" ? info.hostname : undefined;
      const holder: StackLock["holder"] =
        host !== here || pid === undefined ? "elsewhere" : alive(pid) ? "running" : "gone";
      return {
        file,
        pid,
        hostname: host,
        timestamp: typeof info.timestamp === "string" ? info.timestamp : undefined,
        holder,
      };
    });
}

/** Whether a blob sidecar is readable (JSON object). */
function readableAttrs(file: string): boolean {
  try {
    const value = JSON.parse(readFileSync(file, "utf8"));
    return value !== null && typeof value === "object";
  } catch {
    return false;
  }
}

/** The `.attrs` sidecars of the stack's checkpoint and its backups that cannot be read. */
export function brokenAttrs(dir: string, stack: string): string[] {
  return walk(path.join(dir, ".pulumi"))
    .filter((f) => f.endsWith(".json.attrs") && path.basename(f).startsWith(`${stack}.`))
    .filter((f) => !readableAttrs(f));
}

/** A checkpoint's deployment as the backend stores it. */
interface StoredDeployment {
  resources?: { urn?: string; type?: string; outputs?: Record<string, unknown> }[];
  pending_operations?: { type?: string; resource?: { urn?: string; type?: string } }[];
}

/** The deployment in the checkpoint file, read without the engine (undefined when unreadable). */
function storedDeployment(dir: string, stack: string): StoredDeployment | undefined {
  try {
    const file = JSON.parse(readFileSync(checkpointFile(dir, stack), "utf8")) as {
      checkpoint?: { latest?: StoredDeployment };
    };
    return file.checkpoint?.latest;
  } catch {
    return undefined;
  }
}

const nameOfUrn = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
const typeOfUrn = (urn: string) => urn.split("::")[2]?.split("$").at(-1) ?? "";

/** The in-flight record of a deployment's root Stack outputs. */
export function inFlightOf(deployment: unknown): InFlight | undefined {
  const d = (deployment ?? {}) as StoredDeployment;
  const root = d.resources?.find((r) => r.type === ROOT_TYPE);
  const value = root?.outputs?.[IN_FLIGHT_OUTPUT];
  return value && typeof value === "object" && !Array.isArray(value) ? (value as InFlight) : undefined;
}

/** Everything the backend shows of an interrupted run of `stack` (nothing for other backends). */
export function inspect(root: string, stack: string): Interruption {
  const dir = backendDir(root);
  const none: Interruption = { locks: [], pending: [], brokenAttrs: [], inFlight: undefined };
  if (!dir) return none;
  const deployment = storedDeployment(dir, stack);
  return {
    locks: stackLocks(dir, stack),
    pending: (deployment?.pending_operations ?? []).flatMap((op) => {
      const urn = op.resource?.urn;
      return urn ? [{ type: op.type ?? "?", resource: `${typeOfUrn(urn)} ${nameOfUrn(urn)}`, urn }] : [];
    }),
    brokenAttrs: brokenAttrs(dir, stack),
    inFlight: inFlightOf(deployment),
  };
}

/** Whether anything needs `recover` before the engine runs. */
export function needsRecovery(i: Interruption): boolean {
  return i.locks.some((l) => l.holder !== "running") || i.pending.length > 0 || i.brokenAttrs.length > 0;
}

const holderText = (l: StackLock) =>
  `pid ${l.pid ?? "?"} on ${l.hostname ?? "an unknown host"}${l.timestamp ? `, since ${l.timestamp}` : ""}`;

/**
 * What happened and what to run, in plain words (printed by preview and up before they stop,
 * and by recover). Empty when the stack is fine.
 */
export function describeInterruption(i: Interruption, stack: string): string[] {
  const lines: string[] = [];
  const recover = `d365-access recover --stack ${stack}`;
  for (const l of i.locks) {
    if (l.holder === "running")
      lines.push(
        `another d365-access or pulumi run holds the lock of stack "${stack}" (${holderText(l)}, still running): wait for it to finish`,
      );
    else if (l.holder === "gone")
      lines.push(
        `an earlier run on this machine was interrupted (killed or crashed) and left the lock of stack "${stack}" (${holderText(l)}; that process is gone)`,
      );
    else
      lines.push(
        `the lock of stack "${stack}" is held by a run on another machine (${holderText(l)}). If that run has ended ` +
          "(its CI job finished, failed or was cancelled), and nothing else runs on the stack, run " +
          `\`${recover} --force\`; otherwise wait for it`,
      );
  }
  if (i.pending.length > 0) {
    lines.push(
      `the interrupted run left ${i.pending.length} operation(s) unfinished; they may or may not have reached the systems:`,
      ...i.pending.slice(0, 20).map((p) => `  ${p.type} ${p.resource}`),
      ...(i.pending.length > 20 ? [`  … and ${i.pending.length - 20} more`] : []),
    );
  }
  for (const f of i.brokenAttrs)
    lines.push(`the state file's metadata ${f} is truncated (a write was interrupted)`);
  if (needsRecovery(i)) {
    lines.push(
      `Nothing is lost. Run \`${recover}\`: it clears the stale lock, repairs the metadata and keeps a record of ` +
        "what was in flight; then `d365-access up` reads every system and finishes the work, recording users " +
        "and roles the interrupted run created or granted as d365-access's.",
    );
  }
  return lines;
}

/** Rewrites an unreadable `.attrs` sidecar from its blob (as the backend writes it: MD5 of the bytes). */
export function repairAttrs(file: string): void {
  const blob = file.slice(0, -".attrs".length);
  const md5 = existsSync(blob) ? createHash("md5").update(readFileSync(blob)).digest("base64") : "";
  const attrs = {
    "user.cache_control": "",
    "user.content_disposition": "",
    "user.content_encoding": "",
    "user.content_language": "",
    "user.content_type": "text/plain; charset=utf-8", // what the file backend writes for a checkpoint
    "user.metadata": null,
    md5,
  };
  writeFileSync(file, JSON.stringify(attrs), {
    mode: statSync(blob, { throwIfNoEntry: false })?.mode ?? 0o644,
  });
}

/** A deployment as exportStack returns it (the `deployment` part). */
interface Deployment {
  resources?: { urn?: string; type?: string; custom?: boolean; outputs?: Record<string, unknown> }[];
  pending_operations?: {
    type?: string;
    resource?: { urn?: string; type?: string; inputs?: Record<string, unknown> };
  }[];
  [key: string]: unknown;
}

/** The in-flight record a deployment implies: its key merged with its pending operations. */
export function inFlightFromPending(deployment: unknown, identityType: string): InFlight {
  const d = (deployment ?? {}) as Deployment;
  const before = inFlightOf(d) ?? {};
  const creates = new Set(before.creates ?? []);
  const resources = new Set(before.resources ?? []);
  for (const op of d.pending_operations ?? []) {
    const r = op.resource;
    if (!r?.urn) continue;
    resources.add(nameOfUrn(r.urn));
    if (op.type === "creating" && r.type === identityType && r.inputs?.objectId === undefined)
      creates.add(nameOfUrn(r.urn));
  }
  return {
    ...(before.since ? { since: before.since } : {}),
    creates: [...creates].sort(),
    resources: [...resources].sort(),
  };
}

/**
 * The deployment with `record` under {@link IN_FLIGHT_OUTPUT} in the root Stack's outputs and
 * without pending operations (import drops them anyway). A stack without resources gets its root.
 */
export function withInFlight(deployment: unknown, record: InFlight, stack: string): Deployment {
  const d = structuredClone((deployment ?? {}) as Deployment);
  d.resources ??= [];
  let root = d.resources.find((r) => r.type === ROOT_TYPE);
  if (!root) {
    root = {
      urn: `urn:pulumi:${stack}::${PROJECT}::${ROOT_TYPE}::${PROJECT}-${stack}`,
      custom: false,
      type: ROOT_TYPE,
    };
    d.resources.unshift(root);
  }
  root.outputs = { ...(root.outputs ?? {}), [IN_FLIGHT_OUTPUT]: record };
  delete d.pending_operations;
  return d;
}

/** The environment the providers read the in-flight names from (empty when nothing was in flight). */
export function inFlightEnvironment(deployment: unknown, identityType: string): Record<string, string> {
  const record = inFlightFromPending(deployment, identityType);
  if (!record.since && !record.creates?.length && !record.resources?.length) return {};
  return { [IN_FLIGHT_ENV]: JSON.stringify(record) };
}

/** Errors of the file backend that a retry clears (a reader racing a non-atomic write). */
const TRANSIENT_READ =
  /failed to load checkpoint|unexpected end of JSON input|: EOF\b|could not deserialize/i;

/** Runs a backend read, retrying its transient read errors (5 tries, 0.2–1.6 s apart). */
export async function retryBackendRead<T>(read: () => Promise<T>, tries = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (e) {
      const text = `${(e as Error)?.message ?? e} ${(e as { commandResult?: { stderr?: string } }).commandResult?.stderr ?? ""}`;
      if (attempt >= tries || !TRANSIENT_READ.test(text)) throw e;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
}
