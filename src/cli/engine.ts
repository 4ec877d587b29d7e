/**
 * `d365-access preview|up|refresh|destroy`: the Pulumi operations on the project's program,
 * with the engine's own output streamed as it comes, so a reviewer sees what `pulumi preview`
 * prints. Options mirror the pulumi CLI's.
 */

import path from "node:path";
import process from "node:process";
import { createInterface } from "node:readline/promises";
import type { PulumiFn } from "@pulumi/pulumi/automation/index.js";
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
import { openStack, projectRoot, UsageError } from "../engine/stack.ts";
import { defineCommand, oneOf } from "./command.ts";

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
} as const;

const HELP_LINES = [
  "  -s, --stack <name>       stack to use (default: sandbox); its config is stacks/Pulumi.<name>.yaml",
  "  -y, --yes                apply without asking (up, destroy, refresh)",
  "      --diff               show a detailed diff of every change",
  "  -r, --refresh            read the live state first, so drift is shown and undone (preview, up, destroy)",
  "  -p, --parallel <n>       at most n resource operations at once (default: the engine's)",
  "      --expect-no-changes  fail if the operation would change anything (preview, up, refresh)",
  "      --skip-checkpoints   write the state once at the end, not after every step (up, destroy):",
  "                           much faster for large changes on a file or azblob backend, but a crash",
  '                           mid-run loses the run\'s record (see README, "Large tenants")',
  "      --color <mode>       always | never | raw | auto (default)",
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
  setAppliedDeployment?: (deployment: unknown) => void;
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

  let streamed = "";
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
    const skipCheckpoints =
      values["skip-checkpoints"] || /^(1|true)$/i.test(process.env.PULUMI_SKIP_CHECKPOINTS ?? "");
    const stack = await retryBackendRead(() =>
      openStack({
        root,
        stack: values.stack,
        program: mod.program,
        // reference/pulumi.md §3.4: the file backend rewrites the whole state after every step.
        ...(values["skip-checkpoints"] ? { env: { PULUMI_SKIP_CHECKPOINTS: "true" } } : {}),
      }),
    );
    const exported = await retryBackendRead(() => stack.exportStack());
    // The program compares the declared change with what was applied (users.yaml guards).
    if (mod.setAppliedDeployment && (operation === "preview" || operation === "up")) {
      mod.setAppliedDeployment(exported.deployment);
    }
    // What an interrupted run had in flight, for the providers (src/engine/recovery.ts).
    const identityType = SYSTEMS[0].resourceType;
    Object.assign(stack.workspace.envVars, inFlightEnvironment(exported.deployment, identityType));
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
      process.stdout.write(out);
    };
    const common = { onOutput, color, ...(parallel ? { parallel } : {}) };
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
          if (!(await confirm("Do you want to perform this update?"))) return 1;
        }
        await stack.up({
          ...common,
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
          if (!(await confirm("Do you want to destroy (revoke) everything this stack manages?"))) return 1;
        }
        await stack.destroy({ ...common, refresh: values.refresh });
        break;
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`d365-access ${operation}: ${err.message}\n`);
      return 2;
    }
    // The engine has already streamed its diagnostics; add one line saying what failed.
    const name = (err as Error)?.name ?? "Error";
    const commandResult = (err as { commandResult?: { code?: number; stderr?: string } }).commandResult;
    // Its stderr repeats the streamed output after the internal command line; print only what
    // the user has not seen yet (e.g. a backend or stack selection error).
    const seen = new Set(streamed.split("\n").map((line) => line.trim()));
    const unseen = (commandResult?.stderr ?? "")
      .split("\n")
      .filter(
        (line) => line.trim() && !seen.has(line.trim()) && !line.startsWith("Command failed with exit code"),
      );
    if (unseen.length) process.stderr.write(`${unseen.join("\n")}\n`);
    process.stderr.write(
      `d365-access ${operation} failed (${name}${commandResult?.code !== undefined ? `, pulumi exit ${commandResult.code}` : ""})\n`,
    );
    if (!commandResult) process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}
