/**
 * Runs the project's Pulumi program through the Automation API as an *inline program*.
 *
 * Why inline: the Node.js language host (`pulumi-language-nodejs`) cannot be had on our machines
 * (the Go module proxy refuses its module; observed with Pulumi v3.274), and an inline program
 * needs only the `pulumi` binary: the Automation API serves the language runtime from this Node
 * process. `workDir` is the project root, so the engine reads `Pulumi.yaml` (backend,
 * `stackConfigDir: stacks`) and `stacks/Pulumi.<stack>.yaml` exactly as the official CLI does,
 * and the dynamic-provider process runs there and resolves `@pulumi/pulumi` and our providers
 * from it (observed against Pulumi v3.274; cf. https://github.com/pulumi/pulumi/issues/5578).
 */
import { existsSync, mkdirSync, realpathSync } from "node:fs";
import path from "node:path";
import process from "node:process";
import { PulumiCommand, type PulumiFn, type Stack } from "@pulumi/pulumi/automation/index.js";
import { UsageError } from "../cli/command.ts";
import { selectStack } from "./select.ts";

/** The stack that targets the local sandbox; the only one with a default passphrase. */
export const SANDBOX_STACK = "sandbox";
/**
 * Passphrase of the sandbox stack's secrets, documented in the README. It protects only values
 * of the local emulator (e.g. generated initial passwords of sandbox users); every other stack
 * must get its passphrase from PULUMI_CONFIG_PASSPHRASE(_FILE) or use another secrets provider.
 */
export const SANDBOX_PASSPHRASE = "d365-access-sandbox";
/** The project name in Pulumi.yaml. */
export const PROJECT_NAME = "d365-access";

export interface OpenStackOptions {
  /** Project root (holds Pulumi.yaml and node_modules). */
  root: string;
  stack: string;
  /** The Pulumi program: a function that declares resources and returns the stack outputs. */
  program: PulumiFn;
  /** Extra environment for the engine and the provider process. */
  env?: Record<string, string>;
  /** Create the stack if the backend does not hold it (`--create`); see select.ts. */
  create?: boolean;
  /** Whether the command offers `--create` (for the refusal's wording). */
  canCreate?: boolean;
}

/** Environment the engine runs with: our tools on PATH, no update check, no plugin downloads. */
export function engineEnvironment(root: string, stack: string): Record<string, string> {
  const env: Record<string, string> = {
    // The engine finds the bundled dynamic-provider plugin and `node` on PATH; ours come first.
    PATH: [
      path.join(root, ".tools", "bin"),
      path.join(root, "node_modules", ".bin"),
      process.env.PATH ?? "",
    ].join(path.delimiter),
    D365_ACCESS_ROOT: root,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
  // With the plugin beside the real pulumi binary (official installs; scripts/toolchain copies it
  // beside the one it builds), PATH lookup is not needed and turning it off silences the
  // engine's "using pulumi-resource-pulumi-nodejs from $PATH" warning in every preview.
  const linked = path.join(root, ".tools", "bin", "pulumi");
  if (
    existsSync(linked) &&
    existsSync(path.join(path.dirname(realpathSync(linked)), "pulumi-resource-pulumi-nodejs"))
  ) {
    env.PULUMI_IGNORE_AMBIENT_PLUGINS = "true";
  }
  // The file and azblob backends store the whole state and rewrite it after every step:
  // gzipped it is about a tenth of the bytes (bench/RESULTS.md), stored and uploaded. Pulumi
  // reads a `.json.gz` state whether or not this is set, so the official CLI still finds it.
  // An explicit PULUMI_DIY_BACKEND_GZIP (e.g. `false`) wins.
  if (process.env.PULUMI_DIY_BACKEND_GZIP === undefined) env.PULUMI_DIY_BACKEND_GZIP = "true";
  const hasPassphrase =
    process.env.PULUMI_CONFIG_PASSPHRASE !== undefined ||
    process.env.PULUMI_CONFIG_PASSPHRASE_FILE !== undefined;
  if (!hasPassphrase && stack === SANDBOX_STACK) env.PULUMI_CONFIG_PASSPHRASE = SANDBOX_PASSPHRASE;
  return env;
}

/** Thrown for set-up problems the user must fix (exit code 2, no stack trace). */
export { UsageError } from "../cli/command.ts";

/** The `pulumi` the toolchain linked into `.tools/bin` (scripts/toolchain). */
export async function pulumiCommand(root: string): Promise<PulumiCommand> {
  const tools = path.join(root, ".tools");
  if (!existsSync(path.join(tools, "bin", "pulumi"))) {
    throw new UsageError(
      "the pulumi CLI is not set up: run `npm install` (or `bash scripts/toolchain`) first",
    );
  }
  return PulumiCommand.get({ root: tools });
}

/** Creates or selects the stack in the project's backend, ready for preview/up/refresh/destroy. */
export async function openStack(options: OpenStackOptions): Promise<Stack> {
  const { root, stack } = options;
  const env = { ...engineEnvironment(root, stack), ...options.env };
  const needsPassphrase = () => {
    if (
      !process.env.PULUMI_CONFIG_PASSPHRASE &&
      !process.env.PULUMI_CONFIG_PASSPHRASE_FILE &&
      !env.PULUMI_CONFIG_PASSPHRASE
    ) {
      throw new UsageError(
        `stack "${stack}" needs a secrets passphrase: set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE ` +
          `(only the "${SANDBOX_STACK}" stack has a built-in default)`,
      );
    }
  };
  // The default backend is the file backend in Pulumi.yaml (`file://./.pulumi-state`): it must exist.
  if (!process.env.PULUMI_BACKEND_URL) mkdirSync(path.join(root, ".pulumi-state"), { recursive: true });
  return selectStack(
    options,
    {
      workDir: root,
      program: options.program,
      pulumiCommand: await pulumiCommand(root),
      envVars: env,
      secretsProvider: "passphrase",
    },
    needsPassphrase,
  );
}

/** The project root: D365_ACCESS_ROOT (set by scripts/with-node), else two levels above this file. */
export function projectRoot(): string {
  return process.env.D365_ACCESS_ROOT ?? path.resolve(import.meta.dirname, "..", "..");
}

/**
 * Environment variable: the number of resource changes from which `up` and `destroy` skip the
 * engine's intermediate checkpoints (`PULUMI_SKIP_CHECKPOINTS`); `never` turns the switch off.
 */
export const SKIP_CHECKPOINTS_ABOVE_ENV = "D365_ACCESS_SKIP_CHECKPOINTS_ABOVE";
/**
 * The default threshold. The file and `azblob://` backends rewrite the whole state after every
 * step, so a run of N changes on a stack of M resources writes about N × M resources' worth:
 * 300 users (871 creates) took 75 s with checkpoints against 11 s without, 1,000 users 712 s
 * against 45 s (bench/RESULTS.md). Below ~200 changes the difference is seconds, and
 * checkpoints keep every finished step recorded should the run be killed.
 */
export const DEFAULT_SKIP_CHECKPOINTS_ABOVE = 200;

/**
 * Whether a run expecting `changes` resource changes writes the state only at the end:
 * `--skip-checkpoints` forces it; otherwise from {@link DEFAULT_SKIP_CHECKPOINTS_ABOVE} changes on
 * (or the threshold in {@link SKIP_CHECKPOINTS_ABOVE_ENV}). Safe because every operation is
 * idempotent and the adopt/create decision travels in the resource inputs, so a re-run after a
 * crash converges (README, "Large tenants"). `note` says why, for the run's output.
 */
export function checkpointChoice(
  changes: number,
  forced: boolean,
  env: NodeJS.ProcessEnv = process.env,
): { skip: boolean; note?: string } {
  if (forced) return { skip: true, note: "--skip-checkpoints: the state is written once, at the end" };
  const raw = env[SKIP_CHECKPOINTS_ABOVE_ENV]?.trim();
  if (raw === "never") return { skip: false };
  const threshold = raw === undefined || raw === "" ? DEFAULT_SKIP_CHECKPOINTS_ABOVE : Number(raw);
  if (!Number.isInteger(threshold) || threshold < 1)
    throw new UsageError(`${SKIP_CHECKPOINTS_ABOVE_ENV} must be a positive integer or "never", got "${raw}"`);
  if (changes < threshold) return { skip: false };
  return {
    skip: true,
    note: `${changes} resource changes expected (${SKIP_CHECKPOINTS_ABOVE_ENV}=${threshold}): the state is written once, at the end, not after every step`,
  };
}
