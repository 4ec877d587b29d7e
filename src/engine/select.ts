/**
 * Selecting the stack a command names: an existing stack of the backend, or one declared by its
 * config file `stacks/Pulumi.<name>.yaml` (created on first use, as a fresh clone's `sandbox`).
 * Anything else is refused unless the command was given `--create`: `--stack prdo` (a typo of
 * prod) would otherwise silently start a new, empty state and plan to create every user again.
 */
import { readdirSync } from "node:fs";
import path from "node:path";
import {
  LocalWorkspace,
  type LocalWorkspaceOptions,
  Stack,
  StackNotFoundError,
} from "@pulumi/pulumi/automation/index.js";
import { UsageError } from "../cli/command.ts";

/** Stack names that have a config file in `stacks/` (Pulumi.yaml `stackConfigDir: stacks`). */
export function configuredStacks(root: string): string[] {
  try {
    return readdirSync(path.join(root, "stacks"))
      .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
      .filter((name): name is string => name !== undefined && name !== "example");
  } catch {
    return [];
  }
}

/** How the command may come by its stack. */
export interface SelectOptions {
  root: string;
  stack: string;
  /** `--create`: a stack the backend does not hold is created. */
  create?: boolean;
  /** Whether the command offers `--create` (named in the refusal). */
  canCreate?: boolean;
}

/** Selects (or, as allowed, creates) the stack in the workspace the options describe. */
export async function selectStack(
  options: SelectOptions,
  workspace: LocalWorkspaceOptions & { program: NonNullable<LocalWorkspaceOptions["program"]> },
  /** Checks what using the stack needs (its secrets passphrase); throws when it is missing. */
  ready: () => void = () => {},
): Promise<Stack> {
  const ws = await LocalWorkspace.create(workspace);
  try {
    const found = await Stack.select(options.stack, ws);
    ready();
    return found;
  } catch (e) {
    if (!(e instanceof StackNotFoundError)) throw e;
  }
  if (options.create || configuredStacks(options.root).includes(options.stack)) {
    ready();
    return Stack.create(options.stack, ws);
  }
  const existing = (await ws.listStacks()).map((s) => s.name);
  const known = [...new Set([...existing, ...configuredStacks(options.root)])].sort();
  throw new UsageError(
    `unknown stack ${options.stack}: known stacks are ${known.join(", ") || "none"}` +
      (options.canCreate === false ? "" : "; create it with --create"),
  );
}
