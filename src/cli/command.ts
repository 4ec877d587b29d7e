/**
 * The one way to write a `d365-access` subcommand: options parsed by `node:util` `parseArgs`
 * (strict: an unknown option is a usage error), the same `--help` layout for every command, and
 * the same exit codes (0 ok, 1 failure, 2 usage error: the message and the help on stderr).
 */
import process from "node:process";
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { fitText } from "./width.ts";

/** A usage problem found after parsing (a bad value); exits 2 with the command's help. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** What a command declares. */
export interface CommandSpec<O extends ParseArgsOptionsConfig> {
  /** The command as typed, e.g. `validate` or `sandbox`. */
  name: string;
  /** The arguments after the name in the usage line, e.g. `[files…] [--format text|json|github]`. */
  synopsis: string;
  /** What it does, one paragraph. */
  description: string;
  /** Options as `parseArgs` takes them; `--help`/`-h` is added. */
  options: O;
  /** One line per option (and positional) for the help, e.g. `  --out FILE   write to FILE`. */
  help: string[];
  /** Whether positional arguments are accepted. Default false. */
  positionals?: boolean;
  /** A closing paragraph (exit codes, examples). */
  epilog?: string;
  /** Runs the command; resolves to the exit code. Throw {@link UsageError} for a bad value. */
  run(args: {
    values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>["values"];
    positionals: string[];
  }): Promise<number>;
}

/** The help text of a command. */
export function helpOf(
  spec: Pick<CommandSpec<ParseArgsOptionsConfig>, "name" | "synopsis" | "description" | "help" | "epilog">,
): string {
  const lines = [`usage: d365-access ${spec.name} ${spec.synopsis}`.trimEnd(), "", spec.description, ""];
  lines.push("options:", ...spec.help, "  -h, --help               show this help");
  if (spec.epilog) lines.push("", spec.epilog);
  return `${lines.join("\n")}\n`;
}

/** A runnable command: `argv` after the command's name → exit code. */
export type Command = (argv: string[]) => Promise<number>;

/** Turns a {@link CommandSpec} into a {@link Command}. */
export function defineCommand<O extends ParseArgsOptionsConfig>(spec: CommandSpec<O>): Command {
  const usageError = (message: string): number => {
    process.stderr.write(`d365-access ${spec.name}: ${message}\n\n${helpOf(spec)}`);
    return 2;
  };
  return async (argv) => {
    let parsed: { values: Record<string, unknown>; positionals: string[] };
    try {
      parsed = parseArgs({
        args: argv,
        options: { ...spec.options, help: { type: "boolean", short: "h", default: false } },
        allowPositionals: true,
        strict: true,
      });
    } catch (e) {
      return usageError((e as Error).message);
    }
    if (parsed.values.help) {
      process.stdout.write(fitText(helpOf(spec)));
      return 0;
    }
    if (!spec.positionals && parsed.positionals.length > 0)
      return usageError(`unexpected arguments: ${parsed.positionals.join(" ")}`);
    try {
      return await spec.run(parsed as Parameters<CommandSpec<O>["run"]>[0]);
    } catch (e) {
      if (e instanceof UsageError) return usageError(e.message);
      throw e;
    }
  };
}

/** The value of an option that takes one of `choices`; a {@link UsageError} otherwise. */
export function oneOf<T extends string>(option: string, value: unknown, choices: readonly T[]): T {
  if (typeof value === "string" && (choices as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${option} must be one of ${choices.join(", ")}, got ${JSON.stringify(value)}`);
}
