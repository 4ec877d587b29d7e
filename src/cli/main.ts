/**
 * `d365-access`: the project's command line. Each command lives in its own module, loaded only
 * when used, and returns its exit code (0 ok, 1 failure, 2 usage error).
 */
import process from "node:process";
import { fitText } from "./width.ts";

export interface Command {
  summary: string;
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run: (argv: string[]) => Promise<number>;
}

const engine =
  (operation: "preview" | "up" | "refresh" | "destroy") =>
  async (argv: string[]): Promise<number> =>
    (await import("./engine.ts")).run(operation, argv);

export const commands: Record<string, Command> = {
  preview: { summary: "show the changes `up` would make (pulumi preview)", run: engine("preview") },
  up: { summary: "apply users.yaml to Entra, Dataverse and F&O (pulumi up)", run: engine("up") },
  refresh: { summary: "read the live state of every managed user (pulumi refresh)", run: engine("refresh") },
  destroy: {
    summary: "revoke everything the stack granted; disables, never deletes users (pulumi destroy)",
    run: engine("destroy"),
  },
  recover: {
    summary: "recover a stack after an interrupted run: stale lock, unfinished operations, truncated state",
    run: async (argv) => (await import("./recover.ts")).run(argv),
  },
  validate: {
    summary: "check users.yaml files without calling any API",
    run: async (argv) => (await import("./validate.ts")).run(argv),
  },
  sandbox: {
    summary: "start, stop, reset the local emulator of the Microsoft APIs",
    run: async (argv) => (await import("./sandbox.ts")).run(argv),
  },
  export: {
    summary: "write users.yaml from what the tenant holds (adopting an existing tenant)",
    run: async (argv) => (await import("./export.ts")).run(argv),
  },
  report: {
    summary: "print the access matrix (Markdown or HTML)",
    run: async (argv) => (await import("./report.ts")).run(argv),
  },
  "preview-comment": {
    summary: "render a preview's pull-request comment: declared access changes and the preview",
    run: async (argv) => (await import("./preview-comment.ts")).run(argv),
  },
  demo: {
    summary: "start the sandbox, preview and apply the demo users.yaml, print the report",
    run: async (argv) => (await import("./demo.ts")).run(argv),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: d365-access <command> [options]\n\ncommands:\n${lines.join("\n")}\n\nRun 'd365-access <command> --help' for a command's options.`;
}

export async function main(argv: string[]): Promise<number> {
  // `--verbose` is understood by every command: raw engine output and stack traces.
  if (argv.includes("--verbose")) process.env.D365_ACCESS_VERBOSE = "1";
  const [name, ...rest] = argv.filter((arg) => arg !== "--verbose");
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${fitText(usage())}\n`);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`d365-access: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  return command.run(rest);
}

/** The one line an error that escaped a command prints; its stack only with --verbose. */
export async function escapedError(err: unknown): Promise<string> {
  const { errorLine } = await import("../../providers/core/provider.ts");
  const verbose = Boolean(process.env.D365_ACCESS_VERBOSE || process.env.D365_ACCESS_DEBUG);
  if (verbose && err instanceof Error) return `d365-access: ${err.stack ?? err.message}\n`;
  return `d365-access: ${errorLine(err)}${err instanceof Error && !["ApiError", "SettingsError", "UsageError"].includes(err.name) ? " (run with --verbose for the stack trace)" : ""}\n`;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    async (err: unknown) => {
      process.stderr.write(await escapedError(err));
      process.exitCode = 1;
    },
  );
}
