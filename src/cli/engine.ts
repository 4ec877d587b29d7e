/**
 * `d365-access preview|up|refresh|destroy`: the Pulumi operations on the project's program,
 * with the engine's own output streamed as it comes, so a reviewer sees what `pulumi preview`
 * prints. Options mirror the pulumi CLI's.
 */

import path from "node:path";
import process from "node:process";
import { createInterface } from "node:readline/promises";
import type { PulumiFn, Stack } from "@pulumi/pulumi/automation/index.js";
import { errorLine } from "../../providers/core/provider.ts";
import { SYSTEMS } from "../../providers/registry.ts";
import {
  describeInterruption,
  inFlightEnvironment,
  inFlightFromPending,
  inspect,
  needsRecovery,
  retryBackendRead,
  withInFlight,
} from "../engine/recovery.ts";
import { checkpointChoice, openStack, projectRoot, UsageError } from "../engine/stack.ts";
import { loadDesiredState } from "../model/index.ts";
import {
  appliedResources,
  declaredResources,
  OVERRIDE_VARIABLE,
  overridden,
  resourceChanges,
} from "../program/guards.ts";
import { defineCommand, oneOf } from "./command.ts";
import { type EngineError, engineOutput, errorSummary } from "./output.ts";

export type Operation = "preview" | "up" | "refresh" | "destroy";

const HELP: Record<Operation, string> = {
  preview: "Show the changes `up` would make to Entra, Dataverse and F&O.",
  up: "Apply users.yaml: create, update and revoke so the systems match it.",
  refresh: "Read the live state of every managed user into the stack state (no program run).",
  destroy:
    "Revoke everything the stack granted; users are disabled, never hard-deleted unless users.yaml says so.",
};

const OPTIONS = {
  stack: { type: "string", short: "s", default: "sandbox" },
  yes: { type: "boolean", short: "y", default: false },
  diff: { type: "boolean", default: false },
  refresh: { type: "boolean", short: "r", default: false },
  parallel: { type: "string", short: "p" },
  program: { type: "string" },
  "expect-no-changes": { type: "boolean", default: false },
  "skip-checkpoints": { type: "boolean", default: false },
  color: { type: "string", default: "auto" },
  "override-guards": { type: "boolean", default: false },
  create: { type: "boolean", default: false },
  "continue-on-error": { type: "boolean", default: false },
  verbose: { type: "boolean", short: "v", default: false },
} as const;

const HELP_LINES = [
  "  -s, --stack <name>       stack to use (default: sandbox); its config is stacks/Pulumi.<name>.yaml",
  "  -y, --yes                apply without asking (up, destroy, refresh)",
  "      --diff               show a detailed diff of every change",
  "  -r, --refresh            read the live state first, so drift is shown and undone (preview, up, destroy)",
  "  -p, --parallel <n>       at most n resource operations at once (default: the engine's)",
  "      --expect-no-changes  fail if the operation would change anything (preview, up, refresh)",
  "      --skip-checkpoints   write the state once at the end, not after every step (up, destroy);",
  "                           the default from 200 resource changes (the threshold is an",
  "                           environment variable),",
  '                           much faster on a file or azblob backend (see README, "Large tenants")',
  "      --color <mode>       always | never | raw | auto (default)",
  "      --override-guards    let this one run exceed the guards (preview, up, destroy); CI: set",
  `                           ${OVERRIDE_VARIABLE}=1 for that run (docs/users-yaml.md#guards)`,
  "      --create             create the stack if it does not exist (preview, up); without it an unknown",
  "                           --stack is refused (a stack with a stacks/Pulumi.<name>.yaml is known)",
  "      --continue-on-error  keep applying what does not depend on a failed resource (up, destroy)",
  "  -v, --verbose            show the engine's output as it comes and stack traces of errors",
  "      --program <module>   program module relative to the project root (default: src/program/index.ts)",
];

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^(y|yes)$/i.test((await rl.question(`${question} [yes/no] `)).trim());
  } finally {
    rl.close();
  }
}

/** A program module: `program`, and optionally the hook that receives the previous deployment. */
interface ProgramModule {
  program: PulumiFn;
  setAppliedDeployment?: (deployment: unknown, options?: { refresh?: boolean }) => void;
  /** Why destroying the exported deployment is refused (users.yaml guards), if it is. */
  destroyRefusal?: (deployment: unknown) => string | undefined;
}

/** Loads the program module. */
async function loadProgram(root: string, modulePath: string): Promise<ProgramModule> {
  const file = path.resolve(root, modulePath);
  const mod = (await import(file)) as Partial<ProgramModule>;
  if (typeof mod.program !== "function") {
    throw new UsageError(`${modulePath} does not export a \`program\` function`);
  }
  return mod as ProgramModule;
}

/**
 * Resource changes the run should make, from declarations: for `destroy` every resource the
 * stack holds, for `up` what users.yaml (the stack's `usersFiles`) changes against the state.
 * 0 when users.yaml does not load: the program then reports its errors.
 */
async function expectedChanges(
  operation: "up" | "destroy",
  stack: Stack,
  deployment: unknown,
  root: string,
): Promise<number> {
  const applied = appliedResources(deployment);
  if (operation === "destroy") return applied.length;
  const config = await stack.getAllConfig();
  const list = config["d365-access:usersFiles"]?.value;
  const files = list
    ? (JSON.parse(list) as string[])
    : [config["d365-access:usersFile"]?.value ?? "users.yaml"];
  const { state } = loadDesiredState(files, { cwd: root });
  return state ? resourceChanges(applied, declaredResources(state)) : 0;
}

/** Runs `d365-access <operation> [options]`; resolves to the exit code. */
export function run(operation: Operation, argv: string[], root = projectRoot()): Promise<number> {
  return defineCommand({
    name: operation,
    synopsis: "[options]",
    description: HELP[operation],
    options: OPTIONS,
    help: HELP_LINES,
    run: ({ values }) => operate(operation, values, root),
  })(argv);
}

type Values = Parameters<Parameters<typeof defineCommand<typeof OPTIONS>>[0]["run"]>[0]["values"];

async function operate(operation: Operation, values: Values, root: string): Promise<number> {
  const parallel = values.parallel === undefined ? undefined : Number(values.parallel);
  if (parallel !== undefined && !(Number.isInteger(parallel) && parallel > 0))
    throw new UsageError(`--parallel must be a positive integer, got "${values.parallel}"`);
  const color = oneOf("color", values.color, ["always", "never", "raw", "auto"] as const);
  const needsConsent = operation === "up" || operation === "destroy";
  if (needsConsent && !values.yes && !process.stdin.isTTY)
    throw new UsageError(`not interactive; pass --yes to ${operation} without a prompt`);

  const verbose = values.verbose || Boolean(process.env.D365_ACCESS_VERBOSE);
  // The program runs in this process: it keeps raw errors (with stacks) only when verbose.
  if (verbose) process.env.D365_ACCESS_VERBOSE = "1";
  let streamed = "";
  const output = engineOutput((text) => process.stdout.write(text), { verbose });
  try {
    // The engine and the SDK resolve the program's relative paths against the working directory.
    process.chdir(root);
    // An interrupted run (stale lock, pending operations, truncated metadata) is said first.
    const interruption = inspect(root, values.stack);
    if (needsRecovery(interruption) || interruption.locks.length > 0) {
      process.stderr.write(
        `d365-access ${operation}: stopped before running the engine:\n  ${describeInterruption(interruption, values.stack).join("\n  ")}\n`,
      );
      return 1;
    }
    const mod = await loadProgram(root, values.program ?? "src/program/index.ts");
    const stack = await retryBackendRead(() =>
      openStack({
        root,
        stack: values.stack,
        program: mod.program,
        create: values.create,
        canCreate: operation === "preview" || operation === "up",
      }),
    );
    const exported = await retryBackendRead(() => stack.exportStack());
    const deployment = operation === "refresh" ? undefined : exported.deployment;
    // The program compares the declared change with what was applied (users.yaml guards);
    // destroy runs no program, so its guard is checked here.
    if (values["override-guards"]) process.env[OVERRIDE_VARIABLE] = "1";
    if (deployment !== undefined) {
      mod.setAppliedDeployment?.(deployment, { refresh: values.refresh });
      const refusal = operation === "destroy" ? mod.destroyRefusal?.(deployment) : undefined;
      if (refusal && !overridden()) {
        process.stderr.write(`d365-access destroy: ${refusal}\n`);
        return 1;
      }
      if (refusal)
        process.stderr.write(`d365-access destroy: guards overridden for this run (${OVERRIDE_VARIABLE})\n`);
    }
    // What an interrupted run had in flight, for the providers (src/engine/recovery.ts).
    const identityType = SYSTEMS[0].resourceType;
    Object.assign(stack.workspace.envVars, inFlightEnvironment(exported.deployment, identityType));
    let skipCheckpoints = /^(1|true)$/i.test(process.env.PULUMI_SKIP_CHECKPOINTS ?? "");
    if (operation === "up" || operation === "destroy") {
      // The file and azblob backends rewrite the whole state after every step: a large run
      // writes it once, at the end (src/engine/stack.ts `checkpointChoice`).
      const changes = await expectedChanges(operation, stack, deployment, root);
      const choice = checkpointChoice(changes, values["skip-checkpoints"]);
      if (choice.skip) {
        stack.workspace.envVars.PULUMI_SKIP_CHECKPOINTS = "true";
        process.stdout.write(`d365-access: ${choice.note}\n`);
        skipCheckpoints = true;
      }
    }
    if (operation === "up" && skipCheckpoints) {
      // Nothing is written until the end: record that this run started, for the next one.
      const record = {
        ...inFlightFromPending(exported.deployment, identityType),
        since: new Date().toISOString(),
      };
      await stack.importStack({
        ...exported,
        deployment: withInFlight(exported.deployment, record, values.stack),
      });
    }
    const onOutput = (out: string) => {
      streamed += out;
      output.write(out);
    };
    const common = { onOutput, color, ...(parallel ? { parallel } : {}) };
    const continueOnError = values["continue-on-error"] ? { continueOnError: true } : {};
    switch (operation) {
      case "preview":
        await stack.preview({
          ...common,
          diff: values.diff,
          refresh: values.refresh,
          expectNoChanges: values["expect-no-changes"],
        });
        break;
      case "up":
        if (!values.yes) {
          await stack.preview({ ...common, diff: values.diff, refresh: values.refresh });
          output.end();
          if (!(await confirm("Do you want to perform this update?"))) return 1;
        }
        await stack.up({
          ...common,
          ...continueOnError,
          diff: values.diff,
          refresh: values.refresh,
          expectNoChanges: values["expect-no-changes"],
        });
        break;
      case "refresh":
        await stack.refresh({ ...common, expectNoChanges: values["expect-no-changes"] });
        break;
      case "destroy":
        if (!values.yes) {
          await stack.preview({ ...common, diff: values.diff });
          output.end();
          if (!(await confirm("Do you want to destroy (revoke) everything this stack manages?"))) return 1;
        }
        await stack.destroy({ ...common, ...continueOnError, refresh: values.refresh });
        break;
    }
    output.end();
    return 0;
  } catch (err) {
    output.end();
    if (err instanceof UsageError) {
      process.stderr.write(`d365-access ${operation}: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(failureText(operation, err, output.errors, streamed, verbose));
    return 1;
  }
}

/**
 * What `d365-access <operation>` prints when the operation failed: each error the engine
 * reported, once (output.ts), else what the engine said on stderr that was not streamed (a
 * backend or lock problem), else the error itself; a stack trace only when verbose.
 */
function failureText(
  operation: Operation,
  err: unknown,
  errors: EngineError[],
  streamed: string,
  verbose: boolean,
): string {
  const commandResult = (err as { commandResult?: { code?: number; stderr?: string } }).commandResult;
  let lines = errorSummary(errors);
  if (lines.length === 0 && commandResult) {
    // Its stderr repeats the streamed output after the internal command line.
    const seen = new Set(streamed.split("\n").map((line) => line.trim()));
    lines = (commandResult.stderr ?? "")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line && !seen.has(line) && !line.startsWith("Command failed with exit code"))
      .map((line) => line.replace(/^error:\s*/, ""));
    if (!verbose) lines = lines.slice(0, 1);
  }
  if (lines.length === 0) lines = [errorLine(err)];
  const trace = verbose && !commandResult ? `${(err as Error)?.stack ?? String(err)}\n` : "";
  const title = `d365-access ${operation} failed`;
  const indent = (line: string) => line.replace(/\n/g, "\n  ");
  if (lines.length === 1) return `${title}: ${indent(lines[0] ?? "")}\n${trace}`;
  return `${title}: ${lines.length} errors\n${lines.map((l) => `  ${indent(l)}`).join("\n")}\n${trace}`;
}
